/** The failover benchmark's table. */
import { summarize } from '../convergence/stats.js';
import type { Trial } from './series.js';
import { BREAKDOWN_FIELDS } from './breakdown.js';

/** The goals for a hard failure, in ms; a planned move should lose nothing (< 50 ms). */
export const TARGETS = { hardP50: 250, hardP99: 500, planned: 50 } as const;

export interface SeriesResult {
  readonly name: string;
  readonly planned: number;
  readonly trials: readonly Trial[];
}

const ms = (n: number) => (Number.isNaN(n) ? '-' : `${Math.round(n)}`);

export function renderSeries(results: readonly SeriesResult[], windowMs: number): string {
  const rows = results.map((r) => {
    const ok = r.trials.filter((t) => t.recovered);
    const s = summarize(ok.map((t) => t.outageMs));
    const lost = summarize(ok.map((t) => t.lost));
    const contested = Math.max(0, ...r.trials.map((t) => t.contestedMs));
    const missed = r.trials.filter((t) => !t.recovered);
    const missedGap = Math.max(0, ...missed.map((t) => t.outageMs));
    return [
      r.name.padEnd(42),
      `${r.trials.length}/${r.planned}`.padStart(6),
      ms(s.p50).padStart(7),
      ms(s.p99).padStart(7),
      ms(s.max).padStart(7),
      ms(lost.p50).padStart(9),
      `${contested}`.padStart(10),
      missed.length ? `  ${missed.length} did not move to the other gateway within ${windowMs / 1000} s (largest gap in those ${ms(missedGap)} ms)` : '',
    ].join(' ');
  });
  return [
    `${'series'.padEnd(42)} ${'trials'.padStart(6)} ${'p50'.padStart(7)} ${'p99'.padStart(7)} ${'max'.padStart(7)} ${'lost p50'.padStart(9)} ${'2 MACs ms'.padStart(10)}`,
    ...rows,
  ].join('\n');
}

const BREAKDOWN_HEADERS: Record<(typeof BREAKDOWN_FIELDS)[number], string> = {
  breakMs: 'break',
  workerDetectMs: 'W dead',
  workerSwitchMs: 'W switched',
  successorDetectMs: 'S dead',
  successorTakeoverMs: 'S took EIP',
};

/**
 * Medians of where the time went (series whose trials have a breakdown), in ms after the worker
 * (W) last heard the broken node: when the benchmark began to break it, when W judged it dead and
 * had its new table in the kernel, when the successor (S) judged it dead and had taken the EIP
 * (added and announced).
 */
export function renderBreakdown(results: readonly SeriesResult[]): string {
  const rows = results.flatMap((r) => {
    const with_ = r.trials.filter((t) => t.breakdown?.workerDetectMs !== undefined);
    if (with_.length === 0) return [];
    const cells = BREAKDOWN_FIELDS.map((f) => ms(summarize(with_.flatMap((t) => (t.breakdown?.[f] === undefined ? [] : [t.breakdown[f]!]))).p50).padStart(11));
    return [[r.name.padEnd(42), `${with_.length}`.padStart(6), ...cells].join(' ')];
  });
  if (rows.length === 0) return '';
  return [`${'medians, ms after W last heard it'.padEnd(42)} ${'trials'.padStart(6)} ${BREAKDOWN_FIELDS.map((f) => BREAKDOWN_HEADERS[f].padStart(11)).join(' ')}`, ...rows].join(
    '\n',
  );
}
