import * as k8s from '@kubernetes/client-node';
import { Backoff } from './backoff.js';
import type { JsonObject, KubeClient } from './rest-client.js';
import { WatchTransport, type WatchTransportOptions } from './watch-transport.js';
import { errorMessage } from '../errors.js';
import { isRecord } from '../api/fields.js';
import { silentLogger, type Logger } from './logger.js';
import { KubeApiError } from './api-error.js';
import { listAllPages } from './paged-list.js';
import { hollowInPlace } from './hollow.js';

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
  /**
   * The handlers keep no reference to what they are given (the store parsed it and dropped the
   * wire form): the informer's own cache then keeps only each object's identity (hollowInPlace).
   */
  readonly hollowDelivered?: boolean;
}

/**
 * client-node's ListWatch (what makeInformer builds), kept alive: it relists by itself on 410 and
 * re-watches when the server ends a stream, but stops for good on any other error. Here every
 * error starts a fresh ListWatch after an exponential backoff (0.5 s → 30 s, reset after a run
 * that lasted as long as the cap); its list reconciles the store, so nothing missed is kept.
 * ListWatch is built directly rather than through makeInformer, which takes neither a
 * fieldSelector nor a Watch of our own (WatchTransport bounds every wait).
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
  private current: k8s.ListWatch<k8s.KubernetesObject> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private launchedAt = 0;
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
    this.launch();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.generation++;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const lw = this.current;
    this.current = undefined;
    await lw?.stop();
  }

  /** Lists again now (a fresh view after a partition), then watches from there. */
  relist(): void {
    if (!this.running) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const lw = this.current;
    this.current = undefined;
    void lw?.stop();
    this.launch();
  }

  private launch(): void {
    const generation = ++this.generation;
    const live = () => this.running && generation === this.generation;
    const { client, path, labelSelector, fieldSelector, handlers } = this.options;
    const transform = this.options.transform ?? ((o: JsonObject) => o);
    const keep = (items: readonly JsonObject[]) => items.filter((o) => isRecord(o.metadata) && typeof o.metadata.name === 'string').map(transform);
    const listFn = async (): Promise<k8s.KubernetesListObject<k8s.KubernetesObject>> => {
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
      // ListWatch would open a watch after this list even when stopped meanwhile; failing here stops it
      if (!live()) throw new Error('informer stopped during its list');
      handlers.resync(list.items);
      this.listedAt = Date.now();
      this.markSynced();
      return { metadata: { resourceVersion: list.resourceVersion }, items: list.items } as k8s.KubernetesListObject<k8s.KubernetesObject>;
    };
    const transport = new WatchTransport(client, this.timing.watch, transform);
    const lw = new k8s.ListWatch(path, transport, listFn, false, labelSelector || undefined, fieldSelector || undefined);
    // ListWatch caches each object before it calls these; objects of a list were given to
    // handlers.resync already, and come here again only when new or changed for the cache.
    const delivered = (o: k8s.KubernetesObject) => {
      if (!live()) return;
      handlers.upsert(o as JsonObject);
      if (this.options.hollowDelivered) hollowInPlace(o as JsonObject);
    };
    lw.on(k8s.ADD, delivered);
    lw.on(k8s.UPDATE, delivered);
    lw.on(k8s.DELETE, (o) => live() && handlers.remove(o as JsonObject));
    lw.on(k8s.ERROR, (err) => live() && this.fail(err));
    this.current = lw;
    this.launchedAt = Date.now();
    lw.start().catch((err: unknown) => live() && this.fail(err));
  }

  /** What the informer's cache holds now (tests: whether delivered objects were hollowed). */
  held(): JsonObject[] {
    return (this.current?.list() ?? []) as JsonObject[];
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
    const lw = this.current;
    this.current = undefined;
    this.generation++;
    void lw?.stop();
    if (Date.now() - this.launchedAt >= this.timing.backoffMaxMs) this.backoff.reset();
    const delay = this.backoff.next();
    this.logger.warn({ op: 'watch', informer: this.name, err: errorMessage(err), retryMs: delay }, 'watch failed; restarting');
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.running) this.launch();
    }, delay);
  }
}
