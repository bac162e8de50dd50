/**
 * Root only: duplicate address detection through a veth pair between two lab namespaces. A LAN
 * host holds addresses of both families; the prober runs in the node's namespace as a child
 * process and must name the host's MAC for those, and nobody for free ones.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { BoundedProcess } from './testing/bounded-process.js';
import { NetnsLab } from './testing/netns-lab.js';
import type { ProberReport } from './testing/netns-prober.js';
import { hasCommand } from './testing/run-command.js';
import { PROBE_TIMING } from './duplicate-probe.js';

const PROBER = fileURLToPath(new URL('./testing/netns-prober.js', import.meta.url));
const HELD = ['198.18.0.2', '198.18.0.105', 'fd00:198:18::2', 'fd00:198:18::105'];
const FREE = ['198.18.0.106', 'fd00:198:18::106'];

test('a probe names the LAN host that holds an address, of either family, and nobody for a free one', async (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root (network namespaces, AF_PACKET); run as root to include it');
  if (!(await hasCommand('ip'))) return t.skip('needs ip on PATH');
  const lab = new NetnsLab();
  let prober: BoundedProcess | undefined;
  let cleanupProblems: string[] = [];
  try {
    const node = await lab.add('node');
    const host = await lab.add('host');
    await lab.ip(node, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'lan0', 'netns', host);
    await lab.ip(node, 'addr', 'add', '198.18.0.11/24', 'dev', 'eth0');
    await lab.ip(host, 'addr', 'add', '198.18.0.2/24', 'dev', 'lan0');
    // an address the host took as an EIP might be: a /32 beside its own
    await lab.ip(host, 'addr', 'add', '198.18.0.105/32', 'dev', 'lan0');
    await lab.ip(host, 'addr', 'add', 'fd00:198:18::2/64', 'dev', 'lan0', 'nodad');
    await lab.ip(host, 'addr', 'add', 'fd00:198:18::105/128', 'dev', 'lan0', 'nodad');
    await lab.ip(node, 'link', 'set', 'eth0', 'up');
    await lab.ip(host, 'link', 'set', 'lan0', 'up');
    await lab.waitReady(node, 'eth0');
    await lab.waitReady(host, 'lan0');
    const hostMac = await lab.macOf(host, 'lan0');

    prober = new BoundedProcess('ip', ['netns', 'exec', node, process.execPath, PROBER, '--ifname', 'eth0', ...[...HELD, ...FREE].flatMap((ip) => ['--ip', ip])]);
    assert.equal(await prober.exited(30_000), 0, `prober failed: ${prober.stderr}`);
    const { results } = JSON.parse(prober.stdout) as ProberReport;
    const byIp = new Map(results.map((r) => [r.ip, r]));
    t.diagnostic(results.map((r) => `${r.ip}: ${r.mac ?? 'free'} in ${r.ms.toFixed(0)} ms`).join('; '));
    for (const ip of HELD) assert.deepEqual([byIp.get(ip)?.mac, byIp.get(ip)?.error], [hostMac, null], ip);
    for (const ip of FREE) assert.deepEqual([byIp.get(ip)?.mac, byIp.get(ip)?.error], [null, null], ip);
    // A free address costs the whole probe time, never less: every probe went out and was waited for.
    const whole = (PROBE_TIMING.probes - 1) * PROBE_TIMING.intervalMs + PROBE_TIMING.waitMs;
    for (const ip of FREE) assert.ok(byIp.get(ip)!.ms >= whole, `${ip}: ${byIp.get(ip)!.ms} ms`);
  } finally {
    prober?.kill();
    await prober?.exited(5_000).catch(() => undefined);
    cleanupProblems = await lab.cleanup();
  }
  assert.deepEqual(cleanupProblems, [], 'cleanup');
});
