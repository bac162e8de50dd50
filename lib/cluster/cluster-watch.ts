import { ResilientInformer, type InformerTiming } from '../kube/informer.js';
import type { KubeClient } from '../kube/rest-client.js';
import type { ClusterStore } from './store.js';
import { resourcePath } from '../kube/resource.js';
import { isOurKind, RESOURCES, watchSourceOf, type StoreKind } from './kinds.js';
import { labelSelectorQuery } from '../kube/selector-query.js';
import { slimObject } from './slim.js';
import { silentLogger, type Logger } from '../kube/logger.js';
import { EgressError } from '../errors.js';
import { DEFAULT_GATEWAY_LABEL, KINDS } from '../api/group.js';

export interface ClusterWatchOptions {
  readonly client: KubeClient;
  readonly store: ClusterStore;
  /**
   * This agent's node: it always watches its own Node. Without one the watch is the controller's
   * cluster-wide view: every Node, Namespace and Pod from the start (a warm standby).
   */
  readonly nodeName?: string;
  readonly timing?: Partial<InformerTiming>;
  readonly logger?: Logger;
}

/** Kinds every agent watches in full (all of ours): small, and what a node's plan is built from. */
const BASE_KINDS: readonly StoreKind[] = KINDS;

/** The agents' watch of the namespaces carrying the default-gateway label. */
const DEFAULT_GATEWAY_NAMESPACES = 'Namespace:default-gateway';

/**
 * Our kinds whose wire form a node agent keeps beside the model: its own EgressTunnel, which it
 * writes (the applied report, the parent interface) and reads back. The controller compares every
 * status and slice it writes against the stored wire form, so the controller and the Lease holder
 * keep it for all of ours; everything else (slices above all) is kept parsed only.
 */
const AGENT_RAW_KINDS: ReadonlySet<StoreKind> = new Set(['EgressTunnel']);

/** Kinds only the Lease holder watches in full (the controller computes slices and status from them). */
const LEADER_KINDS: readonly StoreKind[] = ['Node', 'Namespace', 'Pod'];

interface Watched {
  readonly kind: StoreKind;
  readonly informer: ResilientInformer;
  readonly selectors: { labelSelector?: string; fieldSelector?: string };
  readonly options: { badRequestIsEmpty?: boolean };
  /** The store keeps the wire form of what this informer delivers (otherwise the parsed model only). */
  readonly keepRaw: boolean;
}

/**
 * Decides what the agent watches. Every agent: our CRs, slices, tunnels, its own Node (by
 * fieldSelector), the nodes each EgressGateway selects (one label-selector watch per distinct
 * selector, kept in step with the gateways) and the namespaces labelled with a default gateway. The leader adds all Nodes, Namespaces and Pods
 * while it holds the Lease; non-leaders never list Pods.
 */
export class ClusterWatch {
  private readonly watched = new Map<string, Watched>();
  private readonly syncListeners = new Set<() => void>();
  private readonly logger: Logger;
  private unsubscribe: (() => void) | undefined;
  private started = false;
  private leader = false;

  constructor(private readonly options: ClusterWatchOptions) {
    this.logger = options.logger ?? silentLogger();
  }

  /** True when every running informer has listed at least once. */
  get synced(): boolean {
    return this.started && [...this.watched.values()].every((w) => w.informer.synced);
  }

  get isLeader(): boolean {
    return this.leader;
  }

  /** Names of the running informers (tests check the watch scope). */
  get informerNames(): string[] {
    return [...this.watched.keys()].sort();
  }

  informer(name: string): ResilientInformer | undefined {
    return this.watched.get(name)?.informer;
  }

  /** Called whenever an informer completes its first list (and so `synced` may have turned true). */
  onSynced(listener: () => void): () => void {
    this.syncListeners.add(listener);
    return () => this.syncListeners.delete(listener);
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    for (const kind of BASE_KINDS) this.add(watchSourceOf(kind), kind);
    if (this.options.nodeName === undefined) {
      this.leader = true;
      for (const kind of LEADER_KINDS) this.add(`${kind}:all`, kind);
      return;
    }
    this.add(`Node:self`, 'Node', { fieldSelector: `metadata.name=${this.options.nodeName}` });
    // Only the namespaces that name a default gateway: a policy without one takes it from there.
    this.add(DEFAULT_GATEWAY_NAMESPACES, 'Namespace', { labelSelector: DEFAULT_GATEWAY_LABEL });
    this.unsubscribe = this.options.store.subscribe((change) => {
      if (change.kind === 'EgressGateway') this.syncGatewayNodeWatches();
    });
    this.syncGatewayNodeWatches();
  }

  /** Starts or stops the leader-only informers; stopping drops what they delivered from the store. */
  async setLeader(leader: boolean): Promise<void> {
    if (this.leader === leader || !this.started || this.options.nodeName === undefined) return;
    this.leader = leader;
    if (leader) {
      // The controller needs the wire form of our objects: relist those watched without it.
      for (const [name, w] of [...this.watched]) if (w.keepRaw !== this.keepsRaw(w.kind)) this.restart(name);
      for (const kind of LEADER_KINDS) this.add(`${kind}:all`, kind);
    } else {
      this.options.store.setPodsComplete(false);
      await Promise.all(LEADER_KINDS.map((kind) => this.remove(`${kind}:all`)));
    }
  }

  /** Resolves once `synced`; rejects after timeoutMs or when the signal aborts. */
  waitForSync(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (err?: unknown) => {
        clearTimeout(timer);
        off();
        signal?.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve();
      };
      const onAbort = () => done(signal?.reason ?? new Error('aborted'));
      const timer = setTimeout(() => done(new EgressError('EGW_ERR_KUBE', `informers not synced within ${timeoutMs} ms: ${this.unsynced().join(', ')}`)), timeoutMs);
      const off = this.onSynced(() => this.synced && done());
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Every informer lists again now: what a node that was cut off believes is replaced by what is. */
  relist(): void {
    for (const w of this.watched.values()) w.informer.relist();
  }

  /** Whether every running informer delivered a complete list at or after `since` (Date.now()). */
  listedSince(since: number): boolean {
    return this.started && [...this.watched.values()].every((w) => (w.informer.listedAt ?? -Infinity) >= since);
  }

  unsynced(): string[] {
    return [...this.watched].filter(([, w]) => !w.informer.synced).map(([name]) => name);
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.started = false;
    this.leader = false;
    await Promise.all([...this.watched.keys()].map((name) => this.remove(name, false)));
  }

  private syncGatewayNodeWatches(): void {
    if (!this.started) return;
    const wanted = new Set(this.options.store.values('EgressGateway').map((g) => `Node:gateway:${labelSelectorQuery(g.nodeSelector)}`));
    for (const name of [...this.watched.keys()]) {
      if (name.startsWith('Node:gateway:') && !wanted.has(name)) void this.remove(name);
    }
    // A selector the API server cannot parse selects no node; it must not hold up every other watch.
    for (const name of wanted) {
      if (!this.watched.has(name)) this.add(name, 'Node', { labelSelector: name.slice('Node:gateway:'.length) }, { badRequestIsEmpty: true });
    }
  }

  /** Whether the store keeps the wire form of a kind's objects (see AGENT_RAW_KINDS); never for core kinds. */
  private keepsRaw(kind: StoreKind): boolean {
    return isOurKind(kind) && (this.options.nodeName === undefined || this.leader || AGENT_RAW_KINDS.has(kind));
  }

  /**
   * A new informer in place of a running one, under the same name: the store keeps what the old
   * one delivered until the new one's list replaces it (nothing disappears in between).
   */
  private restart(name: string): void {
    const w = this.watched.get(name);
    if (!w) return;
    this.watched.delete(name);
    void w.informer.stop();
    this.add(name, w.kind, w.selectors, w.options);
  }

  private add(name: string, kind: StoreKind, selectors: { labelSelector?: string; fieldSelector?: string } = {}, options: { badRequestIsEmpty?: boolean } = {}): void {
    if (this.watched.has(name)) return;
    const { client, store } = this.options;
    const keepRaw = this.keepsRaw(kind);
    const informer = new ResilientInformer({
      name,
      client,
      path: resourcePath(RESOURCES[kind]),
      ...selectors,
      ...options,
      handlers: {
        upsert: (o) => void store.upsert(name, kind, o, { keepRaw }),
        remove: (o) => store.remove(name, kind, o),
        resync: (objects) => store.resync(name, kind, objects, { keepRaw }),
      },
      ...(this.options.timing ? { timing: this.options.timing } : {}),
      logger: this.logger,
      transform: (o) => slimObject(kind, o),
      onSynced: () => {
        if (name === 'Pod:all' && this.watched.get(name)?.informer === informer) store.setPodsComplete(true);
        this.logger.debug({ op: 'watch', informer: name }, 'informer synced');
        for (const listener of [...this.syncListeners]) listener();
      },
    });
    this.watched.set(name, { kind, informer, selectors, options, keepRaw });
    informer.start();
  }

  private async remove(name: string, dropFromStore = true): Promise<void> {
    const w = this.watched.get(name);
    if (!w) return;
    this.watched.delete(name);
    await w.informer.stop();
    if (dropFromStore) this.options.store.dropSource(name, w.kind);
    for (const listener of [...this.syncListeners]) listener();
  }
}
