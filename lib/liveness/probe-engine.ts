/**
 * The probing itself, BFD-like and without the API server: every interval this node sends a probe
 * to every peer, answers every probe at once, and judges its peers by what it heard (rules in
 * peer-table.ts). The agent runs it in a worker thread (prober.ts, probe-worker.ts), off its own
 * event loop; tests run it in-thread to wrap its socket.
 *
 * Trust: a datagram is used only when its source address is a known peer's address AND the sender
 * name inside is that peer's name. That stops strays and misconfigured nodes, not an attacker on
 * the node LAN: there is no authentication, so a host that can send from a node's address (spoof
 * it) can forge probes and answers for that node. It can keep a dead node alive (suppress a
 * failover: the node is heard, or named in a forged heard list), make a live node look unhealthy
 * or draining (move its EIPs away), fake holds, or flood the node with probes (answers are capped
 * per peer and interval, see ANSWERS_PER_INTERVAL, so the node is no amplifier, and a peer's own
 * probes still reach us when its answers are used up). Forged packets cannot fake a death while
 * the real ones arrive; an attacker fakes one by stopping them (ARP/NDP spoofing, flooding the
 * link or the socket's buffer). The API server's readiness and the Lease remain the fence; the
 * probes only make failover faster.
 */
import { performance } from 'node:perf_hooks';
import { canonicalIp, ipFamily, isIp } from '../api/ip.js';
import { errorMessage } from '../errors.js';
import type { LivenessView, SelfReport } from './liveness-types.js';
import { PeerTable, type Evaluation, type Peer, type Sender } from './peer-table.js';
import { SILENT_LOGGER, type ProbeErrorCode, type ProbeLogger, type ProbeMetricsSink, type RejectReason } from './probe-observers.js';
import { openUdpProbeSocket, type OpenProbeSocket, type ProbeSocket } from './probe-socket.js';
import { decodeProbe, encodeProbe, type ProbePacket } from './probe-wire.js';
import { checkPeers, checkSelf, sameSelf, type KnownNode, type PeerProblem } from './probe-input.js';
import { proberConfig, type ProbeEngineOptions, type ProberConfig } from './prober-options.js';

export type { PeerProblem } from './probe-input.js';

export interface ProberStats {
  /** Local addresses with a bound socket now. */
  readonly bound: readonly string[];
  /** Probe rounds sent (one datagram per peer each). */
  readonly rounds: number;
  /** Valid packets from peers (probes and answers). */
  readonly accepted: number;
  readonly answered: number;
  /** Probes sent unasked to known nodes that probe this node (news: a change in what it hears or says). */
  readonly told: number;
  /** Probes not answered because the peer sent more than ANSWERS_PER_INTERVAL in one interval. */
  readonly unanswered: number;
  readonly rejected: Readonly<Record<RejectReason, number>>;
  readonly errors: Readonly<Partial<Record<ProbeErrorCode, number>>>;
}

export type LivenessListener = (view: LivenessView) => void;

/** A peer sends one probe per interval; a few more are answered (restarts, an early round). */
const ANSWERS_PER_INTERVAL = 4;
/** onChange listeners run at most this often per interval; later changes wait for the next tick. */
const NOTIFICATIONS_PER_INTERVAL = 3;
/**
 * Datagrams to one address that the kernel has not taken yet, at most: when its send buffer is
 * full (neighbours that do not resolve hold sent datagrams for seconds), more are not queued in
 * the process, where they would pile up without bound at one per peer and interval.
 */
const UNSENT_PER_ADDRESS = ANSWERS_PER_INTERVAL;
/**
 * A known node that is not probed but probed this node within this many windows (a worker asking a
 * gateway) is sent this node's news at once. Two: its probes come once per interval, with jitter.
 */
const ASKER_WINDOWS = 2;
/** A socket that could not be bound (or failed) is tried again this often. */
const REBIND_MS = 1000;
/** The same warning (operation, code, address or family) is logged at most once per this; every one is counted. */
const WARN_EVERY_MS = 30_000;

interface Bound {
  readonly address: string;
  socket: ProbeSocket | undefined;
  nextBindAt: number;
}

const NO_METRICS: ProbeMetricsSink = Object.freeze({ probeMissed() {}, probePeerAlive() {}, probeRtt() {}, probeRejected() {}, probeError() {}, probePeerGone() {} });

export class ProbeEngine {
  readonly config: ProberConfig;
  readonly #log: ProbeLogger;
  readonly #metrics: ProbeMetricsSink;
  readonly #openSocket: OpenProbeSocket;
  readonly #table: PeerTable;
  readonly #sockets: Bound[];
  readonly #listeners = new Set<LivenessListener>();
  readonly #answers = new Map<string, number>();
  /** Known nodes that are not probed, by name: where their last probe came from, and when. */
  readonly #askers = new Map<string, { readonly sender: Sender; readonly port: number; readonly at: number }>();
  readonly #warnedAt = new Map<string, number>();
  /** Address → datagrams handed to the socket that it has not sent yet. */
  readonly #unsent = new Map<string, number>();
  #self: SelfReport = Object.freeze({ healthy: true, draining: false, holds: Object.freeze([]) });
  #timer: NodeJS.Timeout | undefined;
  /** Runs at the table's next change (a window running out) between ticks. */
  #deadline: NodeJS.Timeout | undefined;
  #deadlineAt = Infinity;
  #seq = 0;
  #heardCache: string[] | undefined;
  #pending = false;
  #notified = 0;
  #earlyRoundSent = false;
  /** A change the known nodes that probe this node have not been told of yet. */
  #newsPending = false;
  #closed = false;
  #stats = {
    rounds: 0,
    accepted: 0,
    answered: 0,
    told: 0,
    unanswered: 0,
    rejected: { unknown_source: 0, name_mismatch: 0, malformed: 0 } as Record<RejectReason, number>,
    errors: {} as Partial<Record<ProbeErrorCode, number>>,
  };

  private constructor(options: ProbeEngineOptions) {
    this.config = proberConfig(options);
    this.#log = options.logger ?? SILENT_LOGGER;
    this.#metrics = options.metrics ?? NO_METRICS;
    this.#openSocket = options.openSocket ?? openUdpProbeSocket;
    this.#table = new PeerTable(this.config, now());
    this.#sockets = this.config.addresses.map((address) => ({ address, socket: undefined, nextBindAt: 0 }));
  }

  /**
   * Checks the options (throws EGW_ERR_PROBE_CONFIG / _INPUT), tries to bind every address once
   * and starts probing. A bind that fails is logged and counted (EGW_ERR_PROBE_SOCKET) and tried
   * again every REBIND_MS; it never rejects for it.
   */
  static async start(options: ProbeEngineOptions): Promise<ProbeEngine> {
    const prober = new ProbeEngine(options);
    await Promise.all(prober.#sockets.map((b) => prober.#bind(b)));
    if (!prober.#closed) prober.#timer = setInterval(() => prober.#tick(), prober.config.intervalMs);
    return prober;
  }

  /**
   * The known nodes and their underlay addresses; replaces the previous set. Those with `probe`
   * unset or true are probed (a peer kept with the same address keeps its state); those with
   * `probe: false` are only answered, and any packet of theirs means this node is not cut off.
   * Entries that cannot be used (bad name or address, this node, a duplicate, a family this node
   * has no address of) are left out, logged and returned; a peer left out is judged by the API
   * server alone.
   */
  setPeers(peers: readonly KnownNode[]): PeerProblem[] {
    if (this.#closed) return [];
    const { accepted, problems } = checkPeers(this.config, peers);
    for (const p of problems) this.#warn('peers', 'EGW_ERR_PROBE_INPUT', `peer left out: ${p.problem}`, { peer: p.node, address: p.address });
    const before = new Set([...this.#table.peers()].map((p) => p.node));
    const at = now();
    const probed = accepted.filter((p) => p.probe !== false);
    this.#table.setKnown(
      accepted.filter((p) => p.probe === false),
      at,
    );
    for (const gone of this.#table.setPeers(probed, at)) {
      this.#answers.delete(gone);
      this.#metrics.probePeerGone(gone);
    }
    for (const p of probed) if (!before.has(p.node)) this.#metrics.probePeerAlive(p.node, true);
    for (const [node, asker] of this.#askers) if (!this.#isAsker(node, asker.sender.address)) this.#askers.delete(node);
    this.#heardCache = undefined;
    this.#handle(this.#table.evaluate(at));
    return problems;
  }

  /**
   * What this node says of itself from now on. Holds that are not IP addresses are left out,
   * logged and returned. A change goes out at once in an extra probe round (once per interval).
   */
  setSelf(report: SelfReport): string[] {
    if (this.#closed) return [];
    const { self: next, invalid } = checkSelf(report);
    for (const ip of invalid) this.#warn('self', 'EGW_ERR_PROBE_INPUT', 'held address left out: not an IP address', { address: ip });
    const changed = !sameSelf(next, this.#self);
    this.#self = next;
    if (changed) this.#earlyRound(now());
    return invalid;
  }

  /** Every probed peer, judged now. */
  view(): LivenessView {
    const at = now();
    this.#handle(this.#table.evaluate(at));
    return this.#table.view(at);
  }

  /**
   * Calls `listener` with the view when a peer's heard, alive, healthy, draining, holds or
   * truncated state or the isolated flag changes: on the tick that finds a death, on the packet
   * that changes a peer; at most NOTIFICATIONS_PER_INTERVAL times per interval. Returns a function
   * that removes it. A listener's exception is logged and ignored.
   */
  onChange(listener: LivenessListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  stats(): ProberStats {
    const s = this.#stats;
    return {
      bound: this.#sockets.filter((b) => b.socket !== undefined).map((b) => b.address),
      rounds: s.rounds,
      accepted: s.accepted,
      answered: s.answered,
      told: s.told,
      unanswered: s.unanswered,
      rejected: { ...s.rejected },
      errors: { ...s.errors },
    };
  }

  /** Stops probing, closes the sockets and drops the peers' metric series. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    clearTimeout(this.#deadline);
    for (const b of this.#sockets) {
      b.socket?.close();
      b.socket = undefined;
    }
    for (const p of this.#table.peers()) this.#metrics.probePeerGone(p.node);
    this.#table.setPeers([], now());
    this.#listeners.clear();
  }

  async #bind(b: Bound): Promise<void> {
    b.nextBindAt = now() + REBIND_MS;
    try {
      const socket = await this.#openSocket(b.address, this.config.port, {
        message: (data, from) => this.#receive(data, from.address, from.port),
        error: (err) => {
          this.#warn('socket', 'EGW_ERR_PROBE_SOCKET', 'probe socket failed; binding again', { address: b.address, err: errorMessage(err) });
          socket.close();
          if (b.socket === socket) b.socket = undefined;
          // what the closed socket had not sent is gone with it
          this.#unsent.clear();
          b.nextBindAt = now() + REBIND_MS;
        },
      });
      if (this.#closed) socket.close();
      else b.socket = socket;
    } catch (err) {
      this.#warn('bind', 'EGW_ERR_PROBE_SOCKET', `cannot bind ${b.address} port ${this.config.port}; trying again every ${REBIND_MS} ms`, {
        address: b.address,
        err: errorMessage(err),
        errno: (err as { code?: unknown }).code,
      });
    }
  }

  #tick(): void {
    const at = now();
    this.#notified = 0;
    this.#answers.clear();
    for (const b of this.#sockets) if (b.socket === undefined && at >= b.nextBindAt) void this.#bind(b);
    for (const peer of this.#table.probing()) this.#metrics.probeMissed(peer);
    // this round goes out below: no early one for what the evaluation changes
    this.#earlyRoundSent = true;
    this.#handle(this.#table.evaluate(at));
    this.#sendRound(at, this.#newsPending);
    this.#earlyRoundSent = false;
  }

  /**
   * An extra probe round now, at most one per interval: what this node says changed (its report,
   * or the peers it hears). A peer that stops being heard here is dropped from the heard list at
   * once, so the others do not keep it alive through this node's stale list for up to an interval.
   * Known nodes that probe this node are told too; a change that comes after this interval's early
   * round reaches them with the next tick's round (peers get every round anyway).
   */
  #earlyRound(at: number): void {
    if (this.#timer === undefined) return;
    this.#newsPending = true;
    if (this.#earlyRoundSent) return;
    this.#earlyRoundSent = true;
    this.#sendRound(at, true);
  }

  /**
   * A probe to every peer; with `news`, also to the known nodes that probed this node lately:
   * otherwise a worker would learn that its gateway stopped hearing another node, or drains, only
   * from the answer to its own next probe, up to an interval later.
   */
  #sendRound(at: number, news = false): void {
    if (news) this.#newsPending = false;
    const askers = news ? this.#recentAskers(at) : [];
    if (this.#table.size === 0 && askers.length === 0) return;
    this.#seq = (this.#seq + 1) >>> 0;
    const data = this.#encode({ type: 'probe', seq: this.#seq, stamp: at }, at);
    if (this.#table.size > 0) this.#stats.rounds++;
    for (const peer of this.#table.peers()) this.#send(data, peer);
    for (const { sender, port } of askers) {
      const socket = this.#sockets.find((b) => ipFamily(b.address) === ipFamily(sender.address))?.socket;
      if (socket === undefined) continue;
      this.#stats.told++;
      this.#sendTo(socket, data, sender, port, 'news not sent');
    }
  }

  #recentAskers(at: number): { readonly sender: Sender; readonly port: number }[] {
    const recent: { sender: Sender; port: number }[] = [];
    for (const [node, asker] of this.#askers) {
      if (at - asker.at <= ASKER_WINDOWS * this.config.windowMs) recent.push(asker);
      else this.#askers.delete(node);
    }
    return recent;
  }

  /** Still a known node that is not probed, at that address. */
  #isAsker(node: string, address: string): boolean {
    const now = this.#table.byAddress(address);
    return now !== undefined && now.node === node && !now.probed;
  }

  #encode(head: Pick<ProbePacket, 'type' | 'seq' | 'stamp'>, at: number): Buffer {
    this.#heardCache ??= this.#table.heardNodes(at);
    return encodeProbe({ ...head, healthy: this.#self.healthy, draining: this.#self.draining, sender: this.config.node, holds: this.#self.holds, heard: this.#heardCache });
  }

  #send(data: Buffer, peer: Peer): void {
    const family = ipFamily(peer.address);
    const socket = this.#sockets.find((b) => ipFamily(b.address) === family)?.socket;
    if (socket === undefined) {
      // One line for all peers of the family, not one per peer.
      this.#warn('send', 'EGW_ERR_PROBE_SEND', `no bound IPv${family} socket to probe from`, { family });
      return;
    }
    this.#sendTo(socket, data, peer, this.config.port, 'probe not sent');
  }

  #sendTo(socket: ProbeSocket, data: Buffer, peer: Peer, port: number, failure: string): void {
    const unsent = this.#unsent.get(peer.address) ?? 0;
    if (unsent >= UNSENT_PER_ADDRESS) {
      this.#warn('send', 'EGW_ERR_PROBE_SEND', 'the socket has not sent the last datagrams to this address yet (send buffer full): not queueing more', {
        family: ipFamily(peer.address),
      });
      return;
    }
    this.#unsent.set(peer.address, unsent + 1);
    socket
      .send(data, peer.address, port)
      .catch((err: unknown) => {
        this.#warn('send', 'EGW_ERR_PROBE_SEND', failure, { peer: peer.node, address: peer.address, err: errorMessage(err) });
      })
      .finally(() => {
        const left = (this.#unsent.get(peer.address) ?? 1) - 1;
        if (left > 0) this.#unsent.set(peer.address, left);
        else this.#unsent.delete(peer.address);
      });
  }

  #receive(data: Buffer, fromAddress: string, fromPort: number): void {
    if (this.#closed) return;
    const at = now();
    const peer = isIp(fromAddress) ? this.#table.byAddress(canonicalIp(fromAddress)) : undefined;
    if (peer === undefined) return this.#reject('unknown_source', fromAddress);
    const decoded = decodeProbe(data);
    if (decoded.packet === undefined) return this.#reject('malformed', fromAddress, decoded.problem);
    const packet = decoded.packet;
    if (packet.sender !== peer.node) return this.#reject('name_mismatch', fromAddress, packet.sender);
    this.#stats.accepted++;
    if (packet.type === 'probe') {
      if (!peer.probed) this.#askers.set(peer.node, { sender: peer, port: fromPort, at });
      this.#answer(packet, peer, fromPort, at);
    } else if (peer.probed && at - packet.stamp >= 0 && at - packet.stamp <= this.config.windowMs) this.#metrics.probeRtt((at - packet.stamp) / 1000);
    this.#handle(this.#table.heardFrom(peer.node, packet, at));
  }

  #answer(probe: ProbePacket, peer: Sender, port: number, at: number): void {
    const count = (this.#answers.get(peer.node) ?? 0) + 1;
    this.#answers.set(peer.node, count);
    if (count > ANSWERS_PER_INTERVAL) {
      this.#stats.unanswered++;
      return;
    }
    this.#stats.answered++;
    const data = this.#encode({ type: 'answer', seq: probe.seq, stamp: probe.stamp }, at);
    const socket = this.#sockets.find((b) => ipFamily(b.address) === ipFamily(peer.address))?.socket;
    if (socket !== undefined) this.#sendTo(socket, data, peer, port, 'answer not sent');
  }

  #reject(reason: RejectReason, address: string, detail?: string): void {
    this.#stats.rejected[reason]++;
    this.#metrics.probeRejected(reason);
    this.#log.debug({ op: 'receive', address, reason, detail }, 'probe datagram dropped');
  }

  /** Publishes what an evaluation changed: metrics and logs for flips, listeners for changes. */
  #handle(evaluation: Evaluation): void {
    for (const flip of evaluation.flipped) {
      this.#metrics.probePeerAlive(flip.node, flip.alive);
      this.#log.info({ op: 'liveness', peer: flip.node, alive: flip.alive }, flip.alive ? 'peer alive by the probes' : 'peer dead by the probes');
    }
    if (evaluation.changed) {
      const sent = this.#heardCache;
      this.#heardCache = undefined;
      this.#pending = true;
      if (sent !== undefined && this.#table.heardNodes(now()).join() !== sent.join()) this.#earlyRound(now());
    }
    this.#armDeadline();
    if (!this.#pending || this.#listeners.size === 0 || this.#notified >= NOTIFICATIONS_PER_INTERVAL) return;
    this.#pending = false;
    this.#notified++;
    const view = this.#table.view(now());
    for (const listener of [...this.#listeners]) {
      try {
        listener(view);
      } catch (err) {
        this.#log.warn({ op: 'notify', err: errorMessage(err) }, 'liveness listener threw');
      }
    }
  }

  /** Evaluates again when the table's next change is due, if that is before the one armed. */
  #armDeadline(): void {
    if (this.#closed) return;
    const at = now();
    const due = this.#table.nextChangeAt(at);
    if (due === undefined || due >= this.#deadlineAt) return;
    clearTimeout(this.#deadline);
    this.#deadlineAt = due;
    // +1: the rules compare with > and timers may fire a fraction early
    this.#deadline = setTimeout(
      () => {
        this.#deadline = undefined;
        this.#deadlineAt = Infinity;
        this.#handle(this.#table.evaluate(now()));
      },
      Math.ceil(due - at) + 1,
    );
    this.#deadline.unref();
  }

  #warn(op: string, code: ProbeErrorCode, msg: string, fields: Record<string, unknown>): void {
    this.#stats.errors[code] = (this.#stats.errors[code] ?? 0) + 1;
    this.#metrics.probeError(code);
    const key = `${op}|${code}|${String(fields.address ?? fields.family)}`;
    const at = now();
    const last = this.#warnedAt.get(key);
    if (last !== undefined && at - last < WARN_EVERY_MS) return;
    this.#warnedAt.set(key, at);
    this.#log.warn({ op, code, ...fields }, msg);
  }
}

/** Monotonic milliseconds: wall-clock steps must not look like silence. */
function now(): number {
  return performance.now();
}
