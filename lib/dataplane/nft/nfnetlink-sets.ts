import { formatInterval, formatIp, type Family } from '../../api/ip.js';
import { EgressError } from '../../errors.js';
import { align4, attr, attributeList, attributes, cString, NLM_F_DUMP, NLM_F_REQUEST, stringPayload } from '../netlink/netlink-message.js';
import { nftablesRequest, u64, userDataString, walkDatagram } from './nfnetlink.js';
import type { ObservedSet, ObservedTimedElement } from './nft-types.js';

// Sets and their elements as a GETSET / GETSETELEM dump has them, rendered the way libnftables
// prints them in JSON (parse-observed.ts) so both reads give the same ObservedSet. Only the key
// types the planner uses (ipv4_addr, ipv6_addr) are known; any other set throws. Layouts from
// linux/netfilter/nf_tables.h.

const NFT_MSG_NEWSET = 9;
const NFT_MSG_GETSET = 10;
export const NFT_MSG_NEWSETELEM = 12;
const NFT_MSG_GETSETELEM = 13;
const NFTA_SET_TABLE = 1;
const NFTA_SET_NAME = 2;
const NFTA_SET_FLAGS = 3;
const NFTA_SET_KEY_TYPE = 4;
const NFTA_SET_DESC = 9;
const NFTA_SET_DESC_SIZE = 1;
const NFTA_SET_ELEM_LIST_TABLE = 1;
const NFTA_SET_ELEM_LIST_SET = 2;
export const NFTA_SET_ELEM_LIST_ELEMENTS = 3;
export const NFTA_LIST_ELEM = 1;
export const NFTA_SET_ELEM_KEY = 1;
const NFTA_SET_ELEM_FLAGS = 3;
export const NFTA_SET_ELEM_TIMEOUT = 4;
export const NFTA_SET_ELEM_EXPIRATION = 5;
export const NFTA_SET_ELEM_USERDATA = 6;
export const NFTA_DATA_VALUE = 1;
const NFT_SET_ANONYMOUS = 0x1;
export const NLA_TYPE_MASK = 0x3fff;
const NFT_SET_ELEM_INTERVAL_END = 0x1;
export const NFTNL_UDATA_SET_ELEM_COMMENT = 0;
/** nft's datatype numbers (NFTA_SET_KEY_TYPE) of the key types the planner uses. */
const KEY_TYPES = new Map<number, { name: string; family: Family }>([
  [7, { name: 'ipv4_addr', family: 4 }],
  [8, { name: 'ipv6_addr', family: 6 }],
]);
/** Set flags in the order libnftables prints them. */
const SET_FLAGS: readonly [number, string][] = [
  [0x2, 'constant'],
  [0x4, 'interval'],
  [0x10, 'timeout'],
  [0x20, 'dynamic'],
];

const be32 = (b: Buffer | undefined) => (b && b.length >= 4 ? b.readUInt32BE(0) : 0);

/** A set as its GETSET answer has it, before its elements are read. */
export interface DumpedSet {
  readonly table: string;
  readonly name: string;
  readonly type: string;
  readonly family: Family;
  readonly flags: readonly string[];
  readonly size?: number;
}

/** A GETSET dump request for the sets of `family` `table`. */
export function setDumpRequest(family: number, table: string, seq: number): Buffer {
  return nftablesRequest(NFT_MSG_GETSET, NLM_F_REQUEST | NLM_F_DUMP, family, seq, [attr(NFTA_SET_TABLE, stringPayload(table))]);
}

/** The sets in one datagram of the dump answering `seq`. Throws EGW_ERR_NFT for an error or a key type not known here. */
export function parseSetDump(buf: Buffer, seq: number): { sets: DumpedSet[]; done: boolean } {
  const sets: DumpedSet[] = [];
  const walked = walkDatagram(buf, seq, (msgType, body) => {
    if (msgType !== NFT_MSG_NEWSET) return;
    const a = attributes(body);
    const flags = be32(a.get(NFTA_SET_FLAGS));
    // A rule's inline set: part of the rule, not listed as a set.
    if ((flags & NFT_SET_ANONYMOUS) !== 0) return;
    const name = cString(a.get(NFTA_SET_NAME)) ?? '';
    const key = KEY_TYPES.get(be32(a.get(NFTA_SET_KEY_TYPE)));
    if (key === undefined) throw new EgressError('EGW_ERR_NFT', `set ${name} has key type ${be32(a.get(NFTA_SET_KEY_TYPE))}, not an address`);
    const desc = a.get(NFTA_SET_DESC);
    const size = desc ? be32(attributes(desc).get(NFTA_SET_DESC_SIZE)) : 0;
    sets.push({
      table: cString(a.get(NFTA_SET_TABLE)) ?? '',
      name,
      type: key.name,
      family: key.family,
      flags: SET_FLAGS.filter(([bit]) => (flags & bit) !== 0).map(([, text]) => text),
      ...(size > 0 ? { size } : {}),
    });
  });
  if (walked.errno !== undefined) throw new EgressError('EGW_ERR_NFT', `nf_tables set dump failed: errno ${walked.errno}`);
  if (walked.interrupted) throw new EgressError('EGW_ERR_NFT', 'nf_tables set dump was interrupted by a change');
  return { sets, done: walked.done };
}

/** A GETSETELEM dump request for the elements of one set. */
export function elementDumpRequest(family: number, table: string, set: string, seq: number): Buffer {
  return nftablesRequest(NFT_MSG_GETSETELEM, NLM_F_REQUEST | NLM_F_DUMP, family, seq, [
    attr(NFTA_SET_ELEM_LIST_TABLE, stringPayload(table)),
    attr(NFTA_SET_ELEM_LIST_SET, stringPayload(set)),
  ]);
}

/** One element as dumped: its key, whether it closes an interval, and its options. */
export interface DumpedElement {
  readonly key: bigint;
  readonly end: boolean;
  readonly timeoutMs: number;
  readonly expirationMs: number;
  readonly comment?: string;
}

function keyValue(b: Buffer): bigint {
  if (b.length === 4) return BigInt(b.readUInt32BE(0));
  let v = 0n;
  for (const byte of b) v = (v << 8n) | BigInt(byte);
  return v;
}

/** One NFTA_LIST_ELEM, read in place (100k of them at adoption: no maps, no copies). */
function parseElement(elem: Buffer): DumpedElement | undefined {
  let key: bigint | undefined;
  let flags = 0;
  let timeoutMs = 0;
  let expirationMs = 0;
  let comment: string | undefined;
  for (let at = 0; at + 4 <= elem.length;) {
    const len = elem.readUInt16LE(at);
    if (len < 4 || at + len > elem.length) break;
    const type = elem.readUInt16LE(at + 2) & NLA_TYPE_MASK;
    const payload = elem.subarray(at + 4, at + len);
    if (type === NFTA_SET_ELEM_KEY) {
      const value = attributes(payload).get(NFTA_DATA_VALUE);
      if (value !== undefined) key = keyValue(value);
    } else if (type === NFTA_SET_ELEM_FLAGS) flags = be32(payload);
    else if (type === NFTA_SET_ELEM_TIMEOUT) timeoutMs = u64(payload);
    else if (type === NFTA_SET_ELEM_EXPIRATION) expirationMs = u64(payload);
    else if (type === NFTA_SET_ELEM_USERDATA) comment = userDataString(payload, NFTNL_UDATA_SET_ELEM_COMMENT);
    at += align4(len);
  }
  if (key === undefined) return undefined;
  return { key, end: (flags & NFT_SET_ELEM_INTERVAL_END) !== 0, timeoutMs, expirationMs, ...(comment !== undefined ? { comment } : {}) };
}

/** The elements in one datagram of the dump answering `seq`. Throws EGW_ERR_NFT for an error. */
export function parseElementDump(buf: Buffer, seq: number): { elements: DumpedElement[]; done: boolean } {
  const elements: DumpedElement[] = [];
  const walked = walkDatagram(buf, seq, (msgType, body) => {
    if (msgType !== NFT_MSG_NEWSETELEM) return;
    const list = attributes(body).get(NFTA_SET_ELEM_LIST_ELEMENTS);
    if (list === undefined) return;
    for (const [type, elem] of attributeList(list)) {
      if (type !== NFTA_LIST_ELEM) continue;
      const e = parseElement(elem);
      if (e !== undefined) elements.push(e);
    }
  });
  if (walked.errno !== undefined) throw new EgressError('EGW_ERR_NFT', `nf_tables element dump failed: errno ${walked.errno}`);
  if (walked.interrupted) throw new EgressError('EGW_ERR_NFT', 'nf_tables element dump was interrupted by a change');
  return { elements, done: walked.done };
}

/** By key; at one key, an interval's end before the next interval's start. */
const byKey = (a: DumpedElement, b: DumpedElement) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.end === b.end ? 0 : a.end ? -1 : 1);

/**
 * Interval elements (sorted) paired as nft prints them: a start element opens an interval
 * that the next end element (its first address past the interval) closes; an open interval at
 * the end runs to the last address.
 */
function intervals(sorted: readonly DumpedElement[], family: Family): string[] {
  const last = (1n << (family === 4 ? 32n : 128n)) - 1n;
  const out: string[] = [];
  let open: bigint | undefined;
  for (const e of sorted) {
    if (e.end) {
      if (open !== undefined && e.key > open) out.push(formatInterval({ family, start: open, end: e.key - 1n }));
      open = undefined;
    } else {
      if (open !== undefined) out.push(formatInterval({ family, start: open, end: e.key - 1n }));
      open = e.key;
    }
  }
  if (open !== undefined) out.push(formatInterval({ family, start: open, end: last }));
  return out;
}

/** A dumped element that carries options, as libnftables lists it: whole seconds left before it expires, its comment. */
export function observedTimedElement(element: string, options: { readonly expirationMs: number; readonly comment?: string }): ObservedTimedElement {
  return {
    element,
    ...(options.expirationMs > 0 ? { expiresSeconds: Math.floor(options.expirationMs / 1000) } : {}),
    ...(options.comment !== undefined ? { comment: options.comment } : {}),
  };
}

/** The set with its elements, as parse-observed.ts reads it from a libnftables JSON listing. */
export function observedSet(set: DumpedSet, elements: readonly DumpedElement[]): ObservedSet {
  const interval = set.flags.includes('interval');
  // libnftables lists elements by key, whatever order the set's backend dumps them in.
  const sorted = [...elements].sort(byKey);
  const texts = interval ? intervals(sorted, set.family) : sorted.map((e) => formatIp(e.key, set.family));
  // libnftables wraps an element that carries options; only plain (non-interval) elements carry them here.
  const timed: ObservedTimedElement[] = [];
  if (!interval) {
    for (let i = 0; i < sorted.length; i++) {
      const e = sorted[i]!;
      if (e.timeoutMs === 0 && e.expirationMs === 0 && e.comment === undefined) continue;
      timed.push(observedTimedElement(texts[i]!, e));
    }
  }
  return {
    name: set.name,
    type: set.type,
    flags: set.flags,
    interval,
    elements: texts,
    ...(set.size !== undefined ? { size: set.size } : {}),
    ...(timed.length > 0 ? { timed } : {}),
  };
}
