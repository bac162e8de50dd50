import { parseIp, type IpInterval } from '../api/ip.js';
import { IntervalIndex } from './interval-index.js';

/**
 * The value of a canonical dotted-quad IPv4 address, or -1. Endpoint addresses reach the planner
 * canonical (the parsers made them so); this avoids a general parse per endpoint on hot paths.
 */
export function ipv4Value(text: string): number {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || octet > 255) return -1;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      octet = octet * 10 + (c - 48);
      digits++;
    } else return -1;
  }
  if (dots !== 3 || digits === 0 || octet > 255) return -1;
  return value * 256 + octet;
}

/** Membership of address text in a fixed set of intervals, fast for IPv4. */
export class FastIpIndex {
  private readonly v4: { start: number; end: number }[];
  private readonly all: IntervalIndex;

  constructor(intervals: readonly IpInterval[]) {
    this.all = new IntervalIndex(intervals);
    this.v4 = intervals.filter((iv) => iv.family === 4).map((iv) => ({ start: Number(iv.start), end: Number(iv.end) }));
  }

  has(ip: string): boolean {
    const v = ipv4Value(ip);
    if (v >= 0) {
      for (const iv of this.v4) if (v >= iv.start && v <= iv.end) return true;
      return false;
    }
    const parsed = parseIp(ip);
    return this.all.has(parsed.family, parsed.value);
  }
}

/** Family and value of an address; canonical dotted quads take the fast path. */
export function ipValue(text: string): { family: 4 | 6; value: bigint } {
  const v4 = ipv4Value(text);
  return v4 >= 0 ? { family: 4, value: BigInt(v4) } : parseIp(text);
}
