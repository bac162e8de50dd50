import { formatIp, type Family } from '../../api/ip.js';

// Addresses of a set without intervals in a compact form that compares by value: an IPv4
// address as its 32-bit number, an IPv6 address as its 32 hex digits. A 100k-element set is
// read, compared and sorted in these forms without parsing or formatting every element as text;
// only the elements that differ are formatted.

/** One address: a number (IPv4) or 32 lowercase hex digits (IPv6); either sorts in address order. */
export type ElementKey = number | string;

/** The addresses of a set without intervals, in the order the kernel dumped them. */
export interface ElementKeys {
  readonly family: Family;
  readonly keys: readonly ElementKey[];
}

const DOT = 46;
const ZERO = 48;

/** A dotted quad without leading zeros (the canonical IPv4 text), else undefined. */
function ipv4Key(text: string): number | undefined {
  let value = 0;
  let parts = 0;
  let at = 0;
  while (parts < 4) {
    const start = at;
    let octet = 0;
    while (at < text.length) {
      const d = text.charCodeAt(at) - ZERO;
      if (d < 0 || d > 9) break;
      octet = octet * 10 + d;
      at++;
    }
    const digits = at - start;
    if (digits === 0 || digits > 3 || octet > 255 || (digits > 1 && text.charCodeAt(start) === ZERO)) return undefined;
    value = value * 256 + octet;
    parts++;
    if (parts < 4) {
      if (text.charCodeAt(at) !== DOT) return undefined;
      at++;
    }
  }
  return at === text.length ? value : undefined;
}

const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;
/** ::ffff:0:0/96 as the first 24 hex digits: parseIp refuses IPv4-mapped addresses. */
const MAPPED_V4 = '00000000000000000000ffff';

/** Hex groups around at most one `::` (at least one zero group), as parseIp accepts them; else undefined. */
function ipv6Key(text: string): string | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] === '' ? [] : halves[0]!.split(':');
  const tail = halves.length === 1 || halves[1] === '' ? [] : halves[1]!.split(':');
  const count = head.length + tail.length;
  if (halves.length === 1 ? count !== 8 : count > 7) return undefined;
  let hex = '';
  for (const group of head) {
    if (!HEX_GROUP.test(group)) return undefined;
    hex += group.padStart(4, '0');
  }
  hex += '0000'.repeat(8 - count);
  for (const group of tail) {
    if (!HEX_GROUP.test(group)) return undefined;
    hex += group.padStart(4, '0');
  }
  hex = hex.toLowerCase();
  return hex.startsWith(MAPPED_V4) ? undefined : hex;
}

/**
 * The key of a planned element of a set without intervals, when it is a single address of the
 * set's family that parseIp accepts; undefined for anything else (a prefix, a range, a typo),
 * which the caller compares as text instead.
 */
export function plannedKey(text: string, family: Family): ElementKey | undefined {
  return family === 4 ? ipv4Key(text) : ipv6Key(text);
}

/** The key of an address as the kernel holds it: 4 or 16 bytes in network order at `at`. */
export function dumpedKey(buf: Buffer, at: number, family: Family): ElementKey {
  return family === 4 ? buf.readUInt32BE(at) : buf.toString('hex', at, at + 16);
}

/** The address as nft prints it. */
export function keyText(key: ElementKey): string {
  if (typeof key === 'number') return `${key >>> 24}.${(key >>> 16) & 255}.${(key >>> 8) & 255}.${key & 255}`;
  return formatIp(BigInt(`0x${key}`), 6);
}

/** Address order. */
export function byKey(a: ElementKey, b: ElementKey): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The keys in address order (a copy). */
export function sortedKeys(keys: readonly ElementKey[], family: Family): ElementKey[] {
  // IPv4 keys sort natively as 32-bit numbers, without a comparator call per pair.
  if (family === 4) return Array.from(Uint32Array.from(keys as readonly number[]).sort());
  return [...keys].sort(byKey);
}
