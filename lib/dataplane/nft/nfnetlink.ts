/**
 * Just enough nfnetlink to read nf_tables objects without libnftables: request building,
 * attribute walking and the libnftnl user-data TLVs that carry comments. Message and attribute
 * headers are host-endian; this module writes and reads them little-endian (netfilter-socket.ts
 * refuses big-endian hosts). Layouts from netlink(7) and linux/netfilter/nf_tables.h.
 */
import { EgressError } from '../../errors.js';

export const NFPROTO_INET = 1;
export const NFNL_SUBSYS_NFTABLES = 10;
export const NLM_F_REQUEST = 0x1;
export const NLM_F_ACK = 0x4;
export const NLM_F_DUMP = 0x300;

export const NLMSG_HDRLEN = 16;
export const NFGENMSG_LEN = 4;
export const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;
const NLA_TYPE_MASK = 0x3fff; // without NLA_F_NESTED / NLA_F_NET_BYTEORDER

export const align4 = (n: number) => (n + 3) & ~3;

/** One attribute: header, payload, padding. */
export function attr(type: number, payload: Buffer): Buffer {
  const out = Buffer.alloc(align4(4 + payload.length));
  out.writeUInt16LE(4 + payload.length, 0);
  out.writeUInt16LE(type, 2);
  payload.copy(out, 4);
  return out;
}

export const stringPayload = (s: string) => Buffer.from(`${s}\0`, 'utf8');

/** An nf_tables request: nlmsghdr + nfgenmsg + attributes. */
export function nftablesRequest(msgType: number, flags: number, family: number, seq: number, attrs: readonly Buffer[]): Buffer {
  return nfnetlinkRequest(NFNL_SUBSYS_NFTABLES, msgType, flags, family, seq, 0, attrs);
}

/** A request to any nfnetlink subsystem; `resId` is the subsystem's resource (nfnetlink_log: the group). */
export function nfnetlinkRequest(subsys: number, msgType: number, flags: number, family: number, seq: number, resId: number, attrs: readonly Buffer[]): Buffer {
  const body = Buffer.concat(attrs);
  const head = Buffer.alloc(NLMSG_HDRLEN + NFGENMSG_LEN);
  head.writeUInt32LE(head.length + body.length, 0);
  head.writeUInt16LE((subsys << 8) | msgType, 4);
  head.writeUInt16LE(flags, 6);
  head.writeUInt32LE(seq, 8);
  head.writeUInt32LE(0, 12); // port id: 0, the kernel fills ours in
  head.writeUInt8(family, 16);
  head.writeUInt8(0, 17); // NFNETLINK_V0
  head.writeUInt16BE(resId, 18);
  return Buffer.concat([head, body]);
}

/** Attributes of `buf`, by type; a repeated type keeps the last one. */
export function attributes(buf: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  for (const [type, payload] of attributeList(buf)) out.set(type, payload);
  return out;
}

/** Attributes of `buf` in order, for nested lists whose entries share one type. */
export function attributeList(buf: Buffer): [number, Buffer][] {
  const out: [number, Buffer][] = [];
  for (let at = 0; at + 4 <= buf.length;) {
    const len = buf.readUInt16LE(at);
    if (len < 4 || at + len > buf.length) break;
    out.push([buf.readUInt16LE(at + 2) & NLA_TYPE_MASK, buf.subarray(at + 4, at + len)]);
    at += align4(len);
  }
  return out;
}

export function cString(b: Buffer | undefined): string | undefined {
  if (b === undefined) return undefined;
  const nul = b.indexOf(0);
  return b.toString('utf8', 0, nul < 0 ? b.length : nul);
}

export function u64(b: Buffer | undefined): number {
  return b && b.length >= 8 ? Number(b.readBigUInt64BE(0)) : 0;
}

/** A string libnftnl stored in NFTA_*_USERDATA as a (type u8, len u8, value) TLV; comments are type 0. */
export function userDataString(userdata: Buffer | undefined, type: number): string | undefined {
  if (userdata === undefined) return undefined;
  for (let at = 0; at + 2 <= userdata.length;) {
    const t = userdata.readUInt8(at);
    const len = userdata.readUInt8(at + 1);
    if (at + 2 + len > userdata.length) break;
    if (t === type) return cString(userdata.subarray(at + 2, at + 2 + len));
    at += 2 + len;
  }
  return undefined;
}

export interface Walked {
  /** NLMSG_DONE, or the ACK of a non-dump request, was seen. */
  readonly done: boolean;
  /** errno of an NLMSG_ERROR that answered the request, if any. */
  readonly errno?: number;
}

/**
 * Walks the messages of one datagram that answer request `seq`, handing nf_tables messages
 * (attributes after the nfgenmsg header) to `onMessage`. Throws EGW_ERR_NFT on truncation.
 */
export function walkDatagram(buf: Buffer, seq: number, onMessage: (msgType: number, attrs: Buffer) => void): Walked {
  for (let at = 0; at + NLMSG_HDRLEN <= buf.length;) {
    const len = buf.readUInt32LE(at);
    if (len < NLMSG_HDRLEN || at + len > buf.length) throw new EgressError('EGW_ERR_NFT', `truncated netlink message (${len} bytes at ${at})`);
    const type = buf.readUInt16LE(at + 4);
    if (buf.readUInt32LE(at + 8) === seq) {
      if (type === NLMSG_DONE) return { done: true };
      if (type === NLMSG_ERROR) {
        const errno = -buf.readInt32LE(at + NLMSG_HDRLEN);
        return errno === 0 ? { done: true } : { done: true, errno };
      }
      if (type >> 8 === NFNL_SUBSYS_NFTABLES) onMessage(type & 0xff, buf.subarray(at + NLMSG_HDRLEN + NFGENMSG_LEN, at + len));
    }
    at += align4(len);
  }
  return { done: false };
}
