/**
 * The prober's worker thread: this process's prober on 127.0.0.2, watched by a prober in a child
 * process on 127.0.0.3 (its own event loop, so it sees what the network sees while this thread is
 * blocked). Blocking is a synchronous Atomics.wait on this thread. Bounds are generous functional
 * ones, never timing targets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { BoundedProcess } from '../dataplane/announcer/testing/bounded-process.js';
import type { ProbeLogger } from './probe-observers.js';
import { Prober, type ProberThreadOptions } from './prober.js';
import { crashMarker } from './testing/crash-marker.js';
import type { NodeLine } from './testing/netns-node.js';

const NODE = fileURLToPath(new URL('./testing/netns-node.js', import.meta.url));
const CRASH_ONCE = new URL('./testing/crash-once-probe-worker.js', import.meta.url);
/** Window 100 ms: a 1 s block is ten windows. */
const FAST = { intervalMs: 20, misses: 5, holdDownMs: 0 } as const;
let nextPort = 40_000 + (process.pid % 20_000);

async function until(what: string, condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await sleep(10);
  }
}

/** Blocks this thread: no timer, message or I/O callback runs meanwhile. */
function block(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function lines(p: BoundedProcess): NodeLine[] {
  return p.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as NodeLine);
}

/** This process's prober n2 and the watcher n3 in a child process, hearing each other. */
async function pair(options: Partial<ProberThreadOptions> = {}): Promise<{ p2: Prober; watcher: BoundedProcess; port: number; close: () => Promise<void> }> {
  const port = nextPort++;
  const p2 = await Prober.start({ ...FAST, ...options, node: 'n2', addresses: ['127.0.0.2'], port });
  p2.setPeers([{ node: 'n3', address: '127.0.0.3' }]);
  const args = [
    '--node',
    'n3',
    '--address',
    '127.0.0.3',
    '--peer',
    'n2=127.0.0.2',
    '--port',
    String(port),
    '--interval-ms',
    '20',
    '--misses',
    '5',
    '--hold-down-ms',
    '0',
    '--max-ms',
    '60000',
  ];
  const watcher = new BoundedProcess(process.execPath, [NODE, ...args]);
  const close = async () => {
    watcher.kill();
    await watcher.exited(10_000).catch(() => null);
    await p2.close();
  };
  try {
    await watcher.stderrIncludes('probing from', 10_000);
    await until('n3 hears n2', () => lines(watcher).at(-1)?.peers.n2?.heard === true);
    await until('n2 hears n3', () => p2.view().peers.get('n3')?.heard === true);
  } catch (err) {
    await close();
    throw err;
  }
  return { p2, watcher, port, close };
}

test('a thread blocked for 1 s still answers probes: the peer never sees it unheard, dead or unhealthy', async () => {
  const { p2, watcher, close } = await pair();
  try {
    const before = lines(watcher).length;
    const answered = p2.stats().answered;
    block(1000);
    await sleep(300);
    const seen = lines(watcher)
      .slice(before)
      .map((l) => l.peers.n2!);
    assert.ok(
      seen.every((v) => v.heard && v.alive && v.healthy),
      `n3 saw n2 as ${JSON.stringify(seen)}`,
    );
    assert.deepEqual(lines(watcher).at(-1)!.peers.n2, { heard: true, alive: true, healthy: true });
    // 50 probes came in during the second: the worker answered them then.
    await until('the answers are counted', () => p2.stats().answered - answered >= 25);
  } finally {
    await close();
  }
});

test('a thread silent for longer than unhealthyAfterMs makes its answers say unhealthy, until it runs again', async () => {
  const warnings: Record<string, unknown>[] = [];
  const logger: ProbeLogger = { debug() {}, info() {}, warn: (obj) => void warnings.push(obj) };
  const { p2, watcher, close } = await pair({ unhealthyAfterMs: 300, logger });
  try {
    const before = lines(watcher).length;
    block(1000);
    await until('n3 saw n2 unhealthy', () =>
      lines(watcher)
        .slice(before)
        .some((l) => l.peers.n2?.healthy === false),
    );
    const unhealthy = lines(watcher)
      .slice(before)
      .find((l) => l.peers.n2?.healthy === false)!;
    assert.deepEqual(unhealthy.peers.n2, { heard: true, alive: true, healthy: false }, 'still answering, only not healthy');
    await until('n3 sees n2 healthy again', () => lines(watcher).at(-1)?.peers.n2?.healthy === true);
    await until('the worker said why', () => warnings.some((w) => w.op === 'liveness'));
    p2.setSelf({ healthy: false, draining: false, holds: [] });
    await until("the agent's own word still counts", () => lines(watcher).at(-1)?.peers.n2?.healthy === false);
  } finally {
    await close();
  }
});

test('a worker that dies is counted and started again; the prober carries on and closes its socket', async () => {
  const warnings: Record<string, unknown>[] = [];
  const logger: ProbeLogger = { debug() {}, info() {}, warn: (obj) => void warnings.push(obj) };
  const port = nextPort;
  const marker = crashMarker(port);
  fs.rmSync(marker, { force: true });
  const { p2, watcher, close } = await pair({ workerScript: CRASH_ONCE, logger });
  try {
    await until('the death is counted', () => p2.stats().errors.EGW_ERR_PROBE_WORKER === 1);
    assert.ok(
      warnings.some((w) => w.code === 'EGW_ERR_PROBE_WORKER'),
      JSON.stringify(warnings),
    );
    assert.ok(p2.view().peers.has('n3'), 'the view stays as it was');
    await until('n3 saw n2 dead while it was down', () => lines(watcher).some((l) => l.peers.n2?.alive === false));
    await until('n3 hears n2 again', () => lines(watcher).at(-1)?.peers.n2?.heard === true);
    await until('n2 hears n3 again', () => p2.stats().accepted > 0 && p2.view().peers.get('n3')?.heard === true);
    assert.equal(p2.stats().errors.EGW_ERR_PROBE_WORKER, 1);
  } finally {
    await close();
    fs.rmSync(marker, { force: true });
  }
  // closed: the port is free again
  const udp = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    udp.once('error', reject);
    udp.bind({ address: '127.0.0.2', port, exclusive: true }, () => resolve());
  });
  udp.close();
});
