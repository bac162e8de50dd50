/**
 * Just enough nfnetlink to read nf_tables objects without libnftables: request building, the
 * nfgenmsg header and the libnftnl user-data TLVs that carry comments; the netlink framing is
 * netlink/netlink-message.ts's. Layouts from linux/netfilter/nf_tables.h.
 */
import { cString, netlinkRequest, walkMessages, type Walked } from '../netlink/netlink-message.js';

export const NFPROTO_INET = 1;
export const NFNL_SUBSYS_NFTABLES = 10;

const NFGENMSG_LEN = 4;

/** An nf_tables request: nlmsghdr + nfgenmsg + attributes. */
export function nftablesRequest(msgType: number, flags: number, family: number, seq: number, attrs: readonly Buffer[]): Buffer {
  const nfgenmsg = Buffer.alloc(NFGENMSG_LEN);
  nfgenmsg.writeUInt8(family, 0);
  nfgenmsg.writeUInt8(0, 1); // NFNETLINK_V0
  nfgenmsg.writeUInt16BE(0, 2); // res_id
  return netlinkRequest((NFNL_SUBSYS_NFTABLES << 8) | msgType, flags, seq, nfgenmsg, attrs);
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

/**
 * Walks the messages of one datagram that answer request `seq`, handing nf_tables messages
 * (attributes after the nfgenmsg header) to `onMessage`. Throws EGW_ERR_NFT on truncation.
 */
export function walkDatagram(buf: Buffer, seq: number, onMessage: (msgType: number, attrs: Buffer) => void): Walked {
  return walkMessages(buf, seq, 'EGW_ERR_NFT', (type, body) => {
    if (type >> 8 === NFNL_SUBSYS_NFTABLES) onMessage(type & 0xff, body.subarray(NFGENMSG_LEN));
  });
}
