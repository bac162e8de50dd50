/** The failover benchmark's table. */
import { summarize } from '../convergence/stats.js';
import type { Trial } from './series.js';

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
      r.name.padEnd(36),
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
    `${'series'.padEnd(36)} ${'trials'.padStart(6)} ${'p50'.padStart(7)} ${'p99'.padStart(7)} ${'max'.padStart(7)} ${'lost p50'.padStart(9)} ${'2 MACs ms'.padStart(10)}`,
    ...rows,
  ].join('\n');
}
