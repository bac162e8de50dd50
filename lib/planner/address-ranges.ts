import { parseIp, type IpInterval } from '../api/ip.js';
import { ipv4Value } from './fast-ip.js';

interface Owned<T> {
  readonly start: bigint;
  readonly end: bigint;
  readonly owner: T;
}

/**
 * Intervals of both families, each with an owner (a node, a reason), looked up by address text
 * in O(log n). Overlapping intervals keep the first one given. Built once per planning pass.
 */
export class AddressRanges<T> {
  private readonly byFamily: { 4: Owned<T>[]; 6: Owned<T>[] } = { 4: [], 6: [] };
  /** IPv4 bounds as numbers: the hot path (an address per endpoint) stays clear of BigInt. */
  private readonly v4Start: number[] = [];
  private readonly v4End: number[] = [];

  constructor(entries: ReadonlyArray<readonly [IpInterval, T]>) {
    for (const [iv, owner] of entries) this.byFamily[iv.family].push({ start: iv.start, end: iv.end, owner });
    for (const family of [4, 6] as const) {
      const sorted = this.byFamily[family].map((x, i) => ({ x, i })).sort((a, b) => (a.x.start < b.x.start ? -1 : a.x.start > b.x.start ? 1 : a.i - b.i));
      const kept: Owned<T>[] = [];
      for (const { x } of sorted) {
        const last = kept[kept.length - 1];
        if (last && x.start <= last.end) {
          // the part beyond the kept interval still belongs to this owner
          if (x.end > last.end) kept.push({ start: last.end + 1n, end: x.end, owner: x.owner });
        } else {
          kept.push(x);
        }
      }
      this.byFamily[family] = kept;
    }
    for (const x of this.byFamily[4]) {
      this.v4Start.push(Number(x.start));
      this.v4End.push(Number(x.end));
    }
  }

  /** The owner of the interval holding `ip` (canonical address text), if any. */
  find(ip: string): T | undefined {
    const v = ipv4Value(ip);
    return v >= 0 ? this.findV4(v) : this.findParsed(ip);
  }

  /** The same for an IPv4 address given as its value (fast-ip.ts ipv4Value): parse once, look up often. */
  findV4(v: number): T | undefined {
    let lo = 0;
    let hi = this.v4Start.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (v < this.v4Start[mid]!) hi = mid - 1;
      else if (v > this.v4End[mid]!) lo = mid + 1;
      else return this.byFamily[4][mid]!.owner;
    }
    return undefined;
  }

  private findParsed(ip: string): T | undefined {
    const { family, value } = parseIp(ip);
    const list = this.byFamily[family];
    let lo = 0;
    let hi = list.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const x = list[mid]!;
      if (value < x.start) hi = mid - 1;
      else if (value > x.end) lo = mid + 1;
      else return x.owner;
    }
    return undefined;
  }

  get empty(): boolean {
    return this.byFamily[4].length === 0 && this.byFamily[6].length === 0;
  }
}
