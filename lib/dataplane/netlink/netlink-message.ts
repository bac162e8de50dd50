/**
 * Netlink framing shared by the netfilter and rtnetlink readers: attributes (type-length-value,
 * 4-byte aligned) and the message headers of one datagram. Headers are host-endian; this module
 * writes and reads them little-endian (netlink-socket.ts refuses big-endian hosts). Layouts from
 * netlink(7) and linux/netlink.h.
 */
import { constants } from 'node:os';
import { EgressError, type ErrorCode } from '../../errors.js';

export const NLM_F_REQUEST = 0x1;
export const NLM_F_ACK = 0x4;
export const NLM_F_DUMP = 0x300;
/** Set on the messages of a dump the kernel saw change while it ran: the dump may be inconsistent. */
export const NLM_F_DUMP_INTR = 0x10;
export const NLA_F_NESTED = 0x8000;
export const NLMSG_HDRLEN = 16;

const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;
const NLA_TYPE_MASK = 0x3fff; // without NLA_F_NESTED / NLA_F_NET_BYTEORDER

export const align4 = (n: number) => (n + 3) & ~3;

const ERRNO_NAMES = new Map(Object.entries(constants.errno).map(([name, n]) => [n, name]));

/** An errno the kernel answered with, by its name (EEXIST), or its number when it has none here. */
export const errnoName = (errno: number): string => ERRNO_NAMES.get(errno) ?? `errno ${errno}`;

/** One attribute: header, payload, padding. */
export function attr(type: number, payload: Buffer): Buffer {
  const out = Buffer.alloc(align4(4 + payload.length));
  out.writeUInt16LE(4 + payload.length, 0);
  out.writeUInt16LE(type, 2);
  payload.copy(out, 4);
  return out;
}

export const stringPayload = (s: string) => Buffer.from(`${s}\0`, 'utf8');

/** A request: nlmsghdr + `header` (the family's fixed header) + attributes. */
export function netlinkRequest(msgType: number, flags: number, seq: number, header: Buffer, attrs: readonly Buffer[] = []): Buffer {
  const head = Buffer.alloc(NLMSG_HDRLEN);
  const body = Buffer.concat([header, ...attrs]);
  head.writeUInt32LE(NLMSG_HDRLEN + body.length, 0);
  head.writeUInt16LE(msgType, 4);
  head.writeUInt16LE(flags, 6);
  head.writeUInt32LE(seq, 8);
  head.writeUInt32LE(0, 12); // port id: 0, the kernel fills ours in
  return Buffer.concat([head, body]);
}

/** Attributes of `buf`, by type; a repeated type keeps the last one. */
export function attributes(buf: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  for (const [type, payload] of attributeList(buf)) out.set(type, payload);
  return out;
}

/** The first attribute of `type` in `buf`, found without reading the others into a map. */
export function attribute(buf: Buffer, type: number): Buffer | undefined {
  for (let at = 0; at + 4 <= buf.length;) {
    const len = buf.readUInt16LE(at);
    if (len < 4 || at + len > buf.length) return undefined;
    if ((buf.readUInt16LE(at + 2) & NLA_TYPE_MASK) === type) return buf.subarray(at + 4, at + len);
    at += align4(len);
  }
  return undefined;
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

export interface Walked {
  /** NLMSG_DONE, or the ACK of a non-dump request, was seen. */
  readonly done: boolean;
  /** errno of an NLMSG_ERROR that answered the request, if any. */
  readonly errno?: number;
  /** Some message carried NLM_F_DUMP_INTR. */
  readonly interrupted?: boolean;
}

/**
 * Walks the messages of one datagram that answer request `seq`, handing each data message (its
 * type, flags and the bytes after nlmsghdr) to `onMessage`. `errorCode` names the failure of a
 * truncated datagram (EGW_ERR_NFT, EGW_ERR_NETLINK).
 */
export function walkMessages(buf: Buffer, seq: number, errorCode: ErrorCode, onMessage: (msgType: number, body: Buffer) => void): Walked {
  let interrupted = false;
  for (let at = 0; at + NLMSG_HDRLEN <= buf.length;) {
    const len = buf.readUInt32LE(at);
    if (len < NLMSG_HDRLEN || at + len > buf.length) throw new EgressError(errorCode, `truncated netlink message (${len} bytes at ${at})`);
    const type = buf.readUInt16LE(at + 4);
    if (buf.readUInt32LE(at + 8) === seq) {
      if ((buf.readUInt16LE(at + 6) & NLM_F_DUMP_INTR) !== 0) interrupted = true;
      if (type === NLMSG_DONE) return { done: true, interrupted };
      if (type === NLMSG_ERROR) {
        const errno = -buf.readInt32LE(at + NLMSG_HDRLEN);
        return errno === 0 ? { done: true, interrupted } : { done: true, errno, interrupted };
      }
      onMessage(type, buf.subarray(at + NLMSG_HDRLEN, at + len));
    }
    at += align4(len);
  }
  return { done: false, interrupted };
}
