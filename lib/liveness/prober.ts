/**
 * Node-to-node liveness probes over UDP (probe-engine.ts), run in a worker thread: the agent's
 * event loop can be busy for most of a second (planning and applying many policies at once), and
 * a prober on it would neither send nor answer meanwhile, so its peers would judge the node dead.
 * This is the agent's side: it checks input, forwards peers and its own report, checks in once per
 * interval (the worker answers unhealthy when the agent's thread stops running), keeps the latest
 * view, and applies the worker's logs and metrics. A worker that dies is started again; until it
 * runs, the view stays as it was.
 */
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { errorMessage } from '../errors.js';
import type { LivenessView, SelfReport } from './liveness-types.js';
import type { ProberStats } from './probe-engine.js';
import { checkPeers, checkSelf, type KnownNode, type PeerProblem } from './probe-input.js';
import { SILENT_LOGGER, type ProbeErrorCode, type ProbeLogger, type ProbeMetricsSink } from './probe-observers.js';
import type { FromWorker, ToWorker } from './probe-thread-messages.js';
import { proberConfig, type ProberConfig, type ProberOptions } from './prober-options.js';

export type { ProberStats } from './probe-engine.js';
export type { PeerProblem } from './probe-input.js';

export type LivenessListener = (view: LivenessView) => void;

/** A worker that died is started again after this long (a crash loop costs one start per second). */
const RESTART_MS = 1000;
/** close() waits this long for the worker to close its sockets and send its last metrics. */
const CLOSE_WAIT_MS = 1000;
/** The same warning (code, operation, address) is logged at most once per this; every one is counted. */
const WARN_EVERY_MS = 30_000;
const WORKER_SCRIPT = new URL('./probe-worker.js', import.meta.url);

const NO_METRICS: ProbeMetricsSink = Object.freeze({ probeMissed() {}, probePeerAlive() {}, probeRtt() {}, probeRejected() {}, probeError() {}, probePeerGone() {} });
const EMPTY_STATS: ProberStats = Object.freeze({
  bound: [],
  rounds: 0,
  accepted: 0,
  answered: 0,
  told: 0,
  unanswered: 0,
  rejected: { unknown_source: 0, name_mismatch: 0, malformed: 0 },
  errors: {},
});
const EMPTY_VIEW: LivenessView = Object.freeze({ peers: new Map(), isolated: false });

export interface ProberThreadOptions extends ProberOptions {
  /** The worker's script (tests wrap it to make it fail). */
  readonly workerScript?: URL;
}

export class Prober {
  readonly config: ProberConfig;
  readonly #log: ProbeLogger;
  readonly #metrics: ProbeMetricsSink;
  readonly #script: URL;
  readonly #listeners = new Set<LivenessListener>();
  readonly #warnedAt = new Map<string, number>();
  #worker: Worker | undefined;
  #view: LivenessView = EMPTY_VIEW;
  #workerStats: ProberStats = EMPTY_STATS;
  /** Errors counted in this thread: input refused here, workers lost. */
  readonly #errors: Partial<Record<ProbeErrorCode, number>> = {};
  #peers: readonly KnownNode[] = [];
  #self: SelfReport | undefined;
  #checkIn: NodeJS.Timeout | undefined;
  #restart: NodeJS.Timeout | undefined;
  #closed = false;

  private constructor(options: ProberThreadOptions) {
    this.config = proberConfig(options);
    this.#log = options.logger ?? SILENT_LOGGER;
    this.#metrics = options.metrics ?? NO_METRICS;
    this.#script = options.workerScript ?? WORKER_SCRIPT;
  }

  /**
   * Checks the options (throws EGW_ERR_PROBE_CONFIG / _INPUT), starts the worker and waits until
   * it has tried to bind every address once. A bind that fails is logged and counted
   * (EGW_ERR_PROBE_SOCKET) and tried again every second; it never rejects for it.
   */
  static async start(options: ProberThreadOptions): Promise<Prober> {
    const prober = new Prober(options);
    await prober.#spawn();
    // One check-in per interval; the worker's own timers do not depend on it.
    prober.#checkIn = setInterval(() => prober.#post({ type: 'check-in' }), prober.config.intervalMs);
    return prober;
  }

  /**
   * The known nodes and their underlay addresses; replaces the previous set. Those with `probe`
   * unset or true are probed (a peer kept with the same address keeps its state); those with
   * `probe: false` are only answered, and any packet of theirs means this node is not cut off.
   * Entries that cannot be used (bad name or address, this node, a duplicate, a family this node
   * has no address of) are left out, logged and returned; a peer left out is judged by the API
   * server alone. The view shows the new set once the worker has it (within a turn of its event
   * loop).
   */
  setPeers(peers: readonly KnownNode[]): PeerProblem[] {
    if (this.#closed) return [];
    const { accepted, problems } = checkPeers(this.config, peers);
    for (const p of problems) this.#warn('EGW_ERR_PROBE_INPUT', { op: 'peers', peer: p.node, address: p.address }, `peer left out: ${p.problem}`);
    this.#peers = accepted;
    this.#post({ type: 'peers', peers: accepted });
    return problems;
  }

  /**
   * What this node says of itself from now on. Holds that are not IP addresses are left out,
   * logged and returned. A change goes out at once in an extra probe round (once per interval).
   */
  setSelf(report: SelfReport): string[] {
    if (this.#closed) return [];
    const { self, invalid } = checkSelf(report);
    for (const ip of invalid) this.#warn('EGW_ERR_PROBE_INPUT', { op: 'self', address: ip }, 'held address left out: not an IP address');
    this.#self = self;
    this.#post({ type: 'self', self });
    return invalid;
  }

  /** The latest view the worker sent (on every change, and once per interval with fresh ages). */
  view(): LivenessView {
    return this.#view;
  }

  /**
   * Calls `listener` with the view when a peer's heard, alive, healthy, draining, holds or
   * truncated state or the isolated flag changes (at most 3 times per interval). Returns a
   * function that removes it. A listener's exception is logged and ignored.
   */
  onChange(listener: LivenessListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The worker's counts as last sent, and the errors counted in this thread. */
  stats(): ProberStats {
    const errors = { ...this.#workerStats.errors };
    for (const [code, n] of Object.entries(this.#errors) as [ProbeErrorCode, number][]) errors[code] = (errors[code] ?? 0) + n;
    return { ...this.#workerStats, rejected: { ...this.#workerStats.rejected }, errors };
  }

  /** Stops probing (closes the sockets, ends the worker) and drops the peers' metric series. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#checkIn);
    clearTimeout(this.#restart);
    this.#listeners.clear();
    const worker = this.#worker;
    this.#worker = undefined;
    if (worker !== undefined) {
      const closed = new Promise<void>((resolve) => {
        const done = setTimeout(resolve, CLOSE_WAIT_MS);
        worker.on('message', (m: FromWorker) => {
          // the last logs and metrics (the peers' series removed)
          if (m.type === 'batch') this.#apply(m);
          if (m.type === 'closed') {
            clearTimeout(done);
            resolve();
          }
        });
        worker.once('exit', () => {
          clearTimeout(done);
          resolve();
        });
      });
      worker.postMessage({ type: 'close' } satisfies ToWorker);
      await closed;
      await worker.terminate();
    }
    for (const p of this.#peers) if (p.probe !== false) this.#metrics.probePeerGone(p.node);
  }

  /** Starts a worker; resolves once it runs (or has died, then a restart is due). */
  #spawn(): Promise<void> {
    const worker = new Worker(this.#script, { workerData: this.config });
    // The agent's own handles keep the process; the worker ends with it.
    worker.unref();
    this.#worker = worker;
    return new Promise<void>((resolve) => {
      worker.on('message', (m: FromWorker) => {
        if (worker !== this.#worker) return;
        if (m.type === 'ready') {
          this.#workerStats = m.stats;
          if (this.#peers.length > 0) this.#post({ type: 'peers', peers: this.#peers });
          if (this.#self !== undefined) this.#post({ type: 'self', self: this.#self });
          resolve();
        } else if (m.type === 'batch') this.#apply(m);
      });
      worker.on('error', (err) => {
        if (worker === this.#worker) this.#log.warn({ op: 'worker', code: 'EGW_ERR_PROBE_WORKER', err: errorMessage(err) }, 'probe thread failed');
      });
      worker.on('exit', (code) => {
        resolve();
        if (worker !== this.#worker || this.#closed) return;
        this.#worker = undefined;
        this.#warn('EGW_ERR_PROBE_WORKER', { op: 'worker', exitCode: code }, `probe thread ended; starting it again in ${RESTART_MS} ms (the view stays as it was until then)`);
        this.#restart = setTimeout(() => void this.#spawn(), RESTART_MS);
      });
    });
  }

  #apply(batch: Extract<FromWorker, { type: 'batch' }>): void {
    this.#workerStats = batch.stats;
    for (const entry of batch.logs) this.#log[entry.level](entry.obj, entry.msg);
    for (const [verb, ...args] of batch.metrics) (this.#metrics[verb] as (...a: unknown[]) => void).apply(this.#metrics, args);
    if (batch.view === undefined) return;
    this.#view = batch.view;
    if (!batch.changed) return;
    for (const listener of [...this.#listeners]) {
      try {
        listener(batch.view);
      } catch (err) {
        this.#log.warn({ op: 'notify', err: errorMessage(err) }, 'liveness listener threw');
      }
    }
  }

  #post(message: ToWorker): void {
    this.#worker?.postMessage(message);
  }

  #warn(code: ProbeErrorCode, fields: Record<string, unknown>, msg: string): void {
    this.#errors[code] = (this.#errors[code] ?? 0) + 1;
    this.#metrics.probeError(code);
    const key = `${String(fields.op)}|${code}|${String(fields.address)}`;
    const at = performance.now();
    const last = this.#warnedAt.get(key);
    if (last !== undefined && at - last < WARN_EVERY_MS) return;
    this.#warnedAt.set(key, at);
    this.#log.warn({ ...fields, code }, msg);
  }
}
