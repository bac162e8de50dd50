/**
 * The DNS forwarder that pods selected by firewalls with rules by name are steered to. It passes
 * each query to the cluster's DNS server, learns the addresses of the answer for the pod that
 * asked, and hands the answer on only once `learn` resolved (the addresses are in their sets), so
 * the pod's first connection after a lookup is never refused. UDP and TCP (RFC 7766 framing).
 *
 * Fails closed: an answer it cannot read, or whose addresses could not be put into their sets,
 * becomes SERVFAIL for the pod, never an address the firewall would refuse.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import { listenOnOnePort } from './one-port.js';
import { decodeAnswer, learnFromAnswer, type DnsRuleTarget, type LearnedElement } from './learn.js';
import { questionSection, UdpUpstream, UpstreamError } from './udp-upstream.js';

interface Endpoint {
  readonly host: string;
  readonly port: number;
}

export type ForwardResult = 'passed' | 'learned' | 'servfail' | 'upstream-timeout' | 'dropped' | 'stranger' | 'malformed';

export interface ForwarderOptions {
  /** Where pods' steered queries arrive (UDP and TCP on the same port). */
  readonly listen: Endpoint;
  readonly upstream: Endpoint;
  /** The rules by name in force, read for every answer so a new rule applies to the next one. */
  readonly rules: () => readonly DnsRuleTarget[];
  readonly graceSeconds: number;
  /**
   * Whether a client is one of the pods steered here. The forwarder listens on node addresses a
   * LAN host can reach too; it must not be an open door to the cluster DNS: queries of others go
   * unanswered. Absent: everyone is served.
   */
  readonly serves?: (client: string) => boolean;
  /** Puts the elements into their sets; resolves once the kernel holds them. */
  readonly learn: (elements: readonly LearnedElement[]) => Promise<void>;
  readonly upstreamTimeoutMs?: number;
  /** Queries in flight at most; a flood beyond it is dropped (the clients retry). */
  readonly maxInFlight?: number;
  /** Told of every query's fate and how long the answer was held for learning. */
  readonly onResult?: (result: ForwardResult, holdMs: number, learned: readonly LearnedElement[]) => void;
  /** Told, for every UDP answer held for learning, when each of its steps happened (bench/firewall). */
  readonly onTimeline?: (timeline: AnswerTimeline) => void;
}

/** Where an answer held for learning spent its time: performance.now() in ms at each step. */
export interface AnswerTimeline {
  /** The query was read from the socket. */
  readonly received: number;
  /** The upstream's answer was read. */
  readonly upstreamAnswered: number;
  /** `learn` was called, and resolved (or failed). */
  readonly learnCalled: number;
  readonly learnDone: number;
  /** The answer was handed to the socket. */
  readonly sent: number;
}

/** Steps of one answer, filled in as it goes. */
type TimelineMarks = { -readonly [K in keyof AnswerTimeline]?: number };

const TCP_IDLE_MS = 10_000;
const MAX_TCP_MESSAGE = 65_535;
const UPSTREAM_TIMEOUT_MS = 5000;
/** Room for a burst of queries while the event loop is busy (the kernel caps it at rmem_max). */
const RECV_BUFFER = 1 << 20;

/** SERVFAIL for a query, with its id and question; undefined when the query does not decode. */
function servfailFor(query: Buffer): Buffer | undefined {
  try {
    const q = dnsPacket.decode(query);
    if (q.type !== 'query') return undefined;
    return dnsPacket.encode({
      type: 'response',
      id: q.id ?? 0,
      flags: ((q.flags ?? 0) & dnsPacket.RECURSION_DESIRED) | dnsPacket.RECURSION_AVAILABLE | 2,
      questions: q.questions ?? [],
    });
  } catch {
    return undefined;
  }
}

export class DnsForwarder {
  readonly #options: ForwarderOptions;
  #udp?: dgram.Socket;
  #tcp?: net.Server;
  #upstream?: UdpUpstream;
  readonly #sockets = new Set<net.Socket>();
  #inFlight = 0;

  constructor(options: ForwarderOptions) {
    this.#options = options;
  }

  /** Binds UDP and TCP on one port; rejects when it is taken (see listenOnOnePort for port 0). */
  async start(): Promise<void> {
    const { host, port } = this.#options.listen;
    // IPv6 sockets take IPv6 only, so one on `::` and one on `0.0.0.0` share the port.
    const ipv6Only = net.isIPv6(host);
    const { udp, tcp } = await listenOnOnePort(host, port, {
      udp: () => dgram.createSocket({ type: ipv6Only ? 'udp6' : 'udp4', reuseAddr: false, ipv6Only, recvBufferSize: RECV_BUFFER }),
      tcp: () => net.createServer((socket) => this.#onTcp(socket)),
      ipv6Only,
    });
    udp.on('error', () => undefined);
    udp.on('message', (msg, rinfo) => void this.#onUdp(udp, msg, rinfo));
    this.#udp = udp;
    this.#tcp = tcp;
    this.#upstream = new UdpUpstream({ ...this.#options.upstream, timeoutMs: this.#options.upstreamTimeoutMs ?? UPSTREAM_TIMEOUT_MS });
  }

  /** The UDP port bound (the listen port, or the one chosen for port 0). */
  get port(): number {
    return this.#udp?.address().port ?? 0;
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    this.#upstream?.close();
    await Promise.all([
      new Promise<void>((resolve) => (this.#udp ? this.#udp.close(() => resolve()) : resolve())),
      new Promise<void>((resolve) => (this.#tcp ? this.#tcp.close(() => resolve()) : resolve())),
    ]);
  }

  /** The answer a pod gets for `query`, or undefined for none (the pod retries). */
  answer(query: Buffer, client: string, transport: 'udp' | 'tcp'): Promise<Buffer | undefined> {
    return this.#answer(query, client, transport);
  }

  async #answer(query: Buffer, client: string, transport: 'udp' | 'tcp', marks?: TimelineMarks): Promise<Buffer | undefined> {
    const o = this.#options;
    if (o.serves && !o.serves(client.replace(/^::ffff:(?=\d+\.)/, ''))) {
      o.onResult?.('stranger', 0, []);
      return undefined;
    }
    // One question with a plain name, as every resolver asks: the answer is checked against it.
    if (!questionSection(query)) {
      o.onResult?.('malformed', 0, []);
      return undefined;
    }
    if (this.#inFlight >= (o.maxInFlight ?? 1024)) {
      o.onResult?.('dropped', 0, []);
      return undefined;
    }
    this.#inFlight++;
    try {
      let upstream: Buffer;
      try {
        upstream = await (transport === 'udp' ? this.#askUdp(query) : this.#askTcp(query));
      } catch (err) {
        o.onResult?.(err instanceof UpstreamError && err.reason === 'busy' ? 'dropped' : 'upstream-timeout', 0, []);
        return undefined;
      }
      if (marks) marks.upstreamAnswered = performance.now();
      const decoded = decodeAnswer(upstream);
      if (!decoded.ok) {
        o.onResult?.('servfail', 0, []);
        return servfailFor(query);
      }
      const learned = learnFromAnswer(decoded.packet, client, o.rules(), o.graceSeconds);
      if (learned.length === 0) {
        o.onResult?.('passed', 0, []);
        return upstream;
      }
      const held = performance.now();
      if (marks) marks.learnCalled = held;
      try {
        await o.learn(learned);
      } catch {
        o.onResult?.('servfail', performance.now() - held, learned);
        return servfailFor(query);
      } finally {
        if (marks) marks.learnDone = performance.now();
      }
      o.onResult?.('learned', performance.now() - held, learned);
      return upstream;
    } finally {
      this.#inFlight--;
    }
  }

  async #onUdp(socket: dgram.Socket, msg: Buffer, rinfo: dgram.RemoteInfo): Promise<void> {
    const onTimeline = this.#options.onTimeline;
    const marks: TimelineMarks | undefined = onTimeline ? { received: performance.now() } : undefined;
    const reply = await this.#answer(msg, rinfo.address, 'udp', marks);
    if (reply) socket.send(reply, rinfo.port, rinfo.address);
    if (marks?.learnDone === undefined) return;
    marks.sent = performance.now();
    onTimeline?.(marks as AnswerTimeline);
  }

  #onTcp(socket: net.Socket): void {
    this.#sockets.add(socket);
    socket.setTimeout(TCP_IDLE_MS, () => socket.destroy());
    socket.on('close', () => this.#sockets.delete(socket));
    socket.on('error', () => undefined);
    const client = socket.remoteAddress ?? '';
    let buffered = Buffer.alloc(0);
    let chain = Promise.resolve();
    socket.on('data', (data) => {
      buffered = Buffer.concat([buffered, data]);
      while (buffered.length >= 2) {
        const size = buffered.readUInt16BE(0);
        if (buffered.length < 2 + size) break;
        const query = buffered.subarray(2, 2 + size);
        buffered = buffered.subarray(2 + size);
        // Answers go back in the order asked; each waits for its own learning only.
        const pending = this.answer(Buffer.from(query), client, 'tcp');
        chain = chain.then(async () => {
          const reply = await pending;
          if (!reply) return void socket.destroy();
          if (!socket.destroyed) socket.write(frame(reply));
        });
      }
    });
  }

  #askUdp(query: Buffer): Promise<Buffer> {
    return this.#upstream ? this.#upstream.ask(query) : Promise.reject(new UpstreamError('closed'));
  }

  #askTcp(query: Buffer): Promise<Buffer> {
    const { host, port } = this.#options.upstream;
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port });
      let buffered = Buffer.alloc(0);
      socket.setTimeout(this.#options.upstreamTimeoutMs ?? 5000, () => socket.destroy(new Error('upstream timeout')));
      socket.on('error', reject);
      socket.on('close', () => reject(new Error('upstream closed')));
      socket.on('connect', () => socket.write(frame(query)));
      socket.on('data', (data) => {
        buffered = Buffer.concat([buffered, data]);
        if (buffered.length > 2 + MAX_TCP_MESSAGE) return void socket.destroy(new Error('oversized'));
        if (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
          const reply = Buffer.from(buffered.subarray(2, 2 + buffered.readUInt16BE(0)));
          socket.end();
          // The connection is ours alone; the id is checked all the same.
          if (reply.length < 2 || reply.readUInt16BE(0) !== query.readUInt16BE(0)) reject(new Error('upstream answered another query'));
          else resolve(reply);
        }
      });
    });
  }
}

function frame(message: Buffer): Buffer {
  const out = Buffer.alloc(2 + message.length);
  out.writeUInt16BE(message.length, 0);
  message.copy(out, 2);
  return out;
}
