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

function fromBigInt(value: bigint, family: Family): string {
  const byteCount = BITS[family] / 8;
  const bytes = new Array<number>(byteCount);
  let v = value;
  for (let i = byteCount - 1; i >= 0; i--) {
    bytes[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return formatIpBytes(bytes);
}

/** Canonical text of an address given as its 4 or 16 bytes in network order (what netlink carries). */
export function formatIpBytes(bytes: ArrayLike<number>): string {
  return ipaddr.fromByteArray(Array.from(bytes)).toString();
}

/**
 * The text forms of addresses the API accepts. They are the CRD patterns too (lib/api/schema), so
 * `kubectl apply` and the parsers agree; a value must also pass the semantic checks below, which
 * the CRDs express as CEL rules.
 */
const OCTET = '(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])';
export const IPV4_TEXT = `${OCTET}(\\.${OCTET}){3}`;
/** Hex groups only: no embedded dotted quad (so no `::ffff:1.2.3.4`), no zone. */
export const IPV6_TEXT = '[0-9a-fA-F]{0,4}(:[0-9a-fA-F]{0,4}){2,7}';
export const PREFIX_TEXT: Record<Family, string> = { 4: '([0-9]|[12][0-9]|3[0-2])', 6: '([0-9]|[1-9][0-9]|1[01][0-9]|12[0-8])' };

const IPV4_RE = new RegExp(`^${IPV4_TEXT}$`);
const IPV6_RE = new RegExp(`^${IPV6_TEXT}$`);
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;
const MAPPED_V4_PREFIX = 0xffffn;
/** ::ffff:0:0/96, the IPv4-mapped addresses; parseIp refuses every address in it. */
export const IPV4_MAPPED_RANGE: IpInterval = { family: 6, start: MAPPED_V4_PREFIX << 32n, end: (MAPPED_V4_PREFIX << 32n) | 0xffffffffn };

/** A dotted quad without leading zeros: the one IPv4 text the API accepts, so its canonical form too. */
export function isIpv4Text(text: string): boolean {
  return IPV4_RE.test(text);
}

function invalidIp(text: string, why = 'is not an IP address'): EgressError {
  return new EgressError('EGW_ERR_INVALID_IP', `"${text}" ${why}`);
}

function ipv4Value(text: string): bigint {
  return text.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

/** Eight groups, or fewer around one `::` that stands for at least one zero group. */
function ipv6Value(text: string): bigint | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (part: string) => (part === '' ? [] : part.split(':'));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (![...head, ...tail].every((g) => HEX_GROUP.test(g))) return undefined;
  if (halves.length === 1 ? head.length !== 8 : head.length + tail.length > 7) return undefined;
  const all = [...head, ...new Array<string>(8 - head.length - tail.length).fill('0'), ...tail];
  return all.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

/**
 * Parses one address strictly: a dotted quad without leading zeros, or IPv6 in hex groups. No
 * surrounding spaces, no zone, and no IPv4-mapped IPv6 (`::ffff:a.b.c.d` or its hex form), which
 * would let one address hide behind two spellings of different families.
 */
export function parseIp(text: string): { family: Family; value: bigint } {
  if (IPV4_RE.test(text)) return { family: 4, value: ipv4Value(text) };
  if (!IPV6_RE.test(text)) {
    if (text.includes('.') && text.includes(':')) throw invalidIp(text, 'is not accepted: IPv6 with an embedded IPv4 address');
    throw invalidIp(text, text.trim() !== text ? 'is not an IP address (remove the spaces)' : 'is not an IP address');
  }
  const value = ipv6Value(text);
  if (value === undefined) throw invalidIp(text);
  if (value >> 32n === MAPPED_V4_PREFIX) throw invalidIp(text, 'is an IPv4-mapped IPv6 address; write the IPv4 address');
  return { family: 6, value };
}

export function formatIp(value: bigint, family: Family): string {
  return fromBigInt(value, family);
}

/** Canonical forms already computed: observing the kernel canonicalizes the same few addresses on every apply. */
const canonical = new Map<string, string>();
const CANONICAL_KEPT = 4096;

/** Canonical text of an address (lower-case, compressed IPv6). */
/** The address in network byte order: 4 or 16 bytes (netlink attributes, nft keys). Throws on a non-address. */
export function ipBytes(text: string): Buffer {
  const { family, value } = parseIp(text);
  const out = Buffer.alloc(family === 4 ? 4 : 16);
  let v = value;
  for (let i = out.length - 1; i >= 0; i--, v >>= 8n) out[i] = Number(v & 0xffn);
  return out;
}

export function canonicalIp(text: string): string {
  let known = canonical.get(text);
  if (known === undefined) {
    const { family, value } = parseIp(text);
    known = formatIp(value, family);
    if (canonical.size >= CANONICAL_KEPT) canonical.clear();
    canonical.set(text, known);
  }
  return known;
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

/** Parses `a.b.c.d/n` (no leading zeros in `n`). With `strict`, host bits must be zero. */
export function parseCidr(text: string, strict = true): IpInterval {
  const [addr, prefixText, extra] = text.split('/');
  if (addr === undefined || prefixText === undefined || extra !== undefined || !/^(0|[1-9][0-9]{0,2})$/.test(prefixText)) {
    throw invalidIp(text, 'is not a CIDR');
  }
  const { family, value } = parseIp(addr);
  return prefixInterval(value, Number(prefixText), family, text, strict);
}

/** A single IP, an `a-b` range or a CIDR, as EgressGateway pools and destSubnet accept. */
export function parseIpSpec(text: string): IpInterval {
  if (text.includes('/')) return parseCidr(text);
  if (text.includes('-')) {
    const [a, b, extra] = text.split('-');
    if (a === undefined || b === undefined || extra !== undefined) throw invalidIp(text, 'is not a range');
    const first = parseIp(a);
    const last = parseIp(b);
    if (first.family !== last.family) throw invalidIp(text, 'mixes IPv4 and IPv6');
    if (first.value > last.value) throw invalidIp(text, 'starts after it ends');
    return { family: first.family, start: first.value, end: last.value };
  }
  const { family, value } = parseIp(text);
  return { family, start: value, end: value };
}

function intervalSize(iv: IpInterval): bigint {
  return iv.end - iv.start + 1n;
}

function intervalContains(iv: IpInterval, family: Family, value: bigint): boolean {
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
  const sorted = [...ivs].sort((x, y) => x.family - y.family || (x.start < y.start ? -1 : x.start > y.start ? 1 : 0));
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

/** The address at `offset` inside a CIDR (offset 0 = network address). */
export function addressAt(iv: IpInterval, offset: bigint): string | undefined {
  const v = iv.start + offset;
  return v <= iv.end ? formatIp(v, iv.family) : undefined;
}

export function prefixLength(iv: IpInterval): number {
  return BITS[iv.family] - (intervalSize(iv).toString(2).length - 1);
}
