/**
 * Root only: three nodes in their own network namespaces on one bridge (a fourth namespace holds
 * it), each running a prober in its own process over IPv6 with the default port. A node's link
 * going down is seen as a death by the other two; its link coming back makes it alive again only
 * after the hold-down.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { BoundedProcess } from '../dataplane/announcer/testing/bounded-process.js';
import { NetnsLab } from '../dataplane/announcer/testing/netns-lab.js';
import { hasCommand } from '../dataplane/announcer/testing/run-command.js';
import type { NodeLine } from './testing/netns-node.js';

const NODE = fileURLToPath(new URL('./testing/netns-node.js', import.meta.url));
const NODES = [1, 2, 3].map((i) => ({ name: `node-${i}`, v4: `198.18.0.${i}`, v6: `fd00:198:18::${i}` }));
const HOLD_DOWN_MS = 1000;

async function skipReason(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces); run as root to include it';
  if (!(await hasCommand('ip'))) return 'needs ip on PATH';
  return undefined;
}

/** The last view a node process printed. */
function lastLine(p: BoundedProcess): NodeLine | undefined {
  const lines = p.stdout
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'));
  return lines.length === 0 ? undefined : (JSON.parse(lines[lines.length - 1]!) as NodeLine);
}

/** Every line a node process printed. */
function lines(p: BoundedProcess): NodeLine[] {
  return p.stdout
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as NodeLine);
}

async function until(what: string, condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await sleep(25);
  }
}

test('probers in three namespaces see a node whose link goes down die, and come back after the hold-down', async (t) => {
  const skip = await skipReason();
  if (skip !== undefined) {
    t.skip(skip);
    return;
  }
  const lab = new NetnsLab('prb');
  const processes: BoundedProcess[] = [];
  let cleanupProblems: string[] = [];
  try {
    const lan = await lab.add('lan');
    await lab.ip(lan, 'link', 'add', 'br0', 'type', 'bridge');
    await lab.ip(lan, 'link', 'set', 'br0', 'up');
    const spaces: string[] = [];
    for (const [i, n] of NODES.entries()) {
      const ns = await lab.add(`n${i + 1}`);
      spaces.push(ns);
      await lab.ip(ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', `p${i + 1}`, 'netns', lan);
      await lab.ip(lan, 'link', 'set', `p${i + 1}`, 'master', 'br0', 'up');
      await lab.ip(ns, 'addr', 'add', `${n.v4}/24`, 'dev', 'eth0');
      await lab.ip(ns, 'addr', 'add', `${n.v6}/64`, 'dev', 'eth0', 'nodad');
      await lab.ip(ns, 'link', 'set', 'eth0', 'up');
    }
    for (const [i, n] of NODES.entries()) {
      const peers = NODES.filter((o) => o !== n).flatMap((o) => ['--peer', `${o.name}=${o.v6}`]);
      const args = ['netns', 'exec', spaces[i]!, process.execPath, NODE, '--node', n.name, '--address', n.v4, '--address', n.v6, ...peers, '--hold-down-ms', String(HOLD_DOWN_MS)];
      processes.push(new BoundedProcess('ip', args));
    }
    for (const p of processes) await p.stderrIncludes('probing from 198.18.0.', 10_000);
    const sees = (from: number, node: string, state: { heard?: boolean; alive?: boolean }) => {
      const peer = lastLine(processes[from]!)?.peers[node];
      return peer !== undefined && Object.entries(state).every(([k, v]) => peer[k as 'heard' | 'alive'] === v);
    };
    await until('every node hears the others', () => [0, 1, 2].every((i) => NODES.filter((_, j) => j !== i).every((o) => sees(i, o.name, { heard: true, alive: true }))));

    await lab.ip(lan, 'link', 'set', 'p3', 'down');
    const downAt = Date.now();
    await until('node-1 and node-2 see node-3 dead', () => sees(0, 'node-3', { alive: false }) && sees(1, 'node-3', { alive: false }));
    await until('node-3 is isolated', () => lastLine(processes[2]!)?.isolated === true);
    assert.ok(sees(0, 'node-2', { heard: true, alive: true }), 'node-1 still hears node-2');
    t.diagnostic(`death seen ${lines(processes[0]!).find((l) => l.peers['node-3']?.alive === false)!.at - downAt} ms after the link went down (100 ms × 3 window)`);

    await lab.ip(lan, 'link', 'set', 'p3', 'up');
    await until('node-1 hears node-3 again', () => sees(0, 'node-3', { heard: true }));
    await until('node-1 sees node-3 alive again', () => sees(0, 'node-3', { alive: true }));
    const all = lines(processes[0]!);
    const back = all.slice(all.findIndex((l) => l.peers['node-3']?.alive === false));
    const heardAt = back.find((l) => l.peers['node-3']?.heard)!.at;
    const aliveAt = back.find((l) => l.peers['node-3']?.heard && l.peers['node-3']?.alive)!.at;
    assert.ok(aliveAt - heardAt >= HOLD_DOWN_MS - 100, `alive ${aliveAt - heardAt} ms after heard again`);
  } finally {
    for (const p of processes) p.kill();
    await Promise.all(processes.map((p) => p.exited(10_000).catch(() => null)));
    cleanupProblems = await lab.cleanup();
  }
  assert.deepEqual(cleanupProblems, []);
});
