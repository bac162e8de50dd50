import { formatIp, type Family } from '../../api/ip.js';

// Addresses of a set without intervals in a compact form that compares by value: an IPv4
// address as its 32-bit number, an IPv6 address as a string of 8 UTF-16 code units, one per
// 16-bit group (any code unit is allowed in a JS string; these are never printed). A 100k-element set is
// read, compared and sorted in these forms without parsing or formatting every element as text;
// only the elements that differ are formatted.

/** One address: a number (IPv4) or 8 code units (IPv6); either sorts in address order. */
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

const COLON = 58;

/** The value of a hex digit's character code, or -1. */
function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/**
 * Hex groups around at most one `::` (at least one zero group), as parseIp accepts them (3 to 8
 * fields, so 2 to 7 colons; no IPv4-mapped address); else undefined.
 */
function ipv6Key(text: string): string | undefined {
  const groups: number[] = [];
  let gap = -1; // where `::` stands among the groups
  let group = 0;
  let digits = 0;
  let colons = 0;
  let at = 0;
  if (text.charCodeAt(0) === COLON) {
    if (text.charCodeAt(1) !== COLON) return undefined;
    gap = 0;
    colons = 2;
    at = 2;
  }
  for (; at < text.length; at++) {
    const c = text.charCodeAt(at);
    const d = hexDigit(c);
    if (d >= 0) {
      if (++digits > 4) return undefined;
      group = group * 16 + d;
      continue;
    }
    if (c !== COLON || digits === 0) return undefined;
    groups.push(group);
    group = 0;
    digits = 0;
    colons++;
    if (text.charCodeAt(at + 1) === COLON) {
      if (gap >= 0) return undefined;
      gap = groups.length;
      colons++;
      at++;
    }
  }
  if (digits > 0) groups.push(group);
  else if (gap !== groups.length || at < 2 || text.charCodeAt(at - 1) !== COLON || text.charCodeAt(at - 2) !== COLON) return undefined; // ends in a single colon
  if (colons < 2 || colons > 7 || (gap < 0 ? groups.length !== 8 : groups.length > 7)) return undefined;
  const full = gap < 0 ? groups : [...groups.slice(0, gap), ...new Array<number>(8 - groups.length).fill(0), ...groups.slice(gap)];
  if (full[0] === 0 && full[1] === 0 && full[2] === 0 && full[3] === 0 && full[4] === 0 && full[5] === 0xffff) return undefined; // ::ffff:0:0/96
  return String.fromCharCode(...full);
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
  if (family === 4) return buf.readUInt32BE(at);
  const g = (i: number) => buf.readUInt16BE(at + 2 * i);
  return String.fromCharCode(g(0), g(1), g(2), g(3), g(4), g(5), g(6), g(7));
}

/** The address as nft prints it. */
export function keyText(key: ElementKey): string {
  if (typeof key === 'number') return `${key >>> 24}.${(key >>> 16) & 255}.${(key >>> 8) & 255}.${key & 255}`;
  let value = 0n;
  for (let i = 0; i < key.length; i++) value = (value << 16n) | BigInt(key.charCodeAt(i));
  return formatIp(value, 6);
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
