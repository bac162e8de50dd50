import { mergeIntervals, type Family, type IpInterval } from '../api/ip.js';

/**
 * Sorted, merged intervals with O(log n) lookups: membership and "where is the next address
 * outside". Built once per planning pass from node IPs, pod CIDRs and pools.
 */
export class IntervalIndex {
  private readonly byFamily: Record<Family, IpInterval[]>;

  constructor(intervals: readonly IpInterval[]) {
    const merged = mergeIntervals(intervals);
    this.byFamily = { 4: merged.filter((iv) => iv.family === 4), 6: merged.filter((iv) => iv.family === 6) };
  }

  /** The merged interval holding `value`, if any. */
  find(family: Family, value: bigint): IpInterval | undefined {
    const list = this.byFamily[family];
    let lo = 0;
    let hi = list.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const iv = list[mid]!;
      if (value < iv.start) hi = mid - 1;
      else if (value > iv.end) lo = mid + 1;
      else return iv;
    }
    return undefined;
  }

  has(family: Family, value: bigint): boolean {
    return this.find(family, value) !== undefined;
  }

  /** The parts of `iv` this index holds (sorted). */
  overlapOf(iv: IpInterval): IpInterval[] {
    return this.byFamily[iv.family]
      .filter((x) => x.start <= iv.end && iv.start <= x.end)
      .map((x) => ({ family: iv.family, start: x.start > iv.start ? x.start : iv.start, end: x.end < iv.end ? x.end : iv.end }));
  }

  get empty(): boolean {
    return this.byFamily[4].length === 0 && this.byFamily[6].length === 0;
  }
}
