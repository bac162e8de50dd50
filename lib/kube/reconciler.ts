import { Backoff } from './backoff.js';
import { errorMessage } from '../errors.js';
import { silentLogger, type Logger } from './logger.js';

export interface ReconcileContext {
  /** Why this run happens: the trigger reasons collected since the last run ('retry' after a failure). */
  readonly reasons: ReadonlySet<string>;
  /** Aborted when the reconciler stops; long runs check it between writes. */
  readonly signal: AbortSignal;
}

export interface ReconcilerOptions {
  readonly name: string;
  readonly run: (context: ReconcileContext) => Promise<void>;
  /**
   * Runs start at least this far apart; triggers meanwhile wait, collected into the next run. A
   * trigger after a quiet spell runs at once (in a later turn of the event loop, so the triggers of
   * one burst still make one run): a single change never waits for a debounce.
   */
  readonly minIntervalMs?: number;
  readonly retryInitialMs?: number;
  readonly retryMaxMs?: number;
  readonly logger?: Logger;
  /** Called by stop(), e.g. to unsubscribe the triggers feeding this reconciler. */
  readonly onStop?: () => void;
}

/**
 * One serialized reconcile loop. trigger() only records a reason; runs never overlap, bursts of
 * triggers coalesce into one run, and a failed run is retried with exponential backoff
 * (1 s → 60 s). Triggers that arrive while a retry is pending wait for it, so a failing API is
 * not hammered by a stream of events.
 */
export class Reconciler {
  /** Completed runs (successful or not). */
  runs = 0;
  failures = 0;
  lastError: unknown;

  private pending = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private dueAt = 0;
  private running: Promise<void> | undefined;
  private lastStart = Number.NEGATIVE_INFINITY;
  private retrying = false;
  private stopped = false;
  private readonly abort = new AbortController();
  private readonly backoff: Backoff;
  private readonly minIntervalMs: number;
  private readonly logger: Logger;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly options: ReconcilerOptions) {
    this.minIntervalMs = options.minIntervalMs ?? 50;
    this.backoff = new Backoff(options.retryInitialMs ?? 1000, options.retryMaxMs ?? 60_000);
    this.logger = options.logger ?? silentLogger();
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  get isIdle(): boolean {
    return !this.running && !this.timer && this.pending.size === 0;
  }

  /**
   * Records a reason and schedules a run. `urgent`: also cuts short the wait for a retry (a run
   * whose input changed need not wait for the backoff of the one that failed).
   */
  trigger(reason: string, options: { urgent?: boolean } = {}): void {
    if (this.stopped) return;
    this.pending.add(reason);
    if (this.running || (this.retrying && !options.urgent)) return;
    this.scheduleAt(Math.max(Date.now(), this.lastStart + this.minIntervalMs));
  }

  /**
   * A retry waiting out its backoff runs now, with the reasons it had; otherwise nothing happens.
   * For when the cause of the failure is gone (the API server answers again): one retry per call,
   * and a retry that fails again backs off further.
   */
  retryNow(): void {
    if (this.stopped || !this.retrying) return;
    this.scheduleAt(Math.max(Date.now(), this.lastStart + this.minIntervalMs));
  }

  /** Resolves when nothing is pending or running (tests). */
  idle(): Promise<void> {
    if (this.isIdle || this.stopped) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops at once: aborts the signal of a running pass and waits for it to return. */
  async stop(): Promise<void> {
    if (!this.stopped) this.options.onStop?.();
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
    this.abort.abort();
    await this.running;
    this.notifyIdle();
  }

  private scheduleAt(at: number): void {
    if (this.timer && this.dueAt <= at) return;
    if (this.timer) clearTimeout(this.timer);
    this.dueAt = at;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        void this.execute();
      },
      Math.max(0, at - Date.now()),
    );
  }

  private async execute(): Promise<void> {
    if (this.stopped || this.running) return;
    const reasons = this.pending;
    this.pending = new Set();
    this.retrying = false;
    this.lastStart = Date.now();
    let failed = false;
    this.running = (async () => {
      try {
        await this.options.run({ reasons, signal: this.abort.signal });
        this.backoff.reset();
      } catch (err) {
        if (this.stopped) return;
        failed = true;
        this.failures++;
        this.lastError = err;
        for (const r of reasons) this.pending.add(r);
        this.pending.add('retry');
      } finally {
        this.runs++;
      }
    })();
    await this.running;
    this.running = undefined;
    if (this.stopped) return this.notifyIdle();
    if (failed) {
      const delay = this.backoff.next();
      this.logger.warn({ op: 'reconcile', reconciler: this.options.name, err: errorMessage(this.lastError), retryMs: delay }, 'reconcile failed; retrying');
      this.retrying = true;
      this.scheduleAt(Date.now() + delay);
    } else if (this.pending.size > 0) {
      this.scheduleAt(this.lastStart + this.minIntervalMs);
    }
    this.notifyIdle();
  }

  private notifyIdle(): void {
    if (!this.isIdle && !this.stopped) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
