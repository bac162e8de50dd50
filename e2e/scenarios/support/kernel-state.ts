/**
 * What a node's kernel holds and how often sluice wrote to it, read from outside the agent: the
 * agent's own counter (`sluice_kernel_writes_total` on its metrics address, the node's IP as the
 * DaemonSet has it) and a listing of everything sluice owns, to compare before and after an event.
 */
import { AGENT_METRICS_PORT } from '../../labkit/cluster/agent-daemon.js';
import type { Lab } from '../../labkit/lab.js';

const READ_TIMEOUT_MS = 10_000;
const KERNEL_WRITES = /^sluice_kernel_writes_total\{subsystem="([^"]+)"\} (\d+(?:\.\d+)?(?:e\+\d+)?)$/;

/** The agent's kernel writes so far, by subsystem (subsystems never written are absent). */
export async function kernelWrites(lab: Lab, node: string): Promise<Record<string, number>> {
  return (await agentCounters(lab, node)).kernelWrites;
}

/** What the agent's /metrics says about its kernel writes and whether it holds the controller Lease. */
export async function agentCounters(lab: Lab, node: string): Promise<{ kernelWrites: Record<string, number>; leader: boolean }> {
  const ip = (await lab.state()).nodes.find((n) => n.name === node)?.ips[0];
  if (!ip) throw new Error(`node ${node} has no address in the lab`);
  const r = await lab.exec({ node }, ['curl', '-sS', '--max-time', '5', `http://${ip.includes(':') ? `[${ip}]` : ip}:${AGENT_METRICS_PORT}/metrics`], {
    timeoutMs: READ_TIMEOUT_MS,
  });
  const writes: Record<string, number> = {};
  let leader = false;
  for (const line of r.stdout.split('\n')) {
    const m = KERNEL_WRITES.exec(line);
    if (m) writes[m[1]!] = Number(m[2]);
    if (line === 'sluice_leader 1') leader = true;
  }
  return { kernelWrites: writes, leader };
}

export function totalOf(writes: Record<string, number>): number {
  return Object.values(writes).reduce((a, b) => a + b, 0);
}

/**
 * Everything sluice owns on the node, in a stable text form: its nft table without counters
 * (`nft -s`), the policy-routing rules, every routing table, the addresses of every link, and the
 * tunnel device. Neighbour entries are left out: their state moves with traffic.
 */
export async function kernelListing(lab: Lab, node: string): Promise<string> {
  const commands = [
    ['nft', '-s', 'list', 'table', 'inet', 'sluice'],
    ['ip', 'rule', 'show'],
    ['ip', '-6', 'rule', 'show'],
    ['ip', 'route', 'show', 'table', 'all'],
    ['ip', '-6', 'route', 'show', 'table', 'all'],
    ['ip', '-br', 'addr', 'show'],
    ['ip', '-d', 'link', 'show', 'dev', 'egress.vxlan'],
    ['bridge', 'fdb', 'show', 'dev', 'egress.vxlan'],
  ];
  const parts = await Promise.all(
    commands.map(async (argv) => {
      // A busy machine can make a read time out: that says nothing about the kernel, so read again.
      for (let attempt = 1; ; attempt++) {
        const r = await lab.exec({ node }, argv, { allowFailure: true, timeoutMs: READ_TIMEOUT_MS * attempt });
        if (r.exitCode !== 124) return `# ${argv.join(' ')} (exit ${r.exitCode})\n${r.exitCode === 0 ? r.stdout : r.stderr}`;
        if (attempt === 3) throw new Error(`${node}: ${argv.join(' ')} timed out three times`);
      }
    }),
  );
  return parts.join('\n');
}

/** The node's nft tables whose name contains `marker`: what a command injected through a ruleset would leave. */
export async function nftTablesNamed(lab: Lab, node: string, marker: string): Promise<string[]> {
  const r = await lab.exec({ node }, ['nft', 'list', 'tables'], { timeoutMs: READ_TIMEOUT_MS });
  return r.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.includes(marker));
}

/** The first line on which two listings differ, for an assertion message. */
export function firstDifference(before: string, after: string): string {
  const a = before.split('\n');
  const b = after.split('\n');
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) return `line ${i + 1}: before ${JSON.stringify(a[i] ?? '')}, after ${JSON.stringify(b[i] ?? '')}`;
  }
  return 'none';
}
