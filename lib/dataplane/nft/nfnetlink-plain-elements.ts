import type { Family } from '../../api/ip.js';
import { EgressError } from '../../errors.js';
import { align4 } from '../netlink/netlink-message.js';
import { byKey, dumpedKey, keyText, sortedKeys, type ElementKey } from './element-keys.js';
import { u64, userDataString, walkDatagram } from './nfnetlink.js';
import {
  NFT_MSG_NEWSETELEM,
  NFTA_DATA_VALUE,
  NFTA_LIST_ELEM,
  NFTA_SET_ELEM_EXPIRATION,
  NFTA_SET_ELEM_KEY,
  NFTA_SET_ELEM_LIST_ELEMENTS,
  NFTA_SET_ELEM_TIMEOUT,
  NFTA_SET_ELEM_USERDATA,
  NFTNL_UDATA_SET_ELEM_COMMENT,
  NLA_TYPE_MASK,
  observedTimedElement,
  type DumpedSet,
} from './nfnetlink-sets.js';
import type { ObservedSet } from './nft-types.js';

// The elements of a set without intervals (a policy's pod addresses: 100k of them at scale),
// read from a GETSETELEM dump straight into compact keys: no object, BigInt or text per
// element. The result equals nfnetlink-sets.ts's observedSet() of the same dump.

/** An element that carries options (a learned address: a timeout, a comment). */
interface OptionedKey {
  readonly key: ElementKey;
  readonly timeoutMs: number;
  readonly expirationMs: number;
  readonly comment?: string;
}

/** What the dump of one set without intervals held so far. */
export interface PlainElements {
  readonly family: Family;
  readonly keys: ElementKey[];
  readonly optioned: OptionedKey[];
}

export const plainElements = (family: Family): PlainElements => ({ family, keys: [], optioned: [] });

/** Offset and end of the first attribute of `type` in buf[from, to), or undefined. */
function findAttribute(buf: Buffer, from: number, to: number, type: number): [number, number] | undefined {
  for (let at = from; at + 4 <= to;) {
    const len = buf.readUInt16LE(at);
    if (len < 4 || at + len > to) return undefined;
    if ((buf.readUInt16LE(at + 2) & NLA_TYPE_MASK) === type) return [at + 4, at + len];
    at += align4(len);
  }
  return undefined;
}

/** An attribute header (length, then type) read as one little-endian word, without the type's flag bits. */
const header = (buf: Buffer, at: number) => buf.readUInt32LE(at) & ((NLA_TYPE_MASK << 16) | 0xffff);
/** The headers of a bare key element: NFTA_SET_ELEM_KEY holding only its NFTA_DATA_VALUE. */
const bareKeyNest = (keyBytes: number) => (NFTA_SET_ELEM_KEY << 16) | (8 + keyBytes);
const bareKeyValue = (keyBytes: number) => (NFTA_DATA_VALUE << 16) | (4 + keyBytes);

/** One NFTA_LIST_ELEM in buf[from, to), added to `into`. */
function readElement(buf: Buffer, from: number, to: number, into: PlainElements): void {
  const keyBytes = into.family === 4 ? 4 : 16;
  // Nearly every element is a bare key: KEY { DATA_VALUE { bytes } } and nothing else.
  if (to - from === 8 + keyBytes && header(buf, from) === bareKeyNest(keyBytes) && header(buf, from + 4) === bareKeyValue(keyBytes)) {
    into.keys.push(dumpedKey(buf, from + 8, into.family));
    return;
  }
  let key: ElementKey | undefined;
  let timeoutMs = 0;
  let expirationMs = 0;
  let comment: string | undefined;
  for (let at = from; at + 4 <= to;) {
    const len = buf.readUInt16LE(at);
    if (len < 4 || at + len > to) break;
    const type = buf.readUInt16LE(at + 2) & NLA_TYPE_MASK;
    if (type === NFTA_SET_ELEM_KEY) {
      const value = findAttribute(buf, at + 4, at + len, NFTA_DATA_VALUE);
      if (value !== undefined) {
        if (value[1] - value[0] !== keyBytes) throw new EgressError('EGW_ERR_NFT', `a set element of ${value[1] - value[0]} bytes in an IPv${into.family} set`);
        key = dumpedKey(buf, value[0], into.family);
      }
    } else if (type === NFTA_SET_ELEM_TIMEOUT) timeoutMs = u64(buf.subarray(at + 4, at + len));
    else if (type === NFTA_SET_ELEM_EXPIRATION) expirationMs = u64(buf.subarray(at + 4, at + len));
    else if (type === NFTA_SET_ELEM_USERDATA) comment = userDataString(buf.subarray(at + 4, at + len), NFTNL_UDATA_SET_ELEM_COMMENT);
    at += align4(len);
  }
  if (key === undefined) return;
  into.keys.push(key);
  if (timeoutMs !== 0 || expirationMs !== 0 || comment !== undefined) into.optioned.push({ key, timeoutMs, expirationMs, ...(comment !== undefined ? { comment } : {}) });
}

/** Adds the elements in one datagram of the dump answering `seq` to `into`; true once the dump is done. Throws EGW_ERR_NFT for an error. */
export function parsePlainElementDump(buf: Buffer, seq: number, into: PlainElements): boolean {
  const walked = walkDatagram(buf, seq, (msgType, body) => {
    if (msgType !== NFT_MSG_NEWSETELEM) return;
    const list = findAttribute(body, 0, body.length, NFTA_SET_ELEM_LIST_ELEMENTS);
    if (list === undefined) return;
    for (let at = list[0]; at + 4 <= list[1];) {
      const len = body.readUInt16LE(at);
      if (len < 4 || at + len > list[1]) break;
      if ((body.readUInt16LE(at + 2) & NLA_TYPE_MASK) === NFTA_LIST_ELEM) readElement(body, at + 4, at + len, into);
      at += align4(len);
    }
  });
  if (walked.errno !== undefined) throw new EgressError('EGW_ERR_NFT', `nf_tables element dump failed: errno ${walked.errno}`);
  if (walked.interrupted) throw new EgressError('EGW_ERR_NFT', 'nf_tables element dump was interrupted by a change');
  return walked.done;
}

/**
 * The set as nfnetlink-sets.ts's observedSet() gives it, carrying its compact keys; `elements`
 * is formatted (sorted, as libnftables lists them) on first use only: adopting a table compares
 * keys and formats only the elements that differ.
 */
export function observedPlainSet(set: DumpedSet, dumped: PlainElements): ObservedSet {
  let texts: string[] | undefined;
  const timed = sortedOptioned(dumped.optioned).map((e) => observedTimedElement(keyText(e.key), e));
  return {
    name: set.name,
    type: set.type,
    flags: set.flags,
    interval: false,
    get elements() {
      return (texts ??= sortedKeys(dumped.keys, dumped.family).map(keyText));
    },
    keys: { family: dumped.family, keys: dumped.keys },
    ...(set.size !== undefined ? { size: set.size } : {}),
    ...(timed.length > 0 ? { timed } : {}),
  };
}

const sortedOptioned = (list: readonly OptionedKey[]) => [...list].sort((a, b) => byKey(a.key, b.key));
