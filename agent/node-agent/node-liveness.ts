import type { Logger } from 'pino';
import type { LivenessView, SelfReport } from '../../lib/liveness/liveness-types.js';
import { probeFacts, probeFactsKey, type ProbeFacts } from '../../lib/planner/probe-facts.js';
import type { ProbePeer } from '../../lib/planner/probe-peers.js';
import { Fence, type FenceState } from './fence.js';
import { SelfState } from './self-report.js';

/** The part of lib/liveness's Prober the agent uses. */
export interface Prober {
  setPeers(peers: readonly ProbePeer[]): void;
  setSelf(self: SelfReport): void;
  view(): LivenessView;
  onChange(listener: () => void): unknown;
  close(): unknown;
}

/** How the fence asks after the API server. */
export interface ApiView {
  /** Whether the API server answers within the deadline (any answer). */
  answers(timeoutMs: number): Promise<boolean>;
  /** Makes every informer list again. */
  relist(): void;
  /** Whether every informer listed at or after `since` (Date.now()). */
  listedSince(since: number): boolean;
}

export interface NodeLivenessOptions {
  readonly nodeName: string;
  readonly prober: Prober;
  readonly api: ApiView;
  readonly holdDownMs: number;
  /** The prober's detection window (interval × misses): a stall of this process half as long may have cost it answers. */
  readonly windowMs: number;
  /** Stay aside for the hold-down after the start (see SelfState): when another node can carry what this one would. */
  readonly holdAtStart?: boolean;
  /** A plan may change: the probe facts or the fence changed. */
  readonly onChange: (reason: string) => void;
  readonly log: Logger;
  readonly now?: () => number;
}

/** The stall timer's period. */
const STALL_TICK_MS = 50;

/** While isolated, the API server is asked this often, with this deadline: a fence takes at most about both after isolation. */
const API_CHECK_INTERVAL_MS = 500;
const API_CHECK_TIMEOUT_MS = 1_000;

/**
 * This node's liveness: starts nothing itself but ties the prober, the fence and its own report
 * together. The agent plans with facts() and tells it the outcome of every apply; a change of what
 * a plan depends on (facts key, fence) calls onChange at once.
 */
export class NodeLiveness {
  readonly #fence: Fence;
  readonly #self: SelfState;
  readonly #now: () => number;
  #apiAnswers: boolean | undefined;
  #checking = false;
  #checks: NodeJS.Timeout | undefined;
  #timer: NodeJS.Timeout | undefined;
  #key = '';
  #wasIsolated = false;
  /** When the view last said this node hears nobody (this.#now()). */
  #heardNobodyAt: number | undefined;
  #closed = false;
  /** Until when deaths of peers heard again are doubted (this process stalled; see SelfFacts.doubtDeaths). */
  #doubtUntil = 0;
  #lag: NodeJS.Timeout | undefined;
  /** When the stall timer last ran (this.#now()). */
  #lastTick = 0;

  constructor(private readonly options: NodeLivenessOptions) {
    this.#fence = new Fence(options.holdDownMs);
    this.#now = options.now ?? Date.now;
    this.#lastTick = this.#now();
    this.#self = new SelfState(options.holdDownMs, { startedAt: this.#now(), holdAtStart: options.holdAtStart ?? false });
    options.prober.onChange(() => this.evaluate());
    this.#publishSelf();
    this.#schedule(this.#now());
    this.#key = this.facts().key;
    this.#watchStalls();
  }

  get fence(): FenceState {
    return this.#fence.state;
  }

  /** The facts the next plan is computed with, and their key (for the plan memo). */
  facts(): { facts: ProbeFacts; key: string } {
    const now = this.#now();
    this.#noticeStall(now);
    const facts = probeFacts(this.options.prober.view(), {
      node: this.options.nodeName,
      fit: this.#self.fit(this.#fence.state, now),
      holds: this.#self.holds,
      doubtDeaths: now < this.#doubtUntil,
    });
    return { facts, key: probeFactsKey(facts) };
  }

  /**
   * In the hold-down after the start this node stands aside only while `othersServe` says another
   * node fit by the probes could carry what it would (asked with the facts as they are now, this
   * node aside). Once none could, the hold ends for good: standing aside then would leave a gateway
   * with no node at all. Ending it is for good so that two nodes started together cannot take
   * turns: each sees the other aside, and both end their hold.
   */
  reviewStartHold(othersServe: (facts: ProbeFacts) => boolean): void {
    if (this.#closed || !this.#self.holdingAtStart(this.#now())) return;
    if (othersServe(this.facts().facts)) return;
    this.#self.endStartHold();
    this.options.log.info({ op: 'liveness' }, 'no other node fit by the probes could carry what this one would: not standing aside after the start');
    this.#publishSelf();
    this.#schedule(this.#now());
    this.#key = this.facts().key;
  }

  /** The prober's view now. */
  view(): LivenessView {
    return this.options.prober.view();
  }

  /** Whether this peer is alive by the probes and says it holds this egress IP now. */
  heldBy(node: string, ip: string): boolean {
    const peer = this.options.prober.view().peers.get(node);
    return peer !== undefined && peer.alive && peer.holds.includes(ip);
  }

  setPeers(peers: readonly ProbePeer[]): void {
    this.options.prober.setPeers(peers);
  }

  /** After every apply: healthy or not, and the egress IPs on the NIC now. */
  applied(ok: boolean, holds: readonly string[]): void {
    this.#self.applied(ok, holds, this.#now());
    this.evaluate();
  }

  /** Handing every egress IP over (see Handoff): answer as draining meanwhile, as when stopping. */
  leaving(on: boolean): void {
    if (this.#self.leaving(on)) this.evaluate();
  }

  /** Stopping: answer as draining, so the peers take over before this node withdraws. */
  drain(): void {
    this.#self.stop();
    this.evaluate();
  }

  /** Looks at the view, the fence and its own state; tells the agent when a plan may change. */
  evaluate(): void {
    if (this.#closed) return;
    const now = this.#now();
    const view = this.options.prober.view();
    // the prober judges isolation by every known node it hears, probed or not
    const isolated = view.isolated;
    // a new isolation is judged by a new answer of the API server
    if (isolated && !this.#wasIsolated) this.#apiAnswers = undefined;
    this.#wasIsolated = isolated;
    if (view.hearsNobody === true) this.#heardNobodyAt = now;
    const recentlyUnheard = this.#heardNobodyAt !== undefined && now - this.#heardNobodyAt <= this.options.holdDownMs;
    const displacedBy = recentlyUnheard ? displacing(view, this.#self.holds) : [];
    const before = this.#fence.state;
    const state = this.#fence.observe({
      isolated,
      hearsNobody: view.hearsNobody === true,
      displaced: displacedBy.length > 0,
      holdingDown: [...view.peers.values()].some((p) => p.heard && !p.alive),
      apiAnswers: this.#apiAnswers,
      apiFreshSince: (since) => this.options.api.listedSince(since),
      now,
    });
    if (state !== before) {
      const displaced = before === 'open' && state === 'rejoining';
      this.options.log.warn({ op: 'fence', from: before, to: state, ...(displaced ? { by: displacedBy } : {}) }, displaced ? DISPLACED_MESSAGE : fenceMessage(state));
      if (state === 'rejoining') this.options.api.relist();
    }
    this.#runChecks(isolated || state !== 'open');
    this.#publishSelf();
    this.#schedule(now);
    const { key } = this.facts();
    if (key !== this.#key || state !== before) {
      this.#key = key;
      this.options.onChange(state !== before ? `fence ${state}` : 'liveness');
    }
  }

  #publishSelf(): void {
    this.options.prober.setSelf(this.#self.report(this.#fence.state, this.#now()));
  }

  #runChecks(wanted: boolean): void {
    if (!wanted) {
      clearInterval(this.#checks);
      this.#checks = undefined;
      return;
    }
    if (this.#checks) return;
    const check = () => {
      if (this.#checking || this.#closed) return;
      this.#checking = true;
      void this.options.api.answers(API_CHECK_TIMEOUT_MS).then((answers) => {
        this.#checking = false;
        if (answers !== this.#apiAnswers) this.options.log.info({ op: 'fence', apiAnswers: answers }, answers ? 'the API server answers' : 'the API server does not answer');
        this.#apiAnswers = answers;
        this.evaluate();
      });
    };
    this.#checks = setInterval(check, API_CHECK_INTERVAL_MS);
    this.#checks.unref();
    check();
  }

  /**
   * A timer that notices when this process did not run for half a detection window (a loaded
   * node, a long synchronous spawn): the prober then judged peers dead that only went unheard.
   */
  #watchStalls(): void {
    this.#lag = setInterval(() => {
      if (this.#noticeStall(this.#now(), true)) queueMicrotask(() => this.evaluate());
    }, STALL_TICK_MS);
    this.#lag.unref();
  }

  /**
   * Whether the stall timer was held up by half a detection window or more since it last ran. Also
   * asked before every use of the view: after a stall, the prober's verdicts may come before the
   * timer runs.
   */
  #noticeStall(now: number, fromTimer = false): boolean {
    const late = now - this.#lastTick - STALL_TICK_MS;
    const stalled = late >= this.options.windowMs / 2;
    if (fromTimer || stalled) this.#lastTick = now;
    if (!stalled) return false;
    // logged once per series of stalls
    if (now >= this.#doubtUntil) this.options.log.info({ op: 'liveness', stalledMs: late }, 'this process stalled: peers heard again count as alive for the hold-down');
    // the peers' hold-down starts when they are heard again, a little after the stall: outlast it
    this.#doubtUntil = now + this.options.holdDownMs + 4 * this.options.windowMs;
    return true;
  }

  #schedule(now: number): void {
    clearTimeout(this.#timer);
    const at = [this.#fence.nextCheckAt(), this.#self.nextChangeAt(now), now < this.#doubtUntil ? this.#doubtUntil : undefined].filter((t): t is number => t !== undefined);
    if (at.length === 0) return;
    this.#timer = setTimeout(() => this.evaluate(), Math.max(0, Math.min(...at) - now) + 1);
    this.#timer.unref();
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#lag);
    clearInterval(this.#checks);
    clearTimeout(this.#timer);
    this.options.prober.close();
  }
}

const DISPLACED_MESSAGE =
  'a peer heard again holds egress IPs this node holds, soon after it heard no node: its peers judged it dead; withdrawing them and taking none until the hold-down has passed';

/** Peers heard directly now that say they hold one of `holds`, with those IPs. */
function displacing(view: LivenessView, holds: readonly string[]): string[] {
  if (holds.length === 0) return [];
  const mine = new Set(holds);
  return [...view.peers.values()].filter((p) => p.heard && p.holds.some((ip) => mine.has(ip))).map((p) => p.node);
}

function fenceMessage(state: FenceState): string {
  switch (state) {
    case 'fenced':
      return 'no peer answers and the API server does not answer: withdrawing egress IPs';
    case 'rejoining':
      return 'peers answer again: taking no egress IP until the hold-down has passed and the API view is fresh';
    case 'open':
      return 'back in service: hold-down passed and the API view is fresh';
  }
}
