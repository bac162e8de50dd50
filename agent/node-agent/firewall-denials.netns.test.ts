/**
 * Root only: in a lab namespace, a rule like a firewall's deny rule logs to the denial group with
 * the kernel's rate limit, and a foreign rule logs every packet to the same group; a second
 * process floods both with UDP while FirewallDenials reads the group (testing/denial-flood.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { NetnsLab } from '../../lib/dataplane/announcer/testing/netns-lab.js';
import { hasCommand, runCommand } from '../../lib/dataplane/announcer/testing/run-command.js';
import { DEFAULT_CONFIG } from '../../lib/planner/config.js';
import { DESTINATION, POD, RULE, TEST_BUDGET, type FloodSummary } from './testing/denial-flood-setup.js';

const FLOOD = fileURLToPath(new URL('./testing/denial-flood.js', import.meta.url));
const GROUP = DEFAULT_CONFIG.firewallLogGroup;
const SECONDS = 3;
/** The kernel's limit on the firewall-like rule: 5 a second, 10 at once. */
const KERNEL = { rate: 5, burst: 10 };

async function skipReason(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces); run as root to include it';
  for (const cmd of ['ip', 'nft']) if (!(await hasCommand(cmd))) return `needs ${cmd} on PATH`;
  return undefined;
}

const ruleset = `table inet sl_fwlog {
  chain out {
    type filter hook output priority 0; policy accept;
    ip daddr ${DESTINATION} udp dport 443 limit rate ${KERNEL.rate}/second burst ${KERNEL.burst} packets log prefix "${RULE.prefix}" group ${GROUP}
    ip daddr ${DESTINATION} udp dport 443 counter drop
    ip daddr ${DESTINATION} udp dport 444 log prefix "foreign rule" group ${GROUP}
    ip daddr ${DESTINATION} udp dport 444 counter drop
  }
}
`;

/** The value of one sample of a counter in Prometheus text, 0 when absent. */
function sample(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

test('a flood of denials: lines rate-limited and complete, the rest counted, the reader responsive with bounded memory', async (t) => {
  const skip = await skipReason();
  if (skip !== undefined) return void t.skip(skip);
  const lab = new NetnsLab('fwl');
  try {
    const ns = await lab.add('n');
    await lab.ip(ns, 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1');
    await lab.ip(ns, 'addr', 'add', `${POD.address}/24`, 'dev', 'v0');
    await lab.ip(ns, 'link', 'set', 'v0', 'up');
    await lab.ip(ns, 'link', 'set', 'v1', 'up');
    await lab.ip(ns, 'route', 'add', '203.0.113.0/24', 'dev', 'v0');
    await runCommand('sh', ['-c', `printf '%s' "$0" | ip netns exec ${ns} nft -f -`, ruleset]);
    const out = await runCommand(
      'ip',
      ['netns', 'exec', ns, process.execPath, FLOOD, '--group', String(GROUP), '--seconds', String(SECONDS), '--port', '443', '--port', '444'],
      60_000,
    );
    const summary = JSON.parse(out.stdout.trim().split('\n').pop()!) as FloodSummary;
    assert.ok(summary.sent > 2000, `a flood: ${summary.sent} packets sent`);

    const ours = summary.lines.filter((l) => l.firewall === RULE.firewall);
    const foreign = summary.lines.filter((l) => l.prefix === 'foreign rule');
    const window = SECONDS + 2;
    assert.ok(ours.length >= 1, 'the firewall rule logged');
    assert.ok(ours.length <= KERNEL.burst + KERNEL.rate * window, `the kernel's limit holds for the firewall rule: ${ours.length} lines`);
    for (const l of ours) {
      assert.deepEqual(
        { pod: l.pod, source: l.source, destination: l.destination, protocol: l.protocol, port: l.port, rule: l.rule },
        { pod: POD.name, source: POD.address, destination: DESTINATION, protocol: 'udp', port: 443, rule: RULE.rule },
      );
    }
    assert.ok(foreign.length >= 1, 'a foreign prefix is written as such');
    assert.ok(foreign.every((l) => l.firewall === undefined && l.port === 444));
    assert.ok(summary.lines.length <= TEST_BUDGET.burst + TEST_BUDGET.linesPerSecond * window, `the agent's budget holds against an unlimited rule: ${summary.lines.length} lines`);

    const m = summary.metrics;
    assert.equal(sample(m, 'sluice_firewall_denials_logged_total', `firewall="${RULE.firewall}",rule="${RULE.rule}"`), ours.length, 'one count per line');
    assert.equal(sample(m, 'sluice_firewall_denials_logged_total', 'firewall="other",rule="other"'), foreign.length);
    const unlogged = sample(m, 'sluice_firewall_denials_unlogged_total', 'reason="budget"') + sample(m, 'sluice_firewall_denials_unlogged_total', 'reason="overflow"');
    assert.ok(unlogged > 0, 'what is over the budget is counted');
    assert.ok(summary.maxLagMs < 1000, `the event loop kept running: worst lag ${Math.round(summary.maxLagMs)} ms`);
    assert.ok(summary.rssGrowthBytes < 96 * 1024 * 1024, `memory bounded: grew ${Math.round(summary.rssGrowthBytes / 1048576)} MiB`);
    t.diagnostic(
      `sent ${summary.sent}, lines ${summary.lines.length} (firewall ${ours.length}), unlogged ${unlogged}, worst lag ${Math.round(summary.maxLagMs)} ms, rss +${Math.round(summary.rssGrowthBytes / 1048576)} MiB`,
    );
  } finally {
    const problems = await lab.cleanup();
    assert.deepEqual(problems, []);
  }
});
