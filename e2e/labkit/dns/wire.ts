/**
 * DNS messages on the wire for the lab's servers, with dns-packet: answers from a zone (with EDNS and
 * truncation, so a big answer over UDP makes the client retry over TCP, as real servers do), and the
 * error answers a server gives. Pure.
 */
import dnsPacket, { type Answer, type DecodedPacket, type Packet, type Question } from 'dns-packet';
import type { QueryType, ZoneAnswerer } from './zone.js';

export type Rcode = 'NOERROR' | 'FORMERR' | 'SERVFAIL' | 'NXDOMAIN' | 'NOTIMP' | 'REFUSED';
const RCODES: Record<Rcode, number> = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 };

/** Plain DNS over UDP without EDNS (RFC 1035); with EDNS the client's size, capped as DNS Flag Day 2020 advises. */
export const CLASSIC_UDP_SIZE = 512;
export const EDNS_UDP_SIZE = 1232;
/** Over TCP a message may take the whole 16-bit length. */
export const TCP_SIZE = 65_535;
/** Negative answers may be cached this long (the SOA minimum). */
const NEGATIVE_TTL = 5;

export interface QueryInfo {
  id: number;
  name: string;
  type: string;
}

/** The first question of a query, or undefined when the message is not a query we can answer. */
export function parseQuery(msg: Buffer): { packet: DecodedPacket; question: Question } | undefined {
  let packet: DecodedPacket;
  try {
    packet = dnsPacket.decode(msg);
  } catch {
    return undefined;
  }
  const question = packet.questions?.[0];
  if (packet.type !== 'query' || !question) return undefined;
  return { packet, question };
}

/** The size limit of an answer over UDP to this query. */
export function udpLimit(query: DecodedPacket): number {
  const opt = query.additionals?.find((a) => a.type === 'OPT');
  if (!opt || !('udpPayloadSize' in opt)) return CLASSIC_UDP_SIZE;
  return Math.max(CLASSIC_UDP_SIZE, Math.min(opt.udpPayloadSize, EDNS_UDP_SIZE));
}

interface Body {
  rcode: Rcode;
  authoritative: boolean;
  answers?: Answer[];
  authorities?: Answer[];
}

/** Encodes an answer to `query`; one that does not fit `limit` goes out empty with TC set. */
export function respond(query: DecodedPacket, body: Body, limit: number): Buffer {
  const edns = query.additionals?.some((a) => a.type === 'OPT') ?? false;
  const flags = ((query.flags ?? 0) & dnsPacket.RECURSION_DESIRED) | dnsPacket.RECURSION_AVAILABLE | (body.authoritative ? dnsPacket.AUTHORITATIVE_ANSWER : 0) | RCODES[body.rcode];
  const base: Packet = {
    type: 'response',
    id: query.id ?? 0,
    flags,
    questions: query.questions ?? [],
    additionals: edns ? [{ type: 'OPT', name: '.', udpPayloadSize: EDNS_UDP_SIZE, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }] : [],
  };
  const full = dnsPacket.encode({ ...base, answers: body.answers ?? [], authorities: body.authorities ?? [] });
  if (full.length <= limit) return full;
  return dnsPacket.encode({ ...base, flags: flags | dnsPacket.TRUNCATED_RESPONSE, answers: [], authorities: [] });
}

export function errorResponse(msg: Buffer, rcode: Rcode): Buffer | undefined {
  const q = parseQuery(msg);
  return q ? respond(q.packet, { rcode, authoritative: false }, TCP_SIZE) : undefined;
}

const soa = (serial: number): Answer => ({
  name: '.',
  type: 'SOA',
  ttl: NEGATIVE_TTL,
  data: { mname: 'ns.sluice.test', rname: 'hostmaster.sluice.test', serial, refresh: 60, retry: 10, expire: 600, minimum: NEGATIVE_TTL },
});

/** The zone's answer to a parsed query. */
export function zoneResponse(query: DecodedPacket, question: Question, zone: ZoneAnswerer, serial: number, limit: number): Buffer {
  if (question.class !== undefined && question.class !== 'IN') return respond(query, { rcode: 'REFUSED', authoritative: false }, limit);
  const known: readonly string[] = ['A', 'AAAA', 'CNAME'];
  // Any other type: the alias if the name is one, else "no such data" (or no such name).
  const qtype = (known.includes(question.type) ? question.type : 'CNAME') as QueryType;
  const r = zone.resolve(question.name, qtype);
  const answers: Answer[] = r.answers.map((a) => ({ name: a.name, type: a.type, ttl: a.ttl, data: a.data }));
  const negative = answers.length === 0;
  return respond(query, { rcode: r.rcode, authoritative: true, answers, authorities: negative ? [soa(serial)] : [] }, limit);
}

/** Length-prefixed messages (DNS over TCP, RFC 1035 4.2.2): feed bytes in, get whole messages out. */
export class TcpFramer {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: Buffer[] = [];
    while (this.buf.length >= 2) {
      const len = this.buf.readUInt16BE(0);
      if (this.buf.length < 2 + len) break;
      out.push(this.buf.subarray(2, 2 + len));
      this.buf = this.buf.subarray(2 + len);
    }
    return out;
  }
}

export function tcpFrame(msg: Buffer): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(msg.length);
  return Buffer.concat([len, msg]);
}

/** A readable summary of an answer, for logs and the query tool. */
export function describeResponse(msg: Buffer): {
  id: number;
  rcode: string;
  authoritative: boolean;
  truncated: boolean;
  answers: Array<{ name: string; type: string; ttl: number; data: string }>;
} {
  const p = dnsPacket.decode(msg) as DecodedPacket & { rcode?: string };
  const flags = p.flags ?? 0;
  return {
    id: p.id ?? 0,
    rcode: p.rcode ?? 'NOERROR',
    authoritative: (flags & dnsPacket.AUTHORITATIVE_ANSWER) !== 0,
    truncated: (flags & dnsPacket.TRUNCATED_RESPONSE) !== 0,
    answers: (p.answers ?? [])
      .filter((a) => a.type !== 'OPT')
      .map((a) => ({ name: a.name, type: a.type, ttl: 'ttl' in a ? (a.ttl ?? 0) : 0, data: typeof a.data === 'string' ? a.data : JSON.stringify(a.data) })),
  };
}
