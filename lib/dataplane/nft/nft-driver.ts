import { canonicalIp, isIp, type Family } from '../../api/ip.js';
import { EgressError, errorMessage } from '../../errors.js';
import type { NftTablePlan } from '../../planner/node-plan.js';
import { forgottenElementsJson, learnedElementsJson, type LearnedElementWrite, type LearnedRenewal } from '../../planner/nft/render.js';
import { countElements, diffObservedElements, diffPlanElements, type SetElementChange } from './element-diff.js';
import { fingerprintFromComment, STRUCTURE_CHAIN, structureFingerprint } from './fingerprint.js';
import type { NftBackend, NftRunOptions } from './nft-backend.js';
import { deleteTableBatch, elementBatch, listTableCommand, replaceBatch, restructureBatch, type NftBatch } from './nft-commands.js';
import { restructure } from './restructure.js';
import type { NftApplyOptions, NftApplyResult, NftCounter, NftLogger, NftRemoveResult, ObservedChain, ObservedNft, ObservedSet, ReplaceReason } from './nft-types.js';
import { chainRuleCommentFromText, isNotFound, parseTableJson } from './parse-observed.js';
import { dumpInetRules, readInetStructureComment, readInetTable } from './netlink-reads.js';
import { ElementsRefused, writeLearnedElements } from './nfnetlink-elements.js';
import { probeRenewal } from './renewal-probe.js';
import { overfullSet, setCapacity, tableCapacities } from './set-capacity.js';
import { Serial } from '../../serial.js';

export interface NftDriverOptions {
  readonly backend: NftBackend;
  /** Our table; the driver reads and writes `inet <table>` and nothing else. */
  readonly table: string;
  readonly log: NftLogger;
  /** Direct kernel reads (netlink, no libnftables); tests replace them. */
  readonly kernelReads?: KernelReads;
  /** How learned elements are renewed; absent: the kernel is probed by the first apply with learned sets (or the first learning write). */
  readonly learnedRenewal?: LearnedRenewal;
  /** Direct kernel writes of learned elements (netlink, no libnftables); tests replace them; false: none. */
  readonly kernelWrites?: KernelWrites | false;
}

/** Learned elements written without libnftables, renewed in place; throws when that fails. */
export interface KernelWrites {
  learned(table: string, elements: readonly LearnedElementWrite[]): void;
}

const NETLINK_WRITES: KernelWrites = { learned: writeLearnedElements };

/** Cheap reads that do not go through libnftables; each may throw, and the driver then lists. */
export interface KernelReads {
  /** Rules of `inet <table>`, for counters(). */
  rules(table: string): readonly CountedRule[];
  /** Comment of the structure rule of `inet <table>`: '' without one, null when the table does not exist. */
  structureComment(table: string): string | null;
  /** Sets (with elements) and chains (with rules) of `inet <table>`, as a JSON listing reads them; null when the table does not exist. */
  table(table: string): { sets: ObservedSet[]; chains: ObservedChain[] } | null;
}

const NETLINK_READS: KernelReads = { rules: dumpInetRules, structureComment: readInetStructureComment, table: readInetTable };

/**
 * What this instance knows about the kernel. `unknown` at start and after any failure: the next
 * apply then diffs against what the kernel holds, so a restarted agent adopts its table instead
 * of flushing it.
 */
type KernelState =
  | { readonly kind: 'unknown' }
  | { readonly kind: 'absent' }
  | { readonly kind: 'applied'; readonly table: NftTablePlan; readonly fingerprint: string; readonly capacities: Capacities };

/** `size` of the kernel's bounded sets, by set name. */
type Capacities = ReadonlyMap<string, number>;

const UNKNOWN: KernelState = { kind: 'unknown' };
const FAMILY = 'inet';
const SET_FAMILY: Readonly<Record<NftTablePlan['sets'][number]['type'], Family>> = { ipv4_addr: 4, ipv6_addr: 6 };
/** The learned-elements map is swept of expired entries when it grows past this, then past twice its size. */
const LEARNED_SWEEP_MIN = 1024;

/** Where a learned element is kept in the driver's memory: one entry per set and address. */
const learnedKey = (e: { readonly set: string; readonly address: string }): string => `${e.set} ${e.address}`;

/**
 * Owns one nftables table. Every apply is one transaction: nothing when the kernel already
 * matches, `add`/`delete element` commands when only set elements differ, and otherwise an
 * atomic replace of the whole table. Every write is libnftables JSON rendered from the typed plan
 * (lib/planner/nft/render.ts), so no value is ever spliced into nft syntax on its way to the
 * kernel. Calls are serialized.
 */
export class NftDriver {
  readonly #backend: NftBackend;
  readonly #table: string;
  readonly #log: NftLogger;
  readonly #reads: KernelReads;
  /** Dropped once libnftables wrote what they could not. */
  #writes: KernelWrites | undefined;
  readonly #serial = new Serial();
  #state: KernelState = UNKNOWN;
  /** Learned elements and when they expire (ms, performance.now()), put back after a table replace. */
  readonly #learned = new Map<string, LearnedElementWrite & { readonly expiresAt: number }>();
  #sweepAt = LEARNED_SWEEP_MIN;
  /** Answers waiting for the next learning transaction. */
  readonly #learnQueue: { readonly elements: readonly LearnedElementWrite[]; readonly done: (err?: unknown) => void }[] = [];
  /** A learning transaction is scheduled that has not taken the queue yet. */
  #flushPending = false;
  /** A learning transaction is running (or waiting in the apply queue). */
  #flushing = false;
  /** Table replaces running: learned elements written meanwhile could miss the new table. */
  #replacing = 0;
  /** Why the last direct write failed, until libnftables says whether the elements were at fault. */
  #directFailure: unknown;
  /**
   * Writes running that can take learned elements out of the kernel (an unlearn, a remove, a
   * replace that had to leave them out until they are restored): while one runs, `#learned` is
   * no proof.
   */
  #disrupting = 0;
  /** Written into every table replace whose table has their sets (see keepLearned). */
  #standing: readonly LearnedElementWrite[] = [];
  /** How learned elements are renewed, once known (given, or probed). */
  #renewal: LearnedRenewal | undefined;
  /** An apply probed the renewal (once; the first learning write tries again if that failed). */
  #probedOnApply = false;
  /** Reading the table over netlink failed once (warned; later failures are debug). */
  #tableReadFailed = false;

  constructor(options: NftDriverOptions) {
    this.#backend = options.backend;
    this.#table = options.table;
    this.#log = options.log;
    this.#reads = options.kernelReads ?? NETLINK_READS;
    this.#writes = options.kernelWrites === false ? undefined : (options.kernelWrites ?? NETLINK_WRITES);
    this.#renewal = options.learnedRenewal;
  }

  get backendKind(): NftBackend['kind'] {
    return this.#backend.kind;
  }

  /**
   * Makes the kernel's table equal `table`. Idempotent: a second call with an equal plan sends
   * nothing (`writes: 0`). A rejected batch leaves the previous table in force (nft batches are
   * atomic) and throws EGW_ERR_NFT with nft's error text.
   */
  apply(table: NftTablePlan, options: NftApplyOptions = {}): Promise<NftApplyResult> {
    return this.#serial.run(async () => {
      this.#checkOwned(table);
      const started = performance.now();
      try {
        const outcome = await this.#reconcile(table, structureFingerprint(table), options);
        // Probed with the first table that has learned sets, so the first answers (and the DNS
        // steering the forwarder renews right after this apply) do not wait for it.
        if (this.#renewal === undefined && !this.#probedOnApply && table.sets.some((s) => s.learned)) {
          this.#probedOnApply = true;
          await this.#probeRenewal();
        }
        return { ...outcome, durationMs: performance.now() - started };
      } catch (err) {
        this.#state = UNKNOWN;
        throw err;
      }
    });
  }

  /** Our table as the kernel holds it; `present: false` when it does not exist. Reads only. */
  observe(): Promise<ObservedNft> {
    return this.#serial.run(() => this.#observe());
  }

  /**
   * Packets and bytes of every rule with a comment and a counter, summed per comment (the IPv4
   * and IPv6 rule of a policy share one). Empty when the table does not exist.
   *
   * Read with a netlink rule dump, outside the apply queue: any libnftables listing of nft
   * 1.0.6 also fetches every set element (~0.3 s at 100k endpoints) and would hold up applies.
   * Falls back to a libnftables listing when the dump fails.
   */
  async counters(): Promise<Map<string, NftCounter>> {
    try {
      return sumByComment(this.#reads.rules(this.#table));
    } catch (err) {
      this.#log.debug({ op: 'nft-counters', table: this.#table, err: errorMessage(err) }, 'netlink rule dump failed; listing the table');
    }
    return this.#serial.run(async () => {
      const listing = await this.#list({ json: true, terse: true });
      if (listing === undefined) return new Map<string, NftCounter>();
      return sumByComment(parseTableJson(listing, FAMILY, this.#table).chains.flatMap((c) => c.rules));
    });
  }

  /**
   * Puts addresses learned from DNS answers into their timeout sets, each with a fresh timeout,
   * and resolves once the kernel holds them. An answer whose every address the kernel already
   * holds at least as long resolves at once, without a write. The others wait for the next
   * learning transaction: all answers that arrive within one turn of the event loop, or while
   * the previous transaction runs, share one. Written directly (renewal in place), it waits only
   * for a replace, unlearn or remove in flight; through libnftables, behind any apply. Throws
   * EGW_ERR_NFT when nft refuses this call's elements (a set the table does not have yet, for
   * one); a batch nft refused is retried call by call, so one answer's bad elements never fail
   * another's.
   */
  learn(elements: readonly LearnedElementWrite[]): Promise<void> {
    if (elements.length === 0 || this.#held(elements)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.#learnQueue.push({ elements, done: (err) => (err === undefined ? resolve() : reject(err)) });
      this.#scheduleFlush();
    });
  }

  /** One learning transaction at a time; the next starts as soon as the previous is done. */
  #scheduleFlush(): void {
    if (this.#flushPending || this.#flushing) return;
    this.#flushPending = true;
    setImmediate(() => {
      this.#flushing = true;
      // Written directly, learned elements need not wait behind applies and listings: only a
      // write that can take them out (a replace in flight, an unlearn, a remove) must finish first.
      const aside = this.#renewal === 'expires' && this.#writes !== undefined && this.#replacing === 0 && this.#disrupting === 0;
      void (aside ? this.#flushLearned(true) : this.#serial.run(() => this.#flushLearned(false)));
    });
  }

  /** Whether the kernel holds every element at least until its new timeout would end. */
  #held(elements: readonly LearnedElementWrite[]): boolean {
    if (this.#disrupting > 0) return false;
    const now = performance.now();
    return elements.every((e) => (this.#learned.get(learnedKey(e))?.expiresAt ?? 0) >= now + e.timeoutSeconds * 1000);
  }

  async #flushLearned(aside: boolean): Promise<void> {
    this.#flushPending = false;
    const batch = this.#learnQueue.splice(0);
    const failures = await this.#learnBatch(
      batch.map((b) => b.elements),
      aside,
    );
    // The next transaction is scheduled before the answers go on.
    this.#flushing = false;
    if (this.#learnQueue.length > 0) this.#scheduleFlush();
    batch.forEach((b, i) => b.done(failures[i]));
  }

  /** Learns the answers' elements in one transaction; a refused one is retried answer by answer. Each answer's error, if any. */
  async #learnBatch(answers: readonly (readonly LearnedElementWrite[])[], aside: boolean): Promise<unknown[]> {
    if (answers.length === 0) return [];
    try {
      await this.#learnNow(answers.flat(), aside);
      return answers.map(() => undefined);
    } catch (err) {
      if (answers.length === 1) return [err];
    }
    const failures: unknown[] = [];
    for (const elements of answers) {
      try {
        await this.#learnNow(elements, aside);
        failures.push(undefined);
      } catch (err) {
        failures.push(err);
      }
    }
    return failures;
  }

  /**
   * Writes the elements not already held longer. `aside`: called outside the apply queue; the
   * direct write and the memory of it then happen in one turn, so no replace can start between
   * them, and a write that falls back to libnftables joins the queue.
   */
  async #learnNow(elements: readonly LearnedElementWrite[], aside: boolean): Promise<void> {
    const now = performance.now();
    // An element already held longer keeps its timeout: a shorter TTL in a later answer must
    // not cut off a pod that cached the earlier one. Within the batch, the longest one wins.
    const fresh = new Map<string, LearnedElementWrite>();
    for (const e of elements) {
      const key = learnedKey(e);
      const until = now + e.timeoutSeconds * 1000;
      if ((this.#learned.get(key)?.expiresAt ?? 0) >= until || (fresh.get(key)?.timeoutSeconds ?? -1) >= e.timeoutSeconds) continue;
      fresh.set(key, e);
    }
    if (fresh.size === 0) return;
    const list = [...fresh.values()];
    const remember = () => {
      for (const [key, e] of fresh) this.#learned.set(key, { ...e, expiresAt: now + e.timeoutSeconds * 1000 });
      // Expired entries go when the map has doubled since the last sweep: amortized, never a walk per answer.
      if (this.#learned.size > this.#sweepAt) {
        for (const [k, e] of this.#learned) if (e.expiresAt <= now) this.#learned.delete(k);
        this.#sweepAt = Math.max(LEARNED_SWEEP_MIN, this.#learned.size * 2);
      }
    };
    if (this.#putDirect(list)) return remember();
    const slow = async () => {
      await this.#putLearned(list);
      remember();
    };
    await (aside ? this.#serial.run(slow) : slow());
  }

  /**
   * Learned elements that must never be missing from their sets while this process runs (the DNS
   * steering): every table replace whose table has their set writes them in its own transaction,
   * with their full timeout, also when it creates the set. Replaces the previous list; renewing
   * them is still the caller's (learn).
   */
  keepLearned(elements: readonly LearnedElementWrite[]): void {
    this.#standing = [...elements];
  }

  /**
   * Takes learned addresses out of their sets now (the DNS steering on a clean stop), queued behind
   * any apply. An address already gone (expired, its set or table removed) counts as taken out.
   */
  unlearn(elements: readonly Omit<LearnedElementWrite, 'timeoutSeconds' | 'comment'>[]): Promise<void> {
    if (elements.length === 0) return Promise.resolve();
    return this.#serial.run(() =>
      this.#disrupt(async () => {
        for (const e of elements) this.#learned.delete(learnedKey(e));
        const remove = (some: typeof elements) => this.#backend.run(forgottenElementsJson({ family: FAMILY, name: this.#table }, some), { json: true });
        const r = await remove(elements);
        if (r.ok) return;
        if (!isNotFound(r.error)) throw nftError(`removing ${elements.length} learned addresses from table ${FAMILY} ${this.#table}`, r.error);
        // One missing element fails the whole transaction: the others one by one.
        if (elements.length === 1) return;
        for (const e of elements) {
          const one = await remove([e]);
          if (!one.ok && !isNotFound(one.error)) throw nftError(`removing learned address ${e.address} from ${FAMILY} ${this.#table} ${e.set}`, one.error);
        }
      }),
    );
  }

  /** Runs `write` with the learned-elements shortcut off. */
  async #disrupt<T>(write: () => Promise<T>): Promise<T> {
    this.#disrupting++;
    try {
      return await write();
    } finally {
      this.#disrupting--;
    }
  }

  /**
   * Learned elements renewed in place go over netlink directly: libnftables' JSON parse and
   * cache reads were most of a one-element transaction (bench/firewall). Synchronous; false
   * when it cannot (renewal not known yet, or add, delete, add) or the write failed.
   */
  #putDirect(elements: readonly LearnedElementWrite[]): boolean {
    if (this.#renewal !== 'expires' || this.#writes === undefined || this.#directFailure !== undefined) return false;
    try {
      this.#writes.learned(this.#table, elements);
      return true;
    } catch (err) {
      this.#directFailure = err;
      return false;
    }
  }

  /** The elements through libnftables (after the probe, directly if that turned out possible). */
  async #putLearned(elements: readonly LearnedElementWrite[]): Promise<void> {
    const renewal = this.#renewal ?? (await this.#probeRenewal());
    if (this.#putDirect(elements)) return;
    // Inline, not on a worker thread: measured faster under load (bench/firewall), and the
    // forwarder's socket buffers hold the queries that arrive meanwhile.
    const r = await this.#backend.run(learnedElementsJson({ family: FAMILY, name: this.#table }, elements, renewal), { json: true });
    const direct = this.#directFailure;
    this.#directFailure = undefined;
    if (!r.ok) throw nftError(`learning ${elements.length} addresses in table ${FAMILY} ${this.#table}`, r.error);
    // A refusal the kernel gave may have been right then (a replace has since made the set); a
    // path that failed while libnftables works is given up.
    if (direct !== undefined && !(direct instanceof ElementsRefused)) {
      this.#writes = undefined;
      this.#log.warn(
        { op: 'nft-learned', table: this.#table, err: errorMessage(direct) },
        'learned addresses go through libnftables from now on: the direct netlink write failed where libnftables did not',
      );
    }
  }

  /** Asks the kernel once; until it could answer (no table yet), the renewal that works everywhere. */
  async #probeRenewal(): Promise<LearnedRenewal> {
    try {
      this.#renewal = await probeRenewal(this.#backend, FAMILY, this.#table);
      this.#log.info(
        { op: 'nft-learned', table: this.#table, renewal: this.#renewal },
        this.#renewal === 'expires'
          ? 'learned addresses are renewed in place (one add per address)'
          : 'this kernel does not renew an element in place; learned addresses are renewed by add, delete, add',
      );
      return this.#renewal;
    } catch (err) {
      this.#log.debug({ op: 'nft-learned', table: this.#table, err: errorMessage(err) }, 'element renewal not probed; renewing by add, delete, add');
      return 'readd';
    }
  }

  /**
   * The learned elements still in time whose sets `table` has, each for what is left of its
   * time (rounded up: never shorter than remembered), and the standing ones; the others are
   * forgotten.
   */
  #learnedFor(table: NftTablePlan): LearnedElementWrite[] {
    const sets = new Set(table.sets.filter((s) => s.learned).map((s) => s.name));
    const now = performance.now();
    const keep: LearnedElementWrite[] = [];
    for (const [k, e] of this.#learned) {
      if (e.expiresAt <= now || !sets.has(e.set)) this.#learned.delete(k);
      else
        keep.push({
          set: e.set,
          family: e.family,
          address: e.address,
          timeoutSeconds: Math.ceil((e.expiresAt - now) / 1000),
          ...(e.comment !== undefined ? { comment: e.comment } : {}),
        });
    }
    for (const e of this.#standing) {
      if (!sets.has(e.set)) continue;
      const at = keep.findIndex((k) => k.set === e.set && k.address === e.address);
      if (at < 0) keep.push(e);
      else if (keep[at]!.timeoutSeconds < e.timeoutSeconds) keep[at] = e;
    }
    return keep;
  }

  /**
   * What the kernel's learned sets hold (the previous agent's answers, after a restart), so a
   * shorter answer does not cut them short and a replace carries them. Seconds left are listed
   * rounded down: memory never claims more than the kernel holds.
   */
  #rememberObserved(observed: ObservedNft, table: NftTablePlan): void {
    const learned = new Map(table.sets.filter((s) => s.learned).map((s) => [s.name, SET_FAMILY[s.type]]));
    const now = performance.now();
    for (const set of observed.sets) {
      const family = learned.get(set.name);
      if (family === undefined || set.type !== `ipv${family}_addr`) continue;
      for (const e of set.timed ?? []) {
        if (e.expiresSeconds === undefined || e.expiresSeconds <= 0 || !isIp(e.element, family)) continue;
        const address = canonicalIp(e.element);
        const key = learnedKey({ set: set.name, address });
        const expiresAt = now + e.expiresSeconds * 1000;
        if ((this.#learned.get(key)?.expiresAt ?? 0) >= expiresAt) continue;
        this.#learned.set(key, { set: set.name, family, address, timeoutSeconds: e.expiresSeconds, expiresAt, ...(e.comment !== undefined ? { comment: e.comment } : {}) });
      }
    }
  }

  /** After a replace that left them out: the learned elements, into the new table's sets. */
  async #restoreLearned(keep: readonly LearnedElementWrite[]): Promise<void> {
    if (keep.length === 0) return;
    try {
      await this.#putLearned(keep);
    } catch (err) {
      // Not in the kernel: the next answers must write them again, not trust the map.
      this.#learned.clear();
      this.#log.warn(
        { op: 'nft-learned', table: this.#table, elements: keep.length, err: errorMessage(err) },
        'learned addresses not restored after a table replace; they are learned again from the next answers',
      );
    }
  }

  /** Deletes our table, and only it. Idempotent. */
  remove(): Promise<NftRemoveResult> {
    return this.#serial.run(() =>
      this.#disrupt(async () => {
        const started = performance.now();
        this.#learned.clear();
        const r = await this.#backend.run(deleteTableBatch({ family: FAMILY, name: this.#table }).json, { json: true });
        if (!r.ok && !isNotFound(r.error)) {
          this.#state = UNKNOWN;
          throw nftError(`deleting table ${FAMILY} ${this.#table}`, r.error);
        }
        this.#state = { kind: 'absent' };
        if (r.ok) this.#log.info({ op: 'nft-remove', table: this.#table }, 'nft table removed');
        return { removed: r.ok, durationMs: performance.now() - started };
      }),
    );
  }

  /**
   * Drops what this instance remembers, so the next apply diffs against the kernel: a periodic
   * resync catches tables changed by hand while the plan did not change. Takes effect after the
   * calls already queued.
   */
  forget(): void {
    void this.#serial.run(async () => {
      this.#state = UNKNOWN;
    });
  }

  close(): void {
    this.#backend.close();
  }

  async #reconcile(table: NftTablePlan, fingerprint: string, options: NftApplyOptions): Promise<Omit<NftApplyResult, 'durationMs'>> {
    if (options.replace) return this.#replace(table, fingerprint, 'forced', 'none');
    const known = this.#state;
    if (known.kind === 'absent') return this.#replace(table, fingerprint, 'absent', 'memory');
    if (known.kind === 'applied') {
      if (known.fingerprint !== fingerprint) return this.#restructure(known.table, known.capacities, table, fingerprint);
      const changes = diffPlanElements(known.table, table);
      if (changes.length === 0) {
        this.#state = { ...known, table };
        return nothingSent('memory');
      }
      if (overfullSet(table, known.capacities) !== undefined) return this.#replace(table, fingerprint, 'set-full', 'memory');
      try {
        return await this.#sendElements(table, fingerprint, known.capacities, changes, 'memory');
      } catch (err) {
        // Someone changed our table behind our back (or removed it): fall back to the kernel's view.
        this.#log.warn({ op: 'nft-apply', table: this.#table, err: errorMessage(err) }, 'element update failed; diffing against the kernel');
        this.#state = UNKNOWN;
      }
    }
    return this.#reconcileWithKernel(table, fingerprint);
  }

  async #reconcileWithKernel(table: NftTablePlan, fingerprint: string): Promise<Omit<NftApplyResult, 'durationMs'>> {
    // The fingerprint alone decides most cases, and reading it over netlink is cheap; elements
    // are listed only when the structure matches and an element diff is possible.
    const comment = await this.#structureComment();
    if (comment === null) return this.#replace(table, fingerprint, 'absent', 'kernel');
    if (fingerprintFromComment(comment) !== fingerprint) return this.#replace(table, fingerprint, 'foreign-or-old', 'kernel');
    const observed = await this.#observe();
    if (!observed.present) return this.#replace(table, fingerprint, 'absent', 'kernel');
    this.#rememberObserved(observed, table);
    if (observed.fingerprint !== fingerprint || !sameShape(observed, table)) return this.#replace(table, fingerprint, 'drifted', 'kernel');
    const capacities: Capacities = new Map(observed.sets.flatMap((s) => (s.size === undefined ? [] : [[s.name, s.size] as const])));
    if (overfullSet(table, capacities) !== undefined) return this.#replace(table, fingerprint, 'set-full', 'kernel');
    const changes = diffObservedElements(observed.sets, table);
    if (changes.length === 0) {
      this.#state = { kind: 'applied', table, fingerprint, capacities };
      this.#log.info({ op: 'nft-adopt', table: this.#table }, 'adopted existing nft table');
      return nothingSent('kernel');
    }
    return this.#sendElements(table, fingerprint, capacities, changes, 'kernel');
  }

  async #replace(table: NftTablePlan, fingerprint: string, reason: ReplaceReason, basis: NftApplyResult['basis']): Promise<Omit<NftApplyResult, 'durationMs'>> {
    this.#replacing++;
    try {
      return await this.#replaceNow(table, fingerprint, reason, basis);
    } finally {
      this.#replacing--;
    }
  }

  async #replaceNow(table: NftTablePlan, fingerprint: string, reason: ReplaceReason, basis: NftApplyResult['basis']): Promise<Omit<NftApplyResult, 'durationMs'>> {
    const capacities = tableCapacities(table);
    const what = `replacing table ${FAMILY} ${this.#table}`;
    // The learned elements go into the new table in the same transaction: no packet sees the
    // learned sets empty, and the learned-elements shortcut stays true throughout.
    const learned = this.#learnedFor(table);
    let batch = replaceBatch(table, fingerprint, capacities, learned);
    try {
      await this.#send(batch, what);
      this.#state = { kind: 'applied', table, fingerprint, capacities };
    } catch (err) {
      if (learned.length === 0) throw err;
      // A learned element nft refused must not keep the table out: without them, then on their own.
      this.#log.warn(
        { op: 'nft-replace', table: this.#table, learned: learned.length, err: errorMessage(err) },
        'table replace refused; trying once more without the learned addresses',
      );
      batch = replaceBatch(table, fingerprint, capacities, []);
      await this.#disrupt(async () => {
        await this.#send(batch, what);
        this.#state = { kind: 'applied', table, fingerprint, capacities };
        await this.#restoreLearned(learned);
      });
    }
    const elements = table.sets.reduce((n, s) => n + s.elements.length, 0);
    this.#log.info({ op: 'nft-replace', table: this.#table, reason, elements, learned: learned.length }, 'nft table replaced');
    return { mode: 'replace', writes: batch.commands, basis, reason, elementsAdded: elements, elementsRemoved: 0 };
  }

  /**
   * A new structure over the table this instance applied: chains and rules rewritten in one
   * transaction, the sets that stay keeping their elements (see Restructure). Anything the
   * kernel refuses (someone changed the table meanwhile) falls back to a replace.
   */
  async #restructure(from: NftTablePlan, kept: Capacities, table: NftTablePlan, fingerprint: string): Promise<Omit<NftApplyResult, 'durationMs'>> {
    const change = restructure(from, table);
    if (change === undefined) return this.#replace(table, fingerprint, 'structure-changed', 'memory');
    const added = new Set(change.addSets.map((s) => s.name));
    const capacities = new Map([...kept].filter(([name]) => !change.deleteSets.includes(name)));
    for (const set of change.addSets) {
      const capacity = setCapacity(set);
      if (capacity !== undefined) capacities.set(set.name, capacity);
    }
    if (overfullSet(table, capacities) !== undefined) return this.#replace(table, fingerprint, 'set-full', 'memory');
    const learned = this.#learnedFor(table).filter((e) => added.has(e.set));
    const batch = restructureBatch(change, fingerprint, capacities, learned);
    this.#replacing++;
    try {
      await this.#send(batch, `restructuring table ${FAMILY} ${this.#table}`);
      this.#state = { kind: 'applied', table, fingerprint, capacities };
    } catch (err) {
      this.#log.warn({ op: 'nft-restructure', table: this.#table, err: errorMessage(err) }, 'restructure refused; replacing the table');
      this.#state = UNKNOWN;
      return await this.#replace(table, fingerprint, 'structure-changed', 'memory');
    } finally {
      this.#replacing--;
    }
    const { added: elementsAdded, removed: elementsRemoved } = countElements(change.changes);
    this.#log.info(
      {
        op: 'nft-restructure',
        table: this.#table,
        chains: table.chains.length,
        setsAdded: change.addSets.length,
        setsDeleted: change.deleteSets.length,
        elementsAdded,
        elementsRemoved,
      },
      'nft table restructured in place',
    );
    return { mode: 'restructure', writes: batch.commands, basis: 'memory', reason: 'structure-changed', elementsAdded, elementsRemoved };
  }

  async #sendElements(
    table: NftTablePlan,
    fingerprint: string,
    capacities: Capacities,
    changes: readonly SetElementChange[],
    basis: NftApplyResult['basis'],
  ): Promise<Omit<NftApplyResult, 'durationMs'>> {
    const batch = elementBatch(table, changes);
    await this.#send(batch, `updating elements of table ${FAMILY} ${this.#table}`);
    this.#state = { kind: 'applied', table, fingerprint, capacities };
    const { added, removed } = countElements(changes);
    this.#log.debug({ op: 'nft-elements', table: this.#table, sets: changes.map((c) => c.set), added, removed }, 'nft set elements updated');
    return { mode: 'elements', writes: batch.commands, basis, elementsAdded: added, elementsRemoved: removed };
  }

  /**
   * Sends the JSON form. libnftables reports errors in JSON input without saying which command
   * failed, so a rejected batch is checked again as nft text (dry run: the kernel validates it,
   * nothing commits), whose error names the line and quotes the rule.
   */
  async #send(batch: NftBatch, what: string): Promise<void> {
    const r = await this.#backend.run(batch.json, { json: true });
    if (r.ok) return;
    const check = await this.#backend.run(batch.text(), { dryRun: true });
    throw nftError(what, !check.ok && check.error.trim() !== '' ? check.error : r.error);
  }

  /** Listing of our table, or undefined when it does not exist. */
  async #list(options: NftRunOptions): Promise<string | undefined> {
    const r = await this.#backend.run(listTableCommand(FAMILY, this.#table), { ...options, listing: true });
    if (r.ok) return r.output;
    if (isNotFound(r.error)) return undefined;
    throw nftError(`listing table ${FAMILY} ${this.#table}`, r.error);
  }

  /** The structure rule's comment; '' when there is none, null when the table does not exist. */
  async #structureComment(): Promise<string | null> {
    try {
      return this.#reads.structureComment(this.#table);
    } catch (err) {
      this.#log.debug({ op: 'nft-fingerprint', table: this.#table, err: errorMessage(err) }, 'netlink reads failed; listing the table');
    }
    const text = await this.#list({ terse: true });
    if (text === undefined) return null;
    return chainRuleCommentFromText(text, STRUCTURE_CHAIN) ?? '';
  }

  /** Sets and chains over netlink (the same at any size, ~10x less than a listing at 100k elements), else as JSON (libnftables). */
  async #readTable(): Promise<{ sets: ObservedSet[]; chains: ObservedChain[] } | null> {
    try {
      return this.#reads.table(this.#table);
    } catch (err) {
      const log = { op: 'nft-observe', table: this.#table, err: errorMessage(err) };
      if (this.#tableReadFailed) this.#log.debug(log, 'netlink table read failed; listing the table');
      else this.#log.warn(log, 'netlink table read failed; listing the table as JSON instead (slower on large sets)');
      this.#tableReadFailed = true;
    }
    const json = await this.#list({ json: true });
    return json === undefined ? null : parseTableJson(json, FAMILY, this.#table);
  }

  /** The table as the kernel holds it, its fingerprint taken from the structure chain. */
  async #observe(): Promise<ObservedNft> {
    const read = await this.#readTable();
    if (read === null) return { family: FAMILY, name: this.#table, present: false, sets: [], chains: [] };
    const { sets, chains } = read;
    const structure = chains.find((c) => c.name === STRUCTURE_CHAIN);
    const fingerprint = fingerprintFromComment(structure?.rules[0]?.comment);
    const planned = chains.filter((c) => c !== structure);
    return { family: FAMILY, name: this.#table, present: true, ...(fingerprint ? { fingerprint } : {}), sets, chains: planned };
  }

  #checkOwned(table: NftTablePlan): void {
    if (table.family !== FAMILY || table.name !== this.#table) {
      throw new EgressError('EGW_ERR_NFT', `refusing to write table ${table.family} ${table.name}: this driver owns only ${FAMILY} ${this.#table}`);
    }
  }
}

/** A rule as counters() needs it, from the netlink dump or a listing. */
export interface CountedRule {
  readonly comment?: string;
  readonly counter?: NftCounter;
}

function sumByComment(rules: readonly CountedRule[]): Map<string, NftCounter> {
  const totals = new Map<string, NftCounter>();
  for (const { comment, counter } of rules) {
    if (comment === undefined || counter === undefined) continue;
    const sum = totals.get(comment) ?? { packets: 0, bytes: 0 };
    totals.set(comment, { packets: sum.packets + counter.packets, bytes: sum.bytes + counter.bytes });
  }
  return totals;
}

function nothingSent(basis: NftApplyResult['basis']): Omit<NftApplyResult, 'durationMs'> {
  return { mode: 'none', writes: 0, basis, elementsAdded: 0, elementsRemoved: 0 };
}

/**
 * A cheap guard against hand edits that kept our comment: same set names, types and flags, same
 * chains with the same number of rules. Rule text is not compared (nft normalizes it).
 */
function sameShape(observed: ObservedNft, table: NftTablePlan): boolean {
  const sets = new Map(observed.sets.map((s) => [s.name, s]));
  if (sets.size !== table.sets.length) return false;
  for (const s of table.sets) {
    const o = sets.get(s.name);
    if (!o || o.type !== s.type || o.interval !== s.interval || o.flags.includes('timeout') !== (s.learned === true)) return false;
  }
  const chains = new Map(observed.chains.map((c) => [c.name, c]));
  if (chains.size !== table.chains.length) return false;
  return table.chains.every((c) => {
    const o = chains.get(c.name);
    return o !== undefined && o.type === c.type && o.hook === c.hook && o.rules.length === c.rules.length;
  });
}

function nftError(what: string, nftText: string): EgressError {
  const detail = nftText.trim() || 'nft reported a failure without a message';
  return new EgressError('EGW_ERR_NFT', `${what}: ${detail}`);
}
