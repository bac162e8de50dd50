/**
 * Queries to the upstream DNS server over a few long-lived UDP sockets, not one socket per query
 * (a socket per query cost more than the rest of the forwarding). Each query goes out under an ID
 * drawn at random among those free on its socket, and the pod's own ID is put back in the answer.
 * An answer counts only when it comes from the server's address and port (the sockets are
 * connected, so the kernel already drops others), carries an ID in flight on that socket and
 * repeats the query's question; anything else is ignored. Sockets are replaced after
 * `queriesPerSocket` queries, so the source port keeps changing as with a socket per query.
 */
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import { canonicalIp, isIp } from '../api/ip.js';

export interface UdpUpstreamOptions {
  readonly host: string;
  readonly port: number;
  readonly timeoutMs: number;
  /** Sockets used in turn; default 4. */
  readonly sockets?: number;
  /** Queries one socket sends before it is replaced; default 4096. */
  readonly queriesPerSocket?: number;
}

/** Why `ask` gave up on a query. */
export class UpstreamError extends Error {
  constructor(readonly reason: 'timeout' | 'malformed-query' | 'busy' | 'closed') {
    super(`upstream: ${reason}`);
  }
}

interface Pending {
  readonly originalId: number;
  readonly question: Buffer;
  readonly sentAt: number;
  readonly resolve: (answer: Buffer) => void;
  readonly reject: (err: UpstreamError) => void;
}

interface Slot {
  readonly socket: dgram.Socket;
  /** In flight by upstream ID; insertion order is sending order (the sweep relies on it). */
  readonly pending: Map<number, Pending>;
  sent: number;
  retired: boolean;
  /** Queries sent before the socket's connect completed (Node sends them only once it has). */
  waiting: Buffer[] | undefined;
}

const HEADER = 12;
const MAX_NAME = 255;
const RECV_BUFFER = 1 << 20;
/** IDs tried before a socket counts as full (in flight is bounded far below 65 536). */
const ID_TRIES = 32;

/**
 * The question section of a message with exactly one question and an uncompressed name (what
 * every resolver sends), as bytes; undefined for anything else.
 */
export function questionSection(message: Buffer): Buffer | undefined {
  if (message.length < HEADER + 5 || message.readUInt16BE(4) !== 1) return undefined;
  let at = HEADER;
  for (;;) {
    const len = message[at];
    if (len === undefined || (len & 0xc0) !== 0 || at - HEADER + 1 + len > MAX_NAME) return undefined;
    at += 1 + len;
    if (len === 0) break;
  }
  return at + 4 <= message.length ? message.subarray(HEADER, at + 4) : undefined;
}

/** Names compare without regard to ASCII case (a server may not keep the query's). */
function sameQuestion(a: Buffer, b: Buffer | undefined): boolean {
  if (!b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x === y) continue;
    const lower = x | 0x20;
    if (lower !== (y | 0x20) || lower < 0x61 || lower > 0x7a) return false;
  }
  return true;
}

export class UdpUpstream {
  readonly #options: Required<UdpUpstreamOptions>;
  readonly #slots: Slot[] = [];
  readonly #retired = new Set<Slot>();
  readonly #sweep: NodeJS.Timeout;
  #next = 0;
  #random = Buffer.alloc(0);
  #randomAt = 0;
  #closed = false;

  constructor(options: UdpUpstreamOptions) {
    this.#options = { sockets: 4, queriesPerSocket: 4096, ...options };
    for (let i = 0; i < this.#options.sockets; i++) this.#slots.push(this.#open());
    this.#sweep = setInterval(() => this.#expire(), Math.max(10, Math.min(250, this.#options.timeoutMs / 4)));
    this.#sweep.unref();
  }

  /** In flight on all sockets. */
  get inFlight(): number {
    let n = 0;
    for (const s of [...this.#slots, ...this.#retired]) n += s.pending.size;
    return n;
  }

  /** The upstream's answer to `query`, with the query's own ID; rejects with UpstreamError. */
  ask(query: Buffer): Promise<Buffer> {
    if (this.#closed) return Promise.reject(new UpstreamError('closed'));
    const question = questionSection(query);
    if (!question) return Promise.reject(new UpstreamError('malformed-query'));
    const index = this.#next++ % this.#slots.length;
    let slot = this.#slots[index]!;
    if (slot.sent >= this.#options.queriesPerSocket) {
      this.#retire(slot);
      slot = this.#open();
      this.#slots[index] = slot;
    }
    const id = this.#freeId(slot);
    if (id === undefined) return Promise.reject(new UpstreamError('busy'));
    const out = Buffer.from(query);
    out.writeUInt16BE(id, 0);
    slot.sent++;
    return new Promise((resolve, reject) => {
      slot.pending.set(id, { originalId: query.readUInt16BE(0), question: Buffer.from(question), sentAt: performance.now(), resolve, reject });
      if (slot.waiting) slot.waiting.push(out);
      else slot.socket.send(out);
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#sweep);
    for (const slot of [...this.#slots.splice(0), ...this.#retired]) {
      for (const p of slot.pending.values()) p.reject(new UpstreamError('closed'));
      slot.pending.clear();
      slot.socket.close();
    }
    this.#retired.clear();
  }

  #open(): Slot {
    const { host, port } = this.#options;
    const socket = dgram.createSocket({ type: net.isIPv6(host) ? 'udp6' : 'udp4', recvBufferSize: RECV_BUFFER });
    const slot: Slot = { socket, pending: new Map(), sent: 0, retired: false, waiting: [] };
    // Refused (the server is down) and the like: the queries in flight time out.
    socket.on('error', () => undefined);
    socket.on('message', (reply, rinfo) => this.#onReply(slot, reply, rinfo));
    socket.connect(port, host, () => {
      const waiting = slot.waiting ?? [];
      slot.waiting = undefined;
      for (const message of waiting) socket.send(message);
    });
    return slot;
  }

  #onReply(slot: Slot, reply: Buffer, rinfo: dgram.RemoteInfo): void {
    const { host, port } = this.#options;
    if (rinfo.port !== port || !sameAddress(rinfo.address, host) || reply.length < HEADER) return;
    const id = reply.readUInt16BE(0);
    const p = slot.pending.get(id);
    if (!p || !sameQuestion(p.question, questionSection(reply))) return;
    slot.pending.delete(id);
    const answer = Buffer.from(reply);
    answer.writeUInt16BE(p.originalId, 0);
    p.resolve(answer);
    if (slot.retired) this.#closeIfIdle(slot);
  }

  #freeId(slot: Slot): number | undefined {
    for (let i = 0; i < ID_TRIES; i++) {
      if (this.#randomAt + 2 > this.#random.length) {
        this.#random = randomBytes(4096);
        this.#randomAt = 0;
      }
      const id = this.#random.readUInt16BE(this.#randomAt);
      this.#randomAt += 2;
      if (!slot.pending.has(id)) return id;
    }
    return undefined;
  }

  #retire(slot: Slot): void {
    slot.retired = true;
    this.#retired.add(slot);
    this.#closeIfIdle(slot);
  }

  #closeIfIdle(slot: Slot): void {
    if (slot.pending.size > 0) return;
    this.#retired.delete(slot);
    slot.socket.close();
  }

  #expire(): void {
    const deadline = performance.now() - this.#options.timeoutMs;
    for (const slot of [...this.#slots, ...this.#retired]) {
      for (const [id, p] of slot.pending) {
        if (p.sentAt > deadline) break;
        slot.pending.delete(id);
        p.reject(new UpstreamError('timeout'));
      }
      if (slot.retired) this.#closeIfIdle(slot);
    }
  }
}

function sameAddress(seen: string, host: string): boolean {
  return seen === host || (isIp(seen) && isIp(host) && canonicalIp(seen.replace(/^::ffff:(?=\d+\.)/, '')) === canonicalIp(host));
}
