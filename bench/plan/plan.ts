/**
 * Planning cost: `plan()` for one node at 1k/10k/100k endpoints and 10/100/1000 policies, as an
 * agent plans from endpoint slices: the worker with every endpoint, and the gateway node that
 * carries every policy. Baseline, measured in the same run on the same input: copying
 * every endpoint address out of the slices and sorting it once, the least any planner must do to
 * produce the node's sorted nft sets. Medians of --repeat runs.
 *
 *   node dist/bench/plan/plan.js [--repeat N] [--endpoints 1000,10000,100000] [--policies 10,100,1000]
 *
 * No root, no kernel: the planner is pure.
 */
import { pathToFileURL } from 'node:url';
import { parseBenchArgs, type UsageSpec } from '../command-line.js';
import { plan } from '../../lib/planner/plan.js';
import type { Snapshot } from '../../lib/planner/snapshot.js';
import { benchSnapshot, GATEWAY_NODES, PLANNED_WORKER } from './bench-snapshot.js';

const TARGET = { ms: 200, endpoints: 100_000, policies: 1000 };

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

interface Timing {
  readonly wall: number;
  /** user + system CPU of the process: steadier than wall time on a loaded machine. */
  readonly cpu: number;
}

function timeMs(run: () => unknown, repeat: number): Timing {
  run(); // warm-up: JIT and lazy indexes
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    run();
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  return { wall: median(wall), cpu: median(cpu) };
}

function baseline(snapshot: Snapshot): number {
  const ips: string[] = [];
  for (const s of snapshot.slices) for (const e of s.endpoints) for (const ip of e.ipv4) ips.push(ip);
  return ips.sort().length;
}

const USAGE: UsageSpec = { command: 'node dist/bench/plan/plan.js' };

export async function main(argv: readonly string[]): Promise<number> {
  const { values } = parseBenchArgs(
    USAGE,
    {
      repeat: { type: 'string', default: '7' },
      endpoints: { type: 'string', default: '1000,10000,100000' },
      policies: { type: 'string', default: '10,100,1000' },
    },
    argv,
  );
  const repeat = Number(values.repeat);
  const sizes = values.endpoints.split(',').map(Number);
  const counts = values.policies.split(',').map(Number);
  process.stdout.write(`plan() for one node, medians of ${repeat} (wall / CPU ms); baseline = copy and sort every endpoint address once\n\n`);
  const cols = ['endpoints', 'policies', 'worker', 'gateway', 'baseline', 'worker/base', 'gateway/base'];
  const widths = [9, 8, 15, 15, 13, 11, 12];
  const row = (cells: string[]) => `${cells.map((c, i) => c.padStart(widths[i]!)).join('  ')}\n`;
  const ms = (t: Timing) => `${t.wall.toFixed(1)} / ${t.cpu.toFixed(0)}`;
  process.stdout.write(row(cols));
  let target: Timing | undefined;
  for (const n of sizes) {
    for (const p of counts) {
      const snapshot = benchSnapshot(n, p);
      const gatewayNode = GATEWAY_NODES[0]!;
      const worker = timeMs(() => plan(snapshot, PLANNED_WORKER), repeat);
      const gateway = timeMs(() => plan(snapshot, gatewayNode), repeat);
      const base = timeMs(() => baseline(snapshot), repeat);
      if (n === TARGET.endpoints && p === TARGET.policies) target = worker.wall > gateway.wall ? worker : gateway;
      process.stdout.write(row([String(n), String(p), ms(worker), ms(gateway), ms(base), (worker.wall / base.wall).toFixed(1), (gateway.wall / base.wall).toFixed(1)]));
    }
  }
  if (target !== undefined) {
    const met = target.wall < TARGET.ms ? 'met' : target.cpu < TARGET.ms ? 'met in CPU time (wall time is the shared machine)' : 'NOT met';
    process.stdout.write(`\ntarget: ${TARGET.endpoints} endpoints / ${TARGET.policies} policies under ${TARGET.ms} ms: ${ms(target)} ms, ${met}\n`);
  }
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await main(process.argv.slice(2));
}
