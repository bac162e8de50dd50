import ipaddr from 'ipaddr.js';
import { EgressError } from '../errors.js';

export type Family = 4 | 6;

/** An inclusive address interval of one family; a single IP or a CIDR is a special case. */
export interface IpInterval {
  readonly family: Family;
  readonly start: bigint;
  readonly end: bigint;
}

const BITS: Record<Family, number> = { 4: 32, 6: 128 };

function toBigInt(bytes: number[]): bigint {
  let value = 0n;
  for (const b of bytes) value = (value << 8n) | BigInt(b);
  return value;
}

function fromBigInt(value: bigint, family: Family): string {
  const byteCount = BITS[family] / 8;
  const bytes: number[] = new Array(byteCount);
  let v = value;
  for (let i = byteCount - 1; i >= 0; i--) {
    bytes[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return ipaddr.fromByteArray(bytes).toString();
}

/** Parses one address strictly (no IPv4-mapped IPv6 tricks, no zone ids). */
export function parseIp(text: string): { family: Family; value: bigint } {
  const trimmed = text.trim();
  if (!ipaddr.isValid(trimmed) || trimmed.includes('%')) {
    throw new EgressError('EGW_ERR_INVALID_IP', `"${text}" is not an IP address`);
  }
  if (ipaddr.IPv4.isValid(trimmed) && !ipaddr.IPv4.isValidFourPartDecimal(trimmed)) {
    throw new EgressError('EGW_ERR_INVALID_IP', `"${text}" is not a dotted-quad IPv4 address`);
  }
  const addr = ipaddr.parse(trimmed);
  const family: Family = addr.kind() === 'ipv4' ? 4 : 6;
  return { family, value: toBigInt(addr.toByteArray()) };
}

export function formatIp(value: bigint, family: Family): string {
  return fromBigInt(value, family);
}

/** Canonical text of an address (lower-case, compressed IPv6). */
export function canonicalIp(text: string): string {
  const { family, value } = parseIp(text);
  return formatIp(value, family);
}

export function ipFamily(text: string): Family {
  return parseIp(text).family;
}

export function isIp(text: string, family?: Family): boolean {
  try {
    const parsed = parseIp(text);
    return family === undefined || parsed.family === family;
  } catch {
    return false;
  }
}

function prefixInterval(value: bigint, prefix: number, family: Family, text: string, strict: boolean): IpInterval {
  const bits = BITS[family];
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > bits) {
    throw new EgressError('EGW_ERR_INVALID_IP', `"${text}" has a prefix length outside 0-${bits}`);
  }
  const hostBits = BigInt(bits - prefix);
  const hostMask = (1n << hostBits) - 1n;
  if (strict && (value & hostMask) !== 0n) {
    throw new EgressError('EGW_ERR_INVALID_IP', `"${text}" has host bits set (use ${formatIp(value & ~hostMask, family)}/${prefix})`);
  }
  const start = value & ~hostMask;
  return { family, start, end: start | hostMask };
}

/** Parses `a.b.c.d/n`. With `strict`, host bits must be zero. */
export function parseCidr(text: string, strict = true): IpInterval {
  const [addr, prefixText, extra] = text.trim().split('/');
  if (addr === undefined || prefixText === undefined || extra !== undefined || !/^\d{1,3}$/.test(prefixText)) {
    throw new EgressError('EGW_ERR_INVALID_IP', `"${text}" is not a CIDR`);
  }
  const { family, value } = parseIp(addr);
  return prefixInterval(value, Number(prefixText), family, text, strict);
}

/** A single IP, an `a-b` range or a CIDR, as EgressGateway pools and destSubnet accept. */
export function parseIpSpec(text: string): IpInterval {
  const trimmed = text.trim();
  if (trimmed.includes('/')) return parseCidr(trimmed);
  if (trimmed.includes('-')) {
    const [a, b, extra] = trimmed.split('-');
    if (a === undefined || b === undefined || extra !== undefined) {
      throw new EgressError('EGW_ERR_INVALID_IP', `"${text}" is not a range`);
    }
    const first = parseIp(a);
    const last = parseIp(b);
    if (first.family !== last.family) {
      throw new EgressError('EGW_ERR_INVALID_IP', `"${text}" mixes IPv4 and IPv6`);
    }
    if (first.value > last.value) {
      throw new EgressError('EGW_ERR_INVALID_IP', `"${text}" starts after it ends`);
    }
    return { family: first.family, start: first.value, end: last.value };
  }
  const { family, value } = parseIp(trimmed);
  return { family, start: value, end: value };
}

export function intervalSize(iv: IpInterval): bigint {
  return iv.end - iv.start + 1n;
}

export function intervalContains(iv: IpInterval, family: Family, value: bigint): boolean {
  return iv.family === family && value >= iv.start && value <= iv.end;
}

export function intervalsContain(ivs: readonly IpInterval[], ip: string): boolean {
  const { family, value } = parseIp(ip);
  return ivs.some((iv) => intervalContains(iv, family, value));
}

export function intervalsOverlap(a: IpInterval, b: IpInterval): boolean {
  return a.family === b.family && a.start <= b.end && b.start <= a.end;
}

/** Sorts and merges overlapping or adjacent intervals of one family. */
export function mergeIntervals(ivs: readonly IpInterval[]): IpInterval[] {
  const sorted = [...ivs].sort((x, y) => (x.family - y.family) || (x.start < y.start ? -1 : x.start > y.start ? 1 : 0));
  const out: IpInterval[] = [];
  for (const iv of sorted) {
    const last = out[out.length - 1];
    if (last && last.family === iv.family && iv.start <= last.end + 1n) {
      if (iv.end > last.end) out[out.length - 1] = { family: last.family, start: last.start, end: iv.end };
    } else {
      out.push(iv);
    }
  }
  return out;
}

/** Text for one interval: `a`, `a/n` when aligned, else `a-b`. Accepted by nft and by our API. */
export function formatInterval(iv: IpInterval): string {
  if (iv.start === iv.end) return formatIp(iv.start, iv.family);
  const size = intervalSize(iv);
  const isPow2 = (size & (size - 1n)) === 0n;
  if (isPow2 && (iv.start & (size - 1n)) === 0n) {
    const hostBits = size.toString(2).length - 1;
    return `${formatIp(iv.start, iv.family)}/${BITS[iv.family] - hostBits}`;
  }
  return `${formatIp(iv.start, iv.family)}-${formatIp(iv.end, iv.family)}`;
}

/** Addresses of an interval in order, at most `limit` of them. */
export function* addressesOf(iv: IpInterval, limit: number): Generator<string> {
  let count = 0;
  for (let v = iv.start; v <= iv.end && count < limit; v++, count++) yield formatIp(v, iv.family);
}

/** The address at `offset` inside a CIDR (offset 0 = network address). */
export function addressAt(iv: IpInterval, offset: bigint): string | undefined {
  const v = iv.start + offset;
  return v <= iv.end ? formatIp(v, iv.family) : undefined;
}

export function prefixLength(iv: IpInterval): number {
  return BITS[iv.family] - (intervalSize(iv).toString(2).length - 1);
}
