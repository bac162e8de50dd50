/**
 * Where a hard failover's outage goes, from the agents' failover-trace log lines (monotonic
 * clock, the same as the benchmark's): from the worker's last answer from the broken carrier to
 *   - the worker's probes judging it dead, and the worker's new table in the kernel;
 *   - the successor's probes judging it dead, and the EIP added and announced there.
 */
import { readFile } from 'node:fs/promises';
import { findDaemon } from '../../e2e/labkit/lab-context.js';
import type { Lab } from '../../e2e/labkit/lab.js';
import { agentRole } from '../../e2e/labkit/plugins.js';

/**
 * In ms after the worker last heard the broken node (its last probe answer: the break came within
 * one probe interval after it). `breakMs` is when the benchmark began to break it (e2e/lab
 * fail-node execs into namespaces, so the cut comes a little later; negative: before).
 */
export interface Breakdown {
  readonly breakMs?: number;
  /** The worker's probes judged the broken node dead. */
  readonly workerDetectMs?: number;
  /** The worker's nft table steering to the successor was loaded. */
  readonly workerSwitchMs?: number;
  readonly successorDetectMs?: number;
  /** The successor's apply that took the EIP ended (address added, GARP sent). */
  readonly successorTakeoverMs?: number;
}

export const BREAKDOWN_FIELDS = ['breakMs', 'workerDetectMs', 'workerSwitchMs', 'successorDetectMs', 'successorTakeoverMs'] as const satisfies readonly (keyof Breakdown)[];

interface TraceLine {
  op?: string;
  msg?: string;
  peer?: string;
  alive?: boolean;
  sinceHeardMs?: number;
  monoMs?: number;
  startMonoMs?: number;
  nftMs?: number;
  taken?: string[];
}

/** The failover-trace lines of one node's agent at or after `sinceMono`, in order. */
export async function traceLines(lab: Lab, node: string, sinceMono: number): Promise<TraceLine[]> {
  const file = findDaemon(await lab.state(), agentRole(node)).log;
  const out: TraceLine[] = [];
  for (const text of (await readFile(file, 'utf8').catch(() => '')).split('\n')) {
    if (!text.includes('"failover-trace"')) continue;
    try {
      const line = JSON.parse(text) as TraceLine;
      if (line.op === 'failover-trace' && line.monoMs !== undefined && line.monoMs >= sinceMono) out.push(line);
    } catch {
      // a line cut by a restart
    }
  }
  return out;
}

/** The breakdown of one trial: `from` broken at `brokeAt` (monotonic ms), `to` took over, `worker` steers. */
export function breakdownOf(brokeAt: number, from: string, worker: readonly TraceLine[], successor: readonly TraceLine[]): Breakdown {
  const death = (lines: readonly TraceLine[]) => lines.find((l) => l.peer === from && l.alive === false);
  const w = death(worker);
  if (!w || w.sinceHeardMs === undefined) return {};
  const t0 = w.monoMs! - w.sinceHeardMs;
  const s = death(successor);
  const applies = (lines: readonly TraceLine[], after: number) => lines.filter((l) => l.startMonoMs !== undefined && l.monoMs! >= after);
  const switched = applies(worker, w.monoMs!)[0];
  const took = s && applies(successor, s.monoMs!).find((l) => l.taken !== undefined && l.taken.length > 0);
  const at = (mono: number) => Math.round(mono - t0);
  return {
    breakMs: at(brokeAt),
    workerDetectMs: at(w.monoMs!),
    ...(switched ? { workerSwitchMs: at(switched.startMonoMs! + (switched.nftMs ?? 0)) } : {}),
    ...(s ? { successorDetectMs: at(s.monoMs!) } : {}),
    ...(took ? { successorTakeoverMs: at(took.monoMs!) } : {}),
  };
}

export async function readBreakdown(lab: Lab, brokeAt: number, from: string, to: string, worker: string): Promise<Breakdown> {
  const [w, s] = await Promise.all([traceLines(lab, worker, brokeAt), traceLines(lab, to, brokeAt)]);
  return breakdownOf(brokeAt, from, w, s);
}
