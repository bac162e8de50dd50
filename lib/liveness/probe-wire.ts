/**
 * The probe datagram: what one node's prober sends to another's (a probe) and what comes back (an
 * answer). Big-endian, every field checked on decode; decoding never throws.
 *
 *   0  2  magic 0x53 0x50 ("SP")
 *   2  1  version (1)
 *   3  1  type: 1 probe, 2 answer
 *   4  1  flags: 0x01 healthy, 0x02 draining, 0x04 truncated (the lists below were cut to fit)
 *   5  1  reserved, 0
 *   6  4  sequence number (an answer echoes the probe's)
 *  10  8  stamp, float64 ms of the prober's monotonic clock (an answer echoes the probe's: RTT)
 *  18  1  sender name length n (1..253), then n bytes: the sender's node name (DNS-1123 subdomain)
 *      1  held EIP count, then per EIP: family (4 or 6) and 4 or 16 address bytes
 *      1  heard count, then per node: name length and name — the nodes the sender heard directly
 *         within its detection window
 * Nothing follows the last field; the whole datagram is at most MAX_DATAGRAM bytes.
 */
import { isDnsSubdomain } from '../api/names.js';
import { EgressError } from '../errors.js';
import { IPV4_MAPPED_RANGE, formatIp, parseIp, type Family } from '../api/ip.js';

/** Fits a 1500-byte MTU with room for IPv6, UDP and an encapsulation header. */
export const MAX_DATAGRAM = 1400;
/** The most EIPs or heard names one datagram lists (one count byte each). */
export const MAX_LIST = 255;
const WIRE_VERSION = 1;
const MAGIC = 0x5350;
const HEADER_BYTES = 18;
const FLAG_HEALTHY = 0x01;
const FLAG_DRAINING = 0x02;
const FLAG_TRUNCATED = 0x04;
const KNOWN_FLAGS = FLAG_HEALTHY | FLAG_DRAINING | FLAG_TRUNCATED;
const NAME_MAX = 253;
const ADDRESS_BYTES: Record<Family, number> = { 4: 4, 6: 16 };

type ProbeType = 'probe' | 'answer';

export interface ProbePacket {
  readonly type: ProbeType;
  readonly healthy: boolean;
  readonly draining: boolean;
  /** Set by encodeProbe when holds or heard did not fit; a decoded list may then be incomplete. */
  readonly truncated: boolean;
  /** uint32. */
  readonly seq: number;
  /** Finite, >= 0. */
  readonly stamp: number;
  readonly sender: string;
  /** Canonical addresses, no duplicates. */
  readonly holds: readonly string[];
  /** Node names, no duplicates. */
  readonly heard: readonly string[];
}

/** Why a datagram was not accepted (a value for tests and debug logs, not for metric labels). */
export type WireProblem = 'oversized' | 'short' | 'magic' | 'version' | 'type' | 'flags' | 'reserved' | 'stamp' | 'sender' | 'holds' | 'heard' | 'trailing';

export type DecodeResult = { readonly packet: ProbePacket; readonly problem?: undefined } | { readonly packet?: undefined; readonly problem: WireProblem };

const TYPE_CODES: Record<ProbeType, number> = { probe: 1, answer: 2 };

/**
 * Encodes a packet; `truncated` in the input is ignored and set when holds (first) or heard names
 * had to be cut to stay within MAX_DATAGRAM or MAX_LIST. Throws EGW_ERR_PROBE_INPUT when the
 * sender is not a node name; heard names and holds are checked where they come in (the prober),
 * and here only skipped when they would not decode.
 */
export function encodeProbe(packet: Omit<ProbePacket, 'truncated'>): Buffer {
  if (!isDnsSubdomain(packet.sender)) throw new EgressError('EGW_ERR_PROBE_INPUT', `node name "${packet.sender}" is not a DNS-1123 subdomain`);
  const out = Buffer.alloc(MAX_DATAGRAM);
  const name = Buffer.from(packet.sender, 'latin1');
  out.writeUInt16BE(MAGIC, 0);
  out.writeUInt8(WIRE_VERSION, 2);
  out.writeUInt8(TYPE_CODES[packet.type], 3);
  out.writeUInt8(0, 5);
  out.writeUInt32BE(packet.seq >>> 0, 6);
  out.writeDoubleBE(packet.stamp, 10);
  out.writeUInt8(name.length, HEADER_BYTES);
  name.copy(out, HEADER_BYTES + 1);
  let at = HEADER_BYTES + 1 + name.length;
  let truncated = false;
  // One byte stays free after the holds for the heard count.
  const holdsAt = at++;
  let holds = 0;
  for (const ip of packet.holds) {
    const parsed = parseHold(ip);
    if (parsed === undefined) continue;
    const size = 1 + ADDRESS_BYTES[parsed.family];
    if (holds === MAX_LIST || at + size + 1 > MAX_DATAGRAM) {
      truncated = true;
      break;
    }
    out.writeUInt8(parsed.family, at);
    writeAddress(out, at + 1, parsed.value, parsed.family);
    at += size;
    holds++;
  }
  out.writeUInt8(holds, holdsAt);
  const heardAt = at++;
  let heard = 0;
  for (const node of packet.heard) {
    if (!isDnsSubdomain(node)) continue;
    const bytes = Buffer.from(node, 'latin1');
    if (heard === MAX_LIST || at + 1 + bytes.length > MAX_DATAGRAM) {
      truncated = true;
      break;
    }
    out.writeUInt8(bytes.length, at);
    bytes.copy(out, at + 1);
    at += 1 + bytes.length;
    heard++;
  }
  out.writeUInt8(heard, heardAt);
  out.writeUInt8((packet.healthy ? FLAG_HEALTHY : 0) | (packet.draining ? FLAG_DRAINING : 0) | (truncated ? FLAG_TRUNCATED : 0), 4);
  return out.subarray(0, at);
}

/** Decodes one datagram; every malformed, truncated or oversized input gives a problem instead. */
export function decodeProbe(data: Uint8Array): DecodeResult {
  if (data.length > MAX_DATAGRAM) return { problem: 'oversized' };
  if (data.length < HEADER_BYTES + 1) return { problem: 'short' };
  const buf = Buffer.from(data.buffer, data.byteOffset, data.length);
  if (buf.readUInt16BE(0) !== MAGIC) return { problem: 'magic' };
  if (buf[2] !== WIRE_VERSION) return { problem: 'version' };
  const type = buf[3] === TYPE_CODES.probe ? 'probe' : buf[3] === TYPE_CODES.answer ? 'answer' : undefined;
  if (type === undefined) return { problem: 'type' };
  const flags = buf[4]!;
  if ((flags & ~KNOWN_FLAGS) !== 0) return { problem: 'flags' };
  if (buf[5] !== 0) return { problem: 'reserved' };
  const seq = buf.readUInt32BE(6);
  const stamp = buf.readDoubleBE(10);
  if (!Number.isFinite(stamp) || stamp < 0) return { problem: 'stamp' };
  const reader = new Reader(buf, HEADER_BYTES);
  const sender = reader.name();
  if (sender === undefined) return { problem: reader.past ? 'short' : 'sender' };
  const holds = readHolds(reader);
  if (holds === undefined) return { problem: reader.past ? 'short' : 'holds' };
  const heard = readHeard(reader);
  if (heard === undefined) return { problem: reader.past ? 'short' : 'heard' };
  if (reader.at !== buf.length) return { problem: 'trailing' };
  return {
    packet: {
      type,
      healthy: (flags & FLAG_HEALTHY) !== 0,
      draining: (flags & FLAG_DRAINING) !== 0,
      truncated: (flags & FLAG_TRUNCATED) !== 0,
      seq,
      stamp,
      sender,
      holds,
      heard,
    },
  };
}

/** Reads forward through a buffer; `past` is set once a read would go beyond the end. */
class Reader {
  at: number;
  past = false;
  constructor(
    private readonly buf: Buffer,
    at: number,
  ) {
    this.at = at;
  }

  bytes(n: number): Buffer | undefined {
    if (this.at + n > this.buf.length) {
      this.past = true;
      return undefined;
    }
    const out = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }

  byte(): number | undefined {
    return this.bytes(1)?.[0];
  }

  /** A length-prefixed DNS-1123 subdomain. */
  name(): string | undefined {
    const length = this.byte();
    if (length === undefined || length === 0 || length > NAME_MAX) return undefined;
    const text = this.bytes(length)?.toString('latin1');
    return text !== undefined && isDnsSubdomain(text) ? text : undefined;
  }
}

function readHolds(reader: Reader): string[] | undefined {
  const count = reader.byte();
  if (count === undefined) return undefined;
  const holds: string[] = [];
  for (let i = 0; i < count; i++) {
    const family = reader.byte();
    if (family !== 4 && family !== 6) return undefined;
    const bytes = reader.bytes(ADDRESS_BYTES[family]);
    if (bytes === undefined) return undefined;
    const value = BigInt(`0x${bytes.toString('hex')}`);
    // The IPv4-mapped range is refused everywhere else (lib/api/ip.ts): one address, one spelling.
    if (family === 6 && value >= IPV4_MAPPED_RANGE.start && value <= IPV4_MAPPED_RANGE.end) return undefined;
    const ip = formatIp(value, family);
    if (holds.includes(ip)) return undefined;
    holds.push(ip);
  }
  return holds;
}

function readHeard(reader: Reader): string[] | undefined {
  const count = reader.byte();
  if (count === undefined) return undefined;
  const heard = new Set<string>();
  for (let i = 0; i < count; i++) {
    const node = reader.name();
    if (node === undefined || heard.has(node)) return undefined;
    heard.add(node);
  }
  return [...heard];
}

function parseHold(ip: string): { family: Family; value: bigint } | undefined {
  try {
    return parseIp(ip);
  } catch {
    return undefined;
  }
}

function writeAddress(out: Buffer, at: number, value: bigint, family: Family): void {
  const bytes = ADDRESS_BYTES[family];
  for (let i = bytes - 1; i >= 0; i--) {
    out[at + i] = Number(value & 0xffn);
    value >>= 8n;
  }
}
