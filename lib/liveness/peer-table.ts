/**
 * What the probes say of each peer, and the detection rules (heard, alive, hold-down, isolated).
 * Pure: every method takes the time, so the rules are tested with a fake clock; the prober
 * (prober.ts) feeds it packets and ticks.
 */
import type { LivenessView, PeerLiveness } from './liveness-types.js';

export interface DetectionTiming {
  /** A peer is heard while its last valid packet is at most this old (interval × misses). */
  readonly windowMs: number;
  /** A peer judged dead is alive again only after this long reachable without a gap. */
  readonly holdDownMs: number;
  /** Isolated: no peer heard directly for this long. */
  readonly fenceMs: number;
}

/** What a valid packet from a peer says of it. */
export interface PeerReport {
  readonly healthy: boolean;
  readonly draining: boolean;
  readonly truncated: boolean;
  readonly holds: readonly string[];
  readonly heard: readonly string[];
}

export interface Peer {
  readonly node: string;
  readonly address: string;
}

/** Who sent a packet: a probed peer, or a known node that is answered but not probed. */
export interface Sender extends Peer {
  readonly probed: boolean;
}

interface PeerState extends Peer {
  /** Since when the peer is probed; alive without an answer for one window after it. */
  readonly addedAt: number;
  lastHeardAt: number | undefined;
  report: PeerReport;
  heardList: ReadonlySet<string>;
  misses: number;
  /** A probe went out since the last packet from the peer. */
  probedSinceHeard: boolean;
  /** Judged dead since it was last alive: hold-down applies before it is alive again. */
  judgedDead: boolean;
  /** Start of the current run of being reachable (directly, through a peer, or at start). */
  upSince: number | undefined;
  heard: boolean;
  alive: boolean;
  /** What was last published of the peer, to tell changes. */
  published: string;
}

/** What one evaluation changed. */
export interface Evaluation {
  /** Something a view shows, other than misses and ages, changed. */
  readonly changed: boolean;
  /** Peers whose alive state flipped, with the new state. */
  readonly flipped: readonly { readonly node: string; readonly alive: boolean }[];
}

const NEVER_HEARD: PeerReport = Object.freeze({ healthy: true, draining: false, truncated: false, holds: Object.freeze([]), heard: Object.freeze([]) });

export class PeerTable {
  readonly #timing: DetectionTiming;
  readonly #peers = new Map<string, PeerState>();
  readonly #byAddress = new Map<string, PeerState>();
  /** Known nodes that are not probed, by address: answered, and their packets count against isolation. */
  #known = new Map<string, Sender>();
  /**
   * What known nodes that are not probed last said they heard (only non-empty lists are kept, so
   * at most one small entry per known node): a worker that hears both sides of a partition
   * between two gateways vouches for each to the other, though neither probes it.
   */
  #knownNodes = new Set<string>();
  readonly #vouchers = new Map<string, { heardAt: number; heard: ReadonlySet<string> }>();
  #lastAnyHeardAt: number | undefined;
  /** Since when the table has had peers; isolation is judged one fence after it. */
  #fenceFrom: number;
  #isolated = false;
  #hearsNobody = false;

  constructor(timing: DetectionTiming, now: number) {
    this.#timing = timing;
    this.#fenceFrom = now;
  }

  /**
   * Replaces the peer set. A peer kept with the same address keeps its state; a new one (or a new
   * address) starts afresh. Returns the names of the peers that left.
   */
  setPeers(peers: readonly Peer[], now: number): string[] {
    const next = new Map(peers.map((p) => [p.node, p]));
    const removed: string[] = [];
    for (const [node, state] of this.#peers) {
      if (next.get(node)?.address !== state.address) {
        this.#peers.delete(node);
        this.#byAddress.delete(state.address);
        if (!next.has(node)) removed.push(node);
      }
    }
    if (this.#judgesNothing() && next.size > 0) this.#fenceFrom = now;
    for (const peer of next.values()) {
      if (this.#peers.has(peer.node)) continue;
      const state: PeerState = {
        node: peer.node,
        address: peer.address,
        addedAt: now,
        lastHeardAt: undefined,
        report: NEVER_HEARD,
        heardList: new Set(),
        misses: 0,
        probedSinceHeard: false,
        judgedDead: false,
        upSince: now,
        heard: false,
        alive: true,
        published: '',
      };
      this.#peers.set(peer.node, state);
      this.#byAddress.set(peer.address, state);
    }
    return removed;
  }

  /**
   * Replaces the known nodes that are not probed (no state, no series): their packets are accepted
   * and answered, and any of them heard means this node is not cut off.
   */
  setKnown(known: readonly Peer[], now: number): void {
    if (this.#judgesNothing() && known.length > 0) this.#fenceFrom = now;
    this.#known = new Map(known.map((k) => [k.address, Object.freeze({ node: k.node, address: k.address, probed: false })]));
    this.#knownNodes = new Set(known.map((k) => k.node));
    for (const node of this.#vouchers.keys()) if (!this.#knownNodes.has(node)) this.#vouchers.delete(node);
  }

  /** The probed peer or known node whose address this is (canonical form). */
  byAddress(address: string): Sender | undefined {
    const peer = this.#byAddress.get(address);
    return peer !== undefined ? { node: peer.node, address: peer.address, probed: true } : this.#known.get(address);
  }

  get size(): number {
    return this.#peers.size;
  }

  peers(): IterableIterator<Peer> {
    return this.#peers.values();
  }

  /** A valid packet from `node` arrived (a probed peer, or a known node that is not probed). */
  heardFrom(node: string, report: PeerReport, now: number): Evaluation {
    const state = this.#peers.get(node);
    if (state === undefined) {
      this.#lastAnyHeardAt = now;
      const vouchesNew = this.#vouch(node, report.heard, now);
      return this.#isolated || vouchesNew ? this.evaluate(now) : { changed: false, flipped: [] };
    }
    // A gap longer than the window may fall between two ticks: judge the peer as it was in the
    // gap before the packet ends it, so a short death still starts the hold-down.
    const gapped = state.lastHeardAt !== undefined && now - state.lastHeardAt > this.#timing.windowMs;
    const before = gapped ? this.evaluate(now) : undefined;
    const listChanged = !sameMembers(state.heardList, report.heard);
    state.lastHeardAt = now;
    this.#lastAnyHeardAt = now;
    state.report = report;
    if (listChanged) state.heardList = new Set(report.heard);
    state.misses = 0;
    state.probedSinceHeard = false;
    // Others' liveness depends on this peer only through its heard list and whether it is heard.
    const after = listChanged || !state.heard || before !== undefined ? this.evaluate(now) : this.#evaluateOne(state, now, this.#reported(now));
    return merge(before, after);
  }

  /**
   * A probe round goes out now. Returns the peers that did not answer the previous round (one
   * miss each).
   */
  probing(): string[] {
    const missed: string[] = [];
    for (const state of this.#peers.values()) {
      if (state.probedSinceHeard) {
        state.misses++;
        missed.push(state.node);
      }
      state.probedSinceHeard = true;
    }
    return missed;
  }

  /** Applies the rules to every peer at `now`. */
  evaluate(now: number): Evaluation {
    const reported = this.#reported(now);
    let changed = false;
    const flipped: { node: string; alive: boolean }[] = [];
    for (const state of this.#peers.values()) {
      const one = this.#evaluateOne(state, now, reported);
      changed ||= one.changed;
      flipped.push(...one.flipped);
    }
    const isolated = this.#unheardFor(this.#timing.fenceMs, now);
    const hearsNobody = this.#unheardFor(this.#timing.windowMs, now);
    if (isolated !== this.#isolated || hearsNobody !== this.#hearsNobody) {
      this.#isolated = isolated;
      this.#hearsNobody = hearsNobody;
      changed = true;
    }
    return { changed, flipped };
  }

  /**
   * The earliest time after `now` at which evaluate() may judge differently with no packet: a
   * heard peer's window runs out, a new peer's start window ends, a hold-down ends, the fence
   * time passes. The prober evaluates then, so a death is judged when its window runs out, not
   * at the next tick after. Undefined: nothing is due.
   */
  nextChangeAt(now: number): number | undefined {
    let next = Infinity;
    const due = (at: number) => {
      if (at > now && at < next) next = at;
    };
    const window = this.#timing.windowMs;
    for (const s of this.#peers.values()) {
      if (s.lastHeardAt !== undefined) due(s.lastHeardAt + window);
      else due(s.addedAt + window);
      if (s.judgedDead && s.upSince !== undefined) due(s.upSince + this.#timing.holdDownMs);
    }
    for (const v of this.#vouchers.values()) due(v.heardAt + window);
    const lastHeard = Math.max(this.#fenceFrom, this.#lastAnyHeardAt ?? this.#fenceFrom);
    if (!this.#judgesNothing() && !this.#hearsNobody) due(lastHeard + this.#timing.windowMs);
    if (!this.#judgesNothing() && !this.#isolated) due(lastHeard + this.#timing.fenceMs);
    return next === Infinity ? undefined : next;
  }

  /** Peers heard directly within the window, sorted: what this node reports having heard. */
  heardNodes(now: number): string[] {
    return [...this.#peers.values()]
      .filter((s) => this.#heardAt(s, now))
      .map((s) => s.node)
      .sort();
  }

  /** The peers as last evaluated, with misses and ages at `now`. */
  view(now: number): LivenessView {
    const peers = new Map<string, PeerLiveness>();
    for (const s of [...this.#peers.values()].sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0))) {
      peers.set(
        s.node,
        Object.freeze({
          node: s.node,
          address: s.address,
          heard: s.heard,
          alive: s.alive,
          healthy: s.report.healthy,
          draining: s.report.draining,
          holds: s.report.holds,
          truncated: s.report.truncated,
          misses: s.misses,
          ...(s.lastHeardAt === undefined ? {} : { sinceHeardMs: now - s.lastHeardAt }),
        }),
      );
    }
    return Object.freeze({ peers, isolated: this.#isolated, hearsNobody: this.#hearsNobody });
  }

  #heardAt(state: PeerState, now: number): boolean {
    return state.lastHeardAt !== undefined && now - state.lastHeardAt <= this.#timing.windowMs;
  }

  /** Nodes that a peer this node hears directly reports having heard (its list is fresh). */
  #reported(now: number): Set<string> {
    const reported = new Set<string>();
    for (const state of this.#peers.values()) {
      if (this.#heardAt(state, now)) for (const node of state.heardList) if (node !== state.node) reported.add(node);
    }
    for (const [voucher, v] of this.#vouchers) {
      if (now - v.heardAt <= this.#timing.windowMs) for (const node of v.heard) if (node !== voucher) reported.add(node);
    }
    return reported;
  }

  /**
   * Keeps what a known node that is not probed says it heard. True when that can change a
   * verdict at once: it names a probed peer that no fresh voucher named before.
   */
  #vouch(node: string, heard: readonly string[], now: number): boolean {
    if (!this.#knownNodes.has(node)) return false;
    const before = this.#vouchers.get(node);
    const fresh = before !== undefined && now - before.heardAt <= this.#timing.windowMs;
    if (heard.length === 0) {
      this.#vouchers.delete(node);
      return fresh && before.heard.size > 0;
    }
    const list = new Set(heard.filter((n) => this.#peers.has(n)));
    if (list.size === 0) {
      this.#vouchers.delete(node);
      return fresh && before.heard.size > 0;
    }
    this.#vouchers.set(node, { heardAt: now, heard: fresh && sameMembers(before.heard, [...list]) ? before.heard : list });
    return !fresh || !sameMembers(before.heard, [...list]);
  }

  #evaluateOne(state: PeerState, now: number, reported: ReadonlySet<string>): Evaluation {
    const wasAlive = state.alive;
    state.heard = this.#heardAt(state, now);
    const starting = state.lastHeardAt === undefined && now - state.addedAt <= this.#timing.windowMs;
    const reachable = state.heard || reported.has(state.node) || starting;
    if (!reachable) {
      state.judgedDead = true;
      state.upSince = undefined;
      state.alive = false;
    } else {
      state.upSince ??= now;
      if (state.judgedDead && now - state.upSince >= this.#timing.holdDownMs) state.judgedDead = false;
      state.alive = !state.judgedDead;
    }
    const r = state.report;
    const published = `${state.heard}|${state.alive}|${r.healthy}|${r.draining}|${r.truncated}|${r.holds.join(',')}`;
    const changed = published !== state.published;
    state.published = published;
    return { changed, flipped: wasAlive === state.alive ? [] : [{ node: state.node, alive: state.alive }] };
  }

  /** No probed peer and no known node: isolation cannot be judged. */
  #judgesNothing(): boolean {
    return this.#peers.size === 0 && this.#known.size === 0;
  }

  /** No node heard for longer than `ms` (isolated: the fence window; hearsNobody: the detection window). */
  #unheardFor(ms: number, now: number): boolean {
    if (this.#judgesNothing() || now - this.#fenceFrom < ms) return false;
    return this.#lastAnyHeardAt === undefined || now - this.#lastAnyHeardAt > ms;
  }
}

function sameMembers(set: ReadonlySet<string>, list: readonly string[]): boolean {
  return set.size === list.length && list.every((n) => set.has(n));
}

function merge(a: Evaluation | undefined, b: Evaluation): Evaluation {
  if (a === undefined) return b;
  return { changed: a.changed || b.changed, flipped: [...a.flipped, ...b.flipped] };
}
