/**
 * Preloaded into an agent by bench/scale idle (`node --import …/wake-probe.js`): counts the timer
 * callbacks that run, by the place that set the timer. Intervals are always tracked (they are set
 * once, at start-up, when nothing is recording yet); timeouts only while recording, because
 * taking a stack costs CPU and the CPU window runs without it. Counting starts at the first
 * SIGUSR2; the second writes
 * `{ seconds, sites: [{ site, kind, delayMs, fired }] }` to $SLUICE_WAKE_PROBE_OUT and stops.
 * Timers from `node:timers/promises` and I/O (sockets, child processes) are not seen here; the
 * benchmark counts those through the process's context switches.
 * SIGWINCH runs a full garbage collection and writes process.memoryUsage() and the heap's spaces after it to
 * $SLUICE_MEMORY_PROBE_OUT: the heap that is really held, not what the collector has yet to free;
 * with $SLUICE_HEAP_SNAPSHOT_DIR set, it then writes a heap snapshot there (agent-PID.heapsnapshot)
 * and a copy of /proc/self/smaps (agent-PID.smaps: where the RSS outside the V8 heap is).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getHeapSpaceStatistics, setFlagsFromString, writeHeapSnapshot } from 'node:v8';
import { runInNewContext } from 'node:vm';

interface Site {
  kind: 'timeout' | 'interval';
  delayMs: number;
  fired: number;
}

const sites = new Map<string, Site>();
let recording = false;
let since = 0;
const OWN = /wake-probe\.js|node:internal|^Error$/;

function callSite(): string {
  const frames = (new Error().stack ?? '').split('\n').map((l) => l.trim());
  const own = frames.filter((f) => !OWN.test(f));
  // the first frame of ours is the most useful; a dependency's frame follows it for context
  const mine = own.find((f) => f.includes('/dist/')) ?? own[0] ?? 'unknown';
  return mine.replace(/^at /, '').replace(/file:\/\/\S*\/dist\//, '');
}

function wrap<T extends (...args: never[]) => unknown>(kind: Site['kind'], original: T): T {
  return function (this: unknown, callback: unknown, delay?: number, ...rest: unknown[]) {
    if ((!recording && kind === 'timeout') || typeof callback !== 'function') return (original as unknown as (...a: unknown[]) => unknown).call(this, callback, delay, ...rest);
    const key = `${kind} ${callSite()}`;
    const site = sites.get(key) ?? { kind, delayMs: Number(delay ?? 0), fired: 0 };
    sites.set(key, site);
    const counted = function (this: unknown, ...args: unknown[]) {
      if (recording) site.fired++;
      return (callback as (...a: unknown[]) => unknown).apply(this, args);
    };
    return (original as unknown as (...a: unknown[]) => unknown).call(this, counted, delay, ...rest);
  } as unknown as T;
}

globalThis.setTimeout = wrap('timeout', globalThis.setTimeout);
globalThis.setInterval = wrap('interval', globalThis.setInterval);

process.on('SIGUSR2', () => {
  if (!recording) {
    recording = true;
    since = performance.now();
    return;
  }
  recording = false;
  const out = process.env.SLUICE_WAKE_PROBE_OUT;
  const list = [...sites]
    .map(([site, s]) => ({ site, ...s }))
    .filter((s) => s.fired > 0)
    .sort((a, b) => b.fired - a.fired);
  if (out) writeFileSync(out, JSON.stringify({ seconds: (performance.now() - since) / 1000, sites: list }));
});

setFlagsFromString('--expose-gc');
const fullGc = runInNewContext('gc') as () => void;
process.on('SIGWINCH', () => {
  fullGc();
  const out = process.env.SLUICE_MEMORY_PROBE_OUT;
  const spaces = Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, { size: s.space_size, used: s.space_used_size }]));
  if (out) writeFileSync(out, JSON.stringify({ ...process.memoryUsage(), spaces }));
  const snapshots = process.env.SLUICE_HEAP_SNAPSHOT_DIR;
  if (snapshots) {
    writeFileSync(join(snapshots, `agent-${process.pid}.smaps`), readFileSync('/proc/self/smaps'));
    writeHeapSnapshot(join(snapshots, `agent-${process.pid}.heapsnapshot`));
  }
});
