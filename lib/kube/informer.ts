import { Backoff } from './backoff.js';
import type { JsonObject, KubeClient } from './rest-client.js';
import { WatchTransport, type WatchTransportOptions } from './watch-transport.js';
import { errorMessage } from '../errors.js';
import { isRecord } from '../api/fields.js';
import { silentLogger, type Logger } from './logger.js';
import { isKubeStatus, KubeApiError } from './api-error.js';
import { listAllPages } from './paged-list.js';

/** How far apart the informers of many processes relist when the API server answers again (see retryNow). */
const RELIST_SPREAD_MS = 1000;

/** What an informer reports; implementations only update a store (no I/O, never throw). */
export interface InformerHandlers {
  upsert(object: JsonObject): void;
  remove(object: JsonObject): void;
  /** A complete list: everything this informer delivered before and is not in `objects` is gone. */
  resync(objects: readonly JsonObject[]): void;
}

export interface InformerTiming {
  readonly backoffInitialMs: number;
  readonly backoffMaxMs: number;
  readonly watch: WatchTransportOptions;
}

export const DEFAULT_INFORMER_TIMING: InformerTiming = {
  backoffInitialMs: 500,
  backoffMaxMs: 30_000,
  watch: { timeoutSeconds: 300, connectTimeoutMs: 15_000, idleGraceMs: 30_000 },
};

export interface ResilientInformerOptions {
  /** Names the informer in logs and is the store source id. */
  readonly name: string;
  readonly client: KubeClient;
  /** Collection path, e.g. /api/v1/pods. */
  readonly path: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly handlers: InformerHandlers;
  readonly timing?: Partial<InformerTiming>;
  readonly logger?: Logger;
  readonly onSynced?: () => void;
  /** Applied to every object before it is cached and delivered (see slimObject). */
  readonly transform?: (object: JsonObject) => JsonObject;
  /**
   * A list the server refuses as a bad request (400: e.g. a label selector it cannot parse) counts
   * as an empty list: the informer is synced with nothing, and keeps retrying with backoff.
   * Without it such an informer would never sync, and everything waiting for sync would wait forever.
   */
  readonly badRequestIsEmpty?: boolean;
  /** Items per list page (default: client-go's 500). */
  readonly pageSize?: number;
}

/**
 * List, then watch from the list's revision, as client-go's reflector does, kept alive: a watch
 * the server ends is resumed from the last resourceVersion seen, a 410 (that revision is
 * compacted away) lists again, and any other error starts over after an exponential backoff
 * (0.5 s → 30 s, reset after a run that lasted as long as the cap; cut short when the client
 * sees the API server answer again after an outage). Every list reconciles the
 * store (handlers.resync), so nothing missed is kept. The informer holds no object itself: what
 * it delivers is the handlers' (the store's) alone.
 */
export class ResilientInformer {
  /** True once a first list was delivered; stays true across restarts (data may be stale, not partial). */
  synced = false;
  readonly whenSynced: Promise<void>;
  /** Restarts after errors, for metrics and tests. */
  restarts = 0;
  /** When (Date.now()) the last complete list was delivered. */
  listedAt: number | undefined;
  lastError: unknown;

  private resolveSynced!: () => void;
  private generation = 0;
  /** Ends the running list-watch (its stream); the generation check keeps its handlers quiet after. */
  private current: AbortController | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private launchedAt = 0;
  private dueAt = 0;
  private offAnsweringAgain: (() => void) | undefined;
  private readonly backoff: Backoff;
  private readonly timing: InformerTiming;
  private readonly logger: Logger;

  constructor(private readonly options: ResilientInformerOptions) {
    this.timing = { ...DEFAULT_INFORMER_TIMING, ...options.timing };
    this.backoff = new Backoff(this.timing.backoffInitialMs, this.timing.backoffMaxMs, 0.2);
    this.logger = options.logger ?? silentLogger();
    this.whenSynced = new Promise((resolve) => (this.resolveSynced = resolve));
  }

  get name(): string {
    return this.options.name;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.offAnsweringAgain = this.options.client.onAnsweringAgain(() => this.retryNow());
    this.launch();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.offAnsweringAgain?.();
    this.offAnsweringAgain = undefined;
    this.generation++;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.current?.abort();
    this.current = undefined;
  }

  /** Lists again now (a fresh view after a partition), then watches from there. */
  relist(): void {
    if (!this.running) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.current?.abort();
    this.launch();
  }

  /**
   * A restart waiting out its backoff starts now (the API server answers again after an outage):
   * what changed meanwhile arrives within RELIST_SPREAD_MS, not up to a backoff cap later. At a
   * random point of that spread, so that a thousand nodes back from one outage do not all list in
   * the same instant. Once per call; a list that fails again backs off further.
   */
  private retryNow(): void {
    if (!this.running || !this.timer || this.dueAt <= Date.now() + RELIST_SPREAD_MS) return;
    clearTimeout(this.timer);
    this.schedule(Math.random() * RELIST_SPREAD_MS);
  }

  private schedule(delay: number): void {
    this.dueAt = Date.now() + delay;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.running) this.launch();
    }, delay);
  }

  private launch(): void {
    const generation = ++this.generation;
    const live = () => this.running && generation === this.generation;
    const abort = new AbortController();
    this.current = abort;
    this.launchedAt = Date.now();
    this.listAndWatch(live, abort.signal).catch((err: unknown) => live() && this.fail(err));
  }

  private async listAndWatch(live: () => boolean, signal: AbortSignal): Promise<void> {
    let resourceVersion = await this.list(live);
    while (live()) {
      const ended = await this.watchFrom(resourceVersion, live, signal, (rv) => (resourceVersion = rv));
      if (ended === null) continue;
      if (!isKubeStatus(ended, 410)) throw ended instanceof Error ? ended : new Error(String(ended));
      resourceVersion = await this.list(live);
    }
  }

  /** A complete list handed to handlers.resync; returns its revision. */
  private async list(live: () => boolean): Promise<string> {
    const { client, path, labelSelector, fieldSelector, handlers } = this.options;
    const transform = this.options.transform ?? ((o: JsonObject) => o);
    const keep = (items: readonly JsonObject[]) => items.filter((o) => isRecord(o.metadata) && typeof o.metadata.name === 'string').map(transform);
    let list: { items: JsonObject[]; resourceVersion: string };
    try {
      list = await listAllPages(client, path, { labelSelector, fieldSelector, keep, live, ...(this.options.pageSize ? { pageSize: this.options.pageSize } : {}) });
    } catch (err) {
      if (this.options.badRequestIsEmpty && err instanceof KubeApiError && err.status === 400 && live()) {
        handlers.resync([]);
        this.markSynced();
      }
      throw err;
    }
    if (!live()) throw new Error('informer stopped during its list');
    handlers.resync(list.items);
    this.listedAt = Date.now();
    this.markSynced();
    return list.resourceVersion;
  }

  /** One watch stream from `resourceVersion`; resolves with null when it ended cleanly, else its error. */
  private watchFrom(resourceVersion: string, live: () => boolean, signal: AbortSignal, seen: (rv: string) => void): Promise<unknown> {
    const { client, path, labelSelector, fieldSelector, handlers } = this.options;
    const transport = new WatchTransport(client, this.timing.watch, this.options.transform);
    const query = { resourceVersion, labelSelector: labelSelector || undefined, fieldSelector: fieldSelector || undefined };
    return new Promise((resolve) => {
      const onAbort = () => stream.abort();
      const stream = transport.watch(
        path,
        query,
        (type, object) => {
          if (!live()) return;
          const meta = isRecord(object.metadata) ? object.metadata : {};
          if (typeof meta.resourceVersion === 'string' && meta.resourceVersion && type !== 'ERROR') seen(meta.resourceVersion);
          if (type === 'ADDED' || type === 'MODIFIED') handlers.upsert(object);
          else if (type === 'DELETED') handlers.remove(object);
        },
        (err) => {
          signal.removeEventListener('abort', onAbort);
          resolve(err);
        },
      );
      if (signal.aborted) stream.abort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private markSynced(): void {
    if (this.synced) return;
    this.synced = true;
    this.resolveSynced();
    this.options.onSynced?.();
  }

  private fail(err: unknown): void {
    this.lastError = err;
    this.restarts++;
    this.current?.abort();
    this.current = undefined;
    this.generation++;
    if (Date.now() - this.launchedAt >= this.timing.backoffMaxMs) this.backoff.reset();
    const delay = this.backoff.next();
    this.logger.warn({ op: 'watch', informer: this.name, err: errorMessage(err), retryMs: delay }, 'watch failed; restarting');
    this.schedule(delay);
  }
}
