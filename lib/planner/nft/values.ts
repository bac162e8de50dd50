/**
 * Checks for every value that goes into an nft rule or set. The statement constructors call them
 * when the planner builds a rule, and the renderer calls them again on everything it writes, so a
 * table that never went through the constructors (a plan read from a file) cannot smuggle text
 * into a ruleset either. A refused value throws EGW_ERR_NFT_VALUE; nothing is ever escaped or
 * trimmed here.
 */
import { EgressError } from '../../errors.js';
import { canonicalIp, isIp, isIpv4Text, type Family } from '../../api/ip.js';
import { INTERFACE_NAME_RULE, isInterfaceName } from '../../api/names.js';

/** nft refuses longer comments ("128 characters maximum allowed"). */
const MAX_COMMENT_BYTES = 128;

function refuse(what: string, value: unknown, why: string): never {
  const shown = typeof value === 'string' && value.length > 64 ? `${JSON.stringify(value.slice(0, 64))}…` : JSON.stringify(value);
  throw new EgressError('EGW_ERR_NFT_VALUE', `${what} ${shown ?? String(value)} ${why}`);
}

/**
 * An interface name as the API defines it (lib/api/names.ts, the CRD pattern too): a name the
 * kernel accepts (1-15 bytes, not `.` or `..`, no `/`, `:` or whitespace) that is also safe in
 * nft text and JSON (no quote to end the string, no `*` that nft reads as a wildcard).
 */
export function interfaceName(name: unknown): string {
  if (typeof name !== 'string') return refuse('interface name', name, 'is not a string');
  if (!isInterfaceName(name)) return refuse('interface name', name, `must be ${INTERFACE_NAME_RULE}`);
  return name;
}

/** A rule comment: printable ASCII without `"` or `\`, at most 128 bytes. */
export function comment(text: unknown): string {
  if (typeof text !== 'string') return refuse('comment', text, 'is not a string');
  if (text.length > MAX_COMMENT_BYTES) return refuse('comment', text, `is longer than ${MAX_COMMENT_BYTES} characters`);
  if (!/^[\x20\x21\x23-\x5b\x5d-\x7e]*$/.test(text)) return refuse('comment', text, 'must be printable ASCII without " or \\');
  return text;
}

/** A log prefix: printable ASCII without `"` or `\`, at most 127 bytes (the kernel's limit). */
export function logPrefix(text: unknown): string {
  if (typeof text !== 'string') return refuse('log prefix', text, 'is not a string');
  if (text.length === 0 || text.length > 127) return refuse('log prefix', text, 'must be 1 to 127 characters');
  if (!/^[\x20\x21\x23-\x5b\x5d-\x7e]*$/.test(text)) return refuse('log prefix', text, 'must be printable ASCII without " or \\');
  return text;
}

/**
 * Names of tables, sets and chains: an identifier, the same in text and JSON. nft 1.0.6 cannot
 * quote names, so in text a name must also not be a keyword (`mark`, `snat`, `fwd`, …): the
 * planner's names all carry a prefix or a digit.
 */
export function identifier(name: unknown, what = 'name'): string {
  if (typeof name !== 'string' || !/^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(name)) return refuse(what, name, 'must be a letter followed by up to 63 letters, digits or _');
  return name;
}

/** An unsigned 32-bit number (marks, masks). */
export function u32(n: unknown, what = 'number'): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 0xffffffff) return refuse(what, n, 'must be an integer 0-0xffffffff');
  return n;
}

/** An nfnetlink_log group. */
export function logGroup(n: unknown): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 65535) return refuse('log group', n, 'must be an integer 0-65535');
  return n;
}

export function port(n: unknown): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 65535) return refuse('port', n, 'must be an integer 1-65535');
  return n;
}

/** An address of `family` in its canonical text form (`fd00::1`, never `fd00:0::01`). */
export function address(text: unknown, family: Family): string {
  if (family === 4 && typeof text === 'string' && isIpv4Text(text)) return text; // canonical by its shape
  if (typeof text !== 'string' || !isIp(text, family)) return refuse(`IPv${family} address`, text, 'does not parse');
  if (canonicalIp(text) !== text) return refuse(`IPv${family} address`, text, `is not canonical (${canonicalIp(text)})`);
  return text;
}

export function prefixLength(n: unknown, family: Family): number {
  const bits = family === 4 ? 32 : 128;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > bits) return refuse('prefix length', n, `must be 0-${bits}`);
  return n;
}

/** A lower-case unicast MAC address (`02:00:5e:00:00:01`). */
export function macAddress(text: unknown): string {
  if (typeof text !== 'string' || !/^[0-9a-f][02468ace](:[0-9a-f]{2}){5}$/.test(text) || text === '00:00:00:00:00:00')
    return refuse('MAC address', text, 'is not a lower-case unicast MAC');
  return text;
}

/** `value` if it is one of `allowed` (a closed vocabulary of nft keywords). */
export function oneOf<T extends string>(what: string, allowed: readonly T[], value: unknown): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) return refuse(what, value, `must be one of ${allowed.join(', ')}`);
  return value as T;
}

function elementAddress(text: string, family: Family): boolean {
  return family === 4 ? isIpv4Text(text) : text.includes(':') && isIp(text, 6);
}

/**
 * A set element of an address set: an address, and in interval sets also `addr/len` or `a-b`
 * (the notations nft itself prints). Called for every element written, so the common case (a
 * plain IPv4 address) is one regular expression.
 */
export function setElement(text: unknown, family: Family, interval: boolean): string {
  if (typeof text !== 'string') return refuse('set element', text, 'is not a string');
  if (elementAddress(text, family)) return text;
  if (interval) {
    const slash = text.indexOf('/');
    if (slash > 0 && elementAddress(text.slice(0, slash), family) && /^\d{1,3}$/.test(text.slice(slash + 1))) {
      prefixLength(Number(text.slice(slash + 1)), family);
      return text;
    }
    const dash = text.indexOf('-');
    if (dash > 0 && elementAddress(text.slice(0, dash), family) && elementAddress(text.slice(dash + 1), family)) return text;
  }
  return refuse(`IPv${family} set element`, text, interval ? 'is not an address, addr/len or a-b range' : 'is not an address');
}
