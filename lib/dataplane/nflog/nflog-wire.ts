/**
 * Just enough nfnetlink_log to read what nft `log group N` sends: the request that binds a group
 * (copying only the first bytes of each packet) and the parse of the packets it delivers. Layouts
 * from linux/netfilter/nfnetlink_log.h; message headers are host-endian (little-endian here, as in
 * netlink-message.ts), the log's own values big-endian.
 *
 * What a packet says is only ever reported, never acted on: a parse takes fixed offsets, bounds
 * every read, and turns what it finds into addresses, a protocol name and a port number.
 */
import { formatIp, type Family } from '../../api/ip.js';
import { align4, attr, attributes, cString, netlinkRequest, NLM_F_ACK, NLM_F_REQUEST, NLMSG_HDRLEN } from '../netlink/netlink-message.js';

const NLMSG_ERROR = 2;
const NFGENMSG_LEN = 4;
const NFNL_SUBSYS_ULOG = 4;
const NFULNL_MSG_PACKET = 0;
const NFULNL_MSG_CONFIG = 1;
const NFULA_CFG_CMD = 1;
const NFULA_CFG_MODE = 2;
const NFULA_CFG_TIMEOUT = 4;
const NFULA_CFG_QTHRESH = 5;
const NFULNL_CFG_CMD_BIND = 1;
const NFULNL_COPY_PACKET = 2;
const NFULA_PAYLOAD = 9;
const NFULA_PREFIX = 10;
const NFPROTO_IPV4 = 2;
const NFPROTO_IPV6 = 10;

/** Bytes of each packet the kernel copies: an IPv6 header and the first bytes of a transport header fit. */
export const COPY_RANGE = 64;
/** The kernel sends a batch after this many packets or this long (1/100 s), whichever comes first. */
const QUEUE_THRESHOLD = 32;
const FLUSH_CENTISECONDS = 10;

const PROTOCOLS: Readonly<Record<number, string>> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'icmpv6', 132: 'sctp' };
const WITH_PORTS = new Set([6, 17, 132]);

/** Binds `group` to the sending socket, copying COPY_RANGE bytes of each packet. */
export function bindGroupRequest(group: number, seq: number): Buffer {
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n, 0);
    return b;
  };
  const mode = Buffer.alloc(6); // struct nfulnl_msg_config_mode, packed
  mode.writeUInt32BE(COPY_RANGE, 0);
  mode.writeUInt8(NFULNL_COPY_PACKET, 4);
  const nfgenmsg = Buffer.alloc(NFGENMSG_LEN); // family AF_UNSPEC, NFNETLINK_V0
  nfgenmsg.writeUInt16BE(group, 2); // res_id: the group
  return netlinkRequest((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG, NLM_F_REQUEST | NLM_F_ACK, seq, nfgenmsg, [
    attr(NFULA_CFG_CMD, Buffer.from([NFULNL_CFG_CMD_BIND])),
    attr(NFULA_CFG_MODE, mode),
    attr(NFULA_CFG_TIMEOUT, u32(FLUSH_CENTISECONDS)),
    attr(NFULA_CFG_QTHRESH, u32(QUEUE_THRESHOLD)),
  ]);
}

/** One logged packet as far as it can be read; fields a short or odd packet lacks are absent. */
export interface LoggedPacket {
  /** The log statement's prefix: printable ASCII, at most 127 characters. */
  readonly prefix: string;
  readonly family?: Family;
  readonly source?: string;
  readonly destination?: string;
  /** `tcp`, `udp`, `sctp`, `icmp`, `icmpv6`, or `ip-proto-N`. */
  readonly protocol?: string;
  /** Destination port (TCP, UDP, SCTP; not for a later fragment). */
  readonly port?: number;
}

/**
 * Calls `onMessage` for each logged packet of a datagram (its attributes) and returns the errno of
 * an acknowledgement to `seq` in it, if one is there (0: success).
 */
export function walkLogDatagram(buf: Buffer, seq: number, onMessage: (family: number, attrs: Buffer) => void): number | undefined {
  let ack: number | undefined;
  for (let at = 0; at + NLMSG_HDRLEN <= buf.length;) {
    const len = buf.readUInt32LE(at);
    if (len < NLMSG_HDRLEN || at + len > buf.length) break;
    const type = buf.readUInt16LE(at + 4);
    if (type === NLMSG_ERROR && len >= NLMSG_HDRLEN + 4 && buf.readUInt32LE(at + 8) === seq) ack = -buf.readInt32LE(at + NLMSG_HDRLEN);
    if (type === ((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET) && len >= NLMSG_HDRLEN + NFGENMSG_LEN) {
      onMessage(buf.readUInt8(at + NLMSG_HDRLEN), buf.subarray(at + NLMSG_HDRLEN + NFGENMSG_LEN, at + len));
    }
    at += align4(len);
  }
  return ack;
}

/** Printable ASCII of the prefix, at most 127 characters; anything else becomes `?`. */
function cleanPrefix(raw: string | undefined): string {
  return (raw ?? '').slice(0, 127).replace(/[^\x20-\x7e]/g, '?');
}

/** The packet of one log message (its attributes, after the nfgenmsg header). */
export function parseLoggedPacket(family: number, attrBuf: Buffer): LoggedPacket {
  const attrs = attributes(attrBuf);
  const prefix = cleanPrefix(cString(attrs.get(NFULA_PREFIX)));
  const payload = attrs.get(NFULA_PAYLOAD);
  if (payload === undefined) return { prefix };
  if (family === NFPROTO_IPV4 && payload.length >= 20 && payload.readUInt8(0) >> 4 === 4) return { prefix, ...ipv4(payload) };
  if (family === NFPROTO_IPV6 && payload.length >= 40 && payload.readUInt8(0) >> 4 === 6) return { prefix, ...ipv6(payload) };
  return { prefix };
}

function transport(protocol: number, payload: Buffer, l4: number, firstFragment: boolean): Pick<LoggedPacket, 'protocol' | 'port'> {
  const name = PROTOCOLS[protocol] ?? `ip-proto-${protocol}`;
  if (!WITH_PORTS.has(protocol) || !firstFragment || payload.length < l4 + 4) return { protocol: name };
  return { protocol: name, port: payload.readUInt16BE(l4 + 2) };
}

function ipv4(p: Buffer): Omit<LoggedPacket, 'prefix'> {
  const headerBytes = (p.readUInt8(0) & 0x0f) * 4;
  const firstFragment = (p.readUInt16BE(6) & 0x1fff) === 0;
  return {
    family: 4,
    source: formatIp(BigInt(p.readUInt32BE(12)), 4),
    destination: formatIp(BigInt(p.readUInt32BE(16)), 4),
    ...transport(p.readUInt8(9), p, headerBytes >= 20 ? headerBytes : p.length, firstFragment),
  };
}

function ipv6(p: Buffer): Omit<LoggedPacket, 'prefix'> {
  const address = (at: number) => formatIp(BigInt(`0x${p.toString('hex', at, at + 16)}`), 6);
  // Only a transport header right after the fixed header is read; extension headers are not walked.
  return { family: 6, source: address(8), destination: address(24), ...transport(p.readUInt8(6), p, 40, true) };
}
