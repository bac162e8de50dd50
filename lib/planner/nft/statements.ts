/**
 * Constructors of the statements in vocabulary.ts. Each checks the values it is given (values.ts)
 * and throws EGW_ERR_NFT_VALUE for anything the kernel or nft would read differently from what
 * the caller meant, so a rule built here always renders.
 */
import type { Family } from '../../api/ip.js';
import { address, comment, identifier, interfaceName, logGroup, logPrefix, macAddress, oneOf, port, u32 } from './values.js';
import { REJECT_WITH, SYMBOLS, type Expr, type Field, type NftRule, type Statement, type Value, type Verdict } from './vocabulary.js';

// ---- fields ----

export const meta = (key: Extract<Field, { kind: 'meta' }>['key']): Field => ({ kind: 'meta', key });
export const ct = (key: Extract<Field, { kind: 'ct' }>['key']): Field => ({ kind: 'ct', key });
export const ipAddress = (family: Family, field: 'saddr' | 'daddr'): Field => ({ kind: 'address', family, field });

/** `FIELD & MASK`. */
export function masked(field: Field, mask: number): Expr {
  return { kind: 'bitwise', op: '&', left: field, right: u32(mask, 'mask') };
}

// ---- values ----

export const num = (value: number): Value => ({ kind: 'number', value: u32(value) });
const set = (name: string): Value => ({ kind: 'named set', name: identifier(name, 'set name') });
export const ip = (family: Family, text: string): Value => ({ kind: 'ip', family, address: address(text, family) });

// ---- matches ----

function match(left: Expr, op: '==' | '!=', right: Value): Statement {
  return { kind: 'match', left, op, right };
}

/** `ether saddr { MAC, … }`: the packet's link-layer sender is one of these (at least one). */
export function etherSourceAnyOf(op: '==' | '!=', macs: readonly string[]): Statement {
  const items: Value[] = macs.map((m) => ({ kind: 'mac', address: macAddress(m) }));
  if (items.length === 0) throw new TypeError('etherSourceAnyOf needs at least one MAC');
  return match({ kind: 'ether saddr' }, op, items.length === 1 ? items[0]! : { kind: 'anonymous set', items });
}

/** `rt ip nexthop ADDR` / `rt ip nexthop != { A, B }`: where the route chosen sends the packet next. */
export function nextHopIs(family: Family, op: '==' | '!=', addresses: readonly string[]): Statement {
  const items = addresses.map((a) => ip(family, a));
  if (items.length === 0) throw new TypeError('nextHopIs needs at least one address');
  return match({ kind: 'rt nexthop', family }, op, items.length === 1 ? items[0]! : { kind: 'anonymous set', items });
}

/** `iifname NAME` / `oifname NAME`, or `iifname != { A, B }` for several names. */
export function interfaceIs(which: 'iifname' | 'oifname', op: '==' | '!=', names: string | readonly string[]): Statement {
  const list = typeof names === 'string' ? [names] : names;
  const items: Value[] = list.map((name) => ({ kind: 'interface', name: interfaceName(name) }));
  if (items.length === 0) throw new TypeError('interfaceIs needs at least one name');
  return match(meta(which), op, items.length === 1 ? items[0]! : { kind: 'anonymous set', items });
}

export function ctDirection(direction: 'original' | 'reply'): Statement {
  return match(ct('direction'), '==', { kind: 'symbol', name: oneOf('ct direction', SYMBOLS['ct direction'], direction) });
}

/** `ct state new,invalid`: any of these states. */
export function ctStateAnyOf(states: readonly (typeof SYMBOLS)['ct state'][number][]): Statement {
  return match(ct('state'), '==', { kind: 'flags', names: states.map((s) => oneOf('ct state', SYMBOLS['ct state'], s)) });
}

/** `tcp flags syn`: any of these flags set. */
export function tcpFlagsAnyOf(flags: readonly (typeof SYMBOLS)['tcp flags'][number][]): Statement {
  return match({ kind: 'tcp flags' }, '==', { kind: 'flags', names: flags.map((f) => oneOf('tcp flag', SYMBOLS['tcp flags'], f)) });
}

/** `meta mark & MASK == VALUE` (or `ct mark …`, or `!=`). */
export function markIs(which: 'meta' | 'ct', mask: number, op: '==' | '!=', value: number): Statement {
  return match(masked(which === 'meta' ? meta('mark') : ct('mark'), mask), op, num(value));
}

/** `ip saddr @SET`, `ip6 daddr != @SET`. */
export function addressInSet(family: Family, field: 'saddr' | 'daddr', op: '==' | '!=', name: string): Statement {
  return match(ipAddress(family, field), op, set(name));
}

/**
 * `fib saddr . iif oif != 0`: the route back to the packet's source leaves by the interface the
 * packet came in on (a strict reverse-path check). A pod's packets pass it on its own node; the
 * same source arriving on any other interface (a spoofing host on a LAN) does not.
 */
export const sourceRoutedBackViaInput: Statement = match({ kind: 'fib', flags: ['saddr', 'iif'], result: 'oif' }, '!=', num(0));

/** `meta l4proto tcp`. */
export function l4protoIs(protocol: (typeof SYMBOLS)['meta l4proto'][number]): Statement {
  return match(meta('l4proto'), '==', { kind: 'symbol', name: oneOf('protocol', SYMBOLS['meta l4proto'], protocol) });
}

/** `meta nfproto ipv4`. */
export function nfprotoIs(family: (typeof SYMBOLS)['meta nfproto'][number]): Statement {
  return match(meta('nfproto'), '==', { kind: 'symbol', name: oneOf('family', SYMBOLS['meta nfproto'], family) });
}

/** `ip daddr 203.0.113.0/24` (or a single address when the prefix is the full length). */
export function addressInPrefix(family: Family, field: 'saddr' | 'daddr', text: string, prefix: number): Statement {
  const full = family === 4 ? 32 : 128;
  const right: Value = prefix === full ? ip(family, text) : { kind: 'ip', family, address: address(text, family), prefix };
  return match(ipAddress(family, field), '==', right);
}

/** `udp dport 4789`. */
export function portIs(protocol: 'tcp' | 'udp' | 'sctp', field: 'sport' | 'dport', value: number): Statement {
  return match({ kind: 'port', protocol, field }, '==', { kind: 'number', value: port(value) });
}

// ---- actions ----

export const counter: Statement = { kind: 'counter' };

/**
 * `meta mark set meta mark & KEEP | VALUE`: writes VALUE into the bits outside KEEP and leaves
 * the others (other owners' marks) as they are.
 */
export function setMarkBits(which: 'meta' | 'ct', keep: number, value: number): Statement {
  const field = which === 'meta' ? meta('mark') : ct('mark');
  return { kind: 'set', target: field, value: { kind: 'bitwise', op: '|', left: masked(field, keep), right: u32(value, 'mark') } };
}

/** `meta mark set meta mark & KEEP`: clears every bit outside KEEP (ours) and leaves the others. */
export function clearMarkBits(which: 'meta' | 'ct', keep: number): Statement {
  const field = which === 'meta' ? meta('mark') : ct('mark');
  return { kind: 'set', target: field, value: masked(field, keep) };
}

/** `tcp option maxseg size set rt mtu`: clamps the MSS of SYNs to the route's MTU. */
export const clampMssToRouteMtu: Statement = { kind: 'set', target: { kind: 'tcp mss' }, value: { kind: 'rt mtu' } };

/** `snat ip to ADDR`. */
export function snatTo(family: Family, to: string): Statement {
  return { kind: 'snat', family, to: ip(family, to) };
}

/** `dnat ip to ADDR:PORT`. */
export function dnatTo(family: Family, to: string, toPort: number): Statement {
  return { kind: 'dnat', family, to: ip(family, to), port: port(toPort) };
}

/** `snat ip to ip saddr`: binds the connection's NAT without changing its source. */
export function snatToSource(family: Family): Statement {
  return { kind: 'snat to source', family };
}

export const masquerade: Statement = { kind: 'masquerade' };

/** `reject with tcp reset` / `reject with icmpx admin-prohibited`. */
export function reject(answer: (typeof REJECT_WITH)[number]): Statement {
  return { kind: 'reject', with: oneOf('reject answer', REJECT_WITH, answer) };
}

/** `limit rate RATE/second burst BURST packets`. */
export function limitPerSecond(rate: number, burst: number): Statement {
  if (rate < 1) throw new TypeError('a limit needs a rate of at least 1');
  return { kind: 'limit', rate: u32(rate, 'rate'), burst: u32(burst, 'burst') };
}

/** `log prefix "PREFIX"`, or with a group `log prefix "PREFIX" group GROUP` (nfnetlink_log, 0-65535). */
export function logWithPrefix(prefix: string, group?: number): Statement {
  return group === undefined ? { kind: 'log', prefix: logPrefix(prefix) } : { kind: 'log', prefix: logPrefix(prefix), group: logGroup(group) };
}

const verdict = (v: Verdict): Statement => ({ kind: 'verdict', verdict: v });
export const accept = verdict('accept');
export const drop = verdict('drop');
export const ret = verdict('return');

// ---- rules ----

export function rule(statements: readonly Statement[], note?: string): NftRule {
  if (statements.length === 0) throw new TypeError('a rule needs at least one statement');
  return note === undefined ? { statements } : { statements, comment: comment(note) };
}
