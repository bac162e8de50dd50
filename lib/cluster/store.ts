import { createHash } from 'node:crypto';
import type { ClusterInfo, EndpointSlice, Firewall, Gateway, NamespaceInfo, NodeInfo, PodInfo, Policy, Tunnel } from '../api/model.js';
import type { Problem } from '../api/problems.js';
import { problemText } from '../api/problems.js';
import { parseDocument } from '../api/parse-document.js';
import { isRecord } from '../api/fields.js';
import { CLUSTER_INFO_NAME } from '../api/group.js';
import type { AgentConfig } from '../planner/config.js';
import type { Snapshot } from '../planner/snapshot.js';
import { withDefaultGateways } from '../planner/default-gateway.js';
import { errorMessage } from '../errors.js';
import { objectKey } from '../kube/resource.js';
import { isOurKind, RESOURCES, type StoreKind } from './kinds.js';
import { SharedEndpoints } from './shared-endpoints.js';
import type { JsonObject } from '../kube/rest-client.js';
import { silentLogger, type Logger } from '../kube/logger.js';

/** The model type each kind parses into. */
export interface KindModel {
  Node: NodeInfo;
  Namespace: NamespaceInfo;
  Pod: PodInfo;
  EgressGateway: Gateway;
  EgressPolicy: Policy;
  EgressClusterPolicy: Policy;
  EgressFirewall: Firewall;
  EgressClusterFirewall: Firewall;
  EgressEndpointSlice: EndpointSlice;
  EgressClusterEndpointSlice: EndpointSlice;
  EgressTunnel: Tunnel;
  EgressClusterInfo: ClusterInfo;
}

/** One object as the store holds it. Read-only: writers clone `raw` before changing it. */
export interface StoredObject<K extends StoreKind = StoreKind> {
  readonly kind: K;
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly resourceVersion: string;
  /**
   * Wire form; kept for our kinds only (status writers compare against it), never for Pods, and
   * only where it was asked for (upsert's keepRaw: a node agent keeps it for EgressTunnels alone).
   */
  readonly raw?: JsonObject;
  /** Undefined when the parser rejected the object; `problems` says why. */
  readonly value?: KindModel[K];
  readonly problems: readonly Problem[];
  /** Controller-written fields that did not validate and were left out of `value`. */
  readonly ignored: readonly Problem[];
}

/** Which EgressClusterInfo the snapshot carries (see ClusterStore.clusterInfoInUse). */
export interface ClusterInfoInUse {
  /** current: the stored object; last-good: the stored one is invalid, an earlier one is used; none: nothing usable. */
  readonly state: 'current' | 'last-good' | 'none';
  /** resourceVersion of the object in use. */
  readonly resourceVersion?: string;
  /** What is wrong with the stored object when it is not the one in use. */
  readonly problems: readonly Problem[];
}

interface Entry extends StoredObject {
  /** Informers currently delivering this object; it leaves the store when none is left. */
  readonly sources: Set<string>;
  /** What a change is judged by: the model for core kinds, the wire form for ours (a digest of its JSON). */
  readonly fingerprint: string;
  /** The status field no plan reads, judged apart (see REPORT_FIELDS). */
  readonly reportFingerprint?: string;
}

export interface StoreChange {
  readonly kind: StoreKind;
  readonly key: string;
  /**
   * `report`: only a status field that no plan reads changed (REPORT_FIELDS): a policy's
   * conditions, or an EgressTunnel's applied report. The controller acts on it (it owns the
   * conditions and reads the reports); agents need not re-plan for it.
   */
  readonly type: 'upsert' | 'remove' | 'pods' | 'report';
}
export type StoreListener = (change: StoreChange) => void;

/** resourceVersions are opaque, but etcd's are integers; only then is one known to be older. */
function isOlder(candidate: string, stored: string): boolean {
  return /^\d+$/.test(candidate) && /^\d+$/.test(stored) && BigInt(candidate) < BigInt(stored);
}

const VOLATILE_META = new Set(['resourceVersion', 'managedFields', 'generation']);

/**
 * Status fields that sluice writes to report, and that no node plan reads (the parsers leave them
 * out of the model): each node's applied report, and the conditions the controller writes after
 * every apply it hears of. A change to them alone is a `report` change.
 */
const REPORT_FIELDS: Partial<Record<StoreKind, string>> = { EgressTunnel: 'applied', EgressPolicy: 'conditions', EgressClusterPolicy: 'conditions' };

/** Only ever compared for equality: a digest keeps no second copy of every object as JSON text. */
function digest(json: string): string {
  return createHash('sha256').update(json).digest('base64');
}

function fingerprintOf(kind: StoreKind, raw: JsonObject, value: unknown, problems: readonly Problem[]): string {
  return digest(fingerprintJson(kind, raw, value, problems));
}

function fingerprintJson(kind: StoreKind, raw: JsonObject, value: unknown, problems: readonly Problem[]): string {
  if (!isOurKind(kind)) return JSON.stringify([value ?? null, problems]);
  const meta = isRecord(raw.metadata) ? Object.fromEntries(Object.entries(raw.metadata).filter(([k]) => !VOLATILE_META.has(k))) : {};
  const field = REPORT_FIELDS[kind];
  if (field && isRecord(raw.status) && field in raw.status) {
    const { [field]: _, ...status } = raw.status;
    return JSON.stringify({ ...raw, metadata: meta, status });
  }
  return JSON.stringify({ ...raw, metadata: meta });
}

const isSliceKind = (kind: StoreKind) => kind === 'EgressEndpointSlice' || kind === 'EgressClusterEndpointSlice';

function reportFingerprintOf(kind: StoreKind, raw: JsonObject): string | undefined {
  const field = REPORT_FIELDS[kind];
  return field && isRecord(raw.status) ? digest(JSON.stringify(raw.status[field] ?? null)) : undefined;
}

/**
 * The agent's view of the cluster: every watched object parsed once (lib/api) into the frozen
 * model, per kind and key. Informer handlers only call upsert/remove/resync; listeners hear of
 * real changes (a new resourceVersion with the same content is silent) and a Snapshot is built
 * on demand, cached until the next change.
 */
export class ClusterStore {
  private readonly kinds = new Map<StoreKind, Map<string, Entry>>();
  private readonly listeners = new Set<StoreListener>();
  private version = 0;
  private cache: { version: number; config: AgentConfig; snapshot: Snapshot } | undefined;
  private podsComplete = false;
  /** The version at which each kind last changed, and each kind's values as of then (see unchangedValues). */
  private readonly kindChangedAt = new Map<StoreKind, number>();
  private readonly valuesAt = new Map<StoreKind, { version: number; values: readonly unknown[] }>();
  private readonly logger: Logger;
  /** The last EgressClusterInfo that parsed with nothing wrong, kept while a later one is invalid. */
  private lastGoodClusterInfo: { value: ClusterInfo; resourceVersion: string } | undefined;
  /** Every stored slice's endpoints, one object per pod that slices list alike. */
  private readonly sharedEndpoints = new SharedEndpoints();

  constructor(options: { logger?: Logger } = {}) {
    this.logger = options.logger ?? silentLogger();
    for (const kind of Object.keys(RESOURCES) as StoreKind[]) this.kinds.set(kind, new Map());
  }

  /** Increases on every change listeners hear of. */
  get generation(): number {
    return this.version;
  }

  subscribe(listener: StoreListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Adds or replaces an object delivered by `source`. `ifNewer` (used when a writer feeds back
   * the server's answer before the watch delivers it) keeps a stored object whose numeric
   * resourceVersion is already higher. `keepRaw` (default: for our kinds) keeps the wire form
   * beside the model; without it the store holds no reference to `object`. An object stored
   * without it is stored again when it is delivered with it, even at the same resourceVersion.
   */
  upsert(source: string, kind: StoreKind, object: JsonObject, options: { ifNewer?: boolean; keepRaw?: boolean } = {}): string | undefined {
    const keepRaw = isOurKind(kind) && (options.keepRaw ?? true);
    const meta = isRecord(object.metadata) ? object.metadata : undefined;
    const name = typeof meta?.name === 'string' ? meta.name : '';
    if (!meta || !name) return undefined;
    const resource = RESOURCES[kind];
    const namespace = resource.namespaced && typeof meta.namespace === 'string' ? meta.namespace : '';
    const key = objectKey(namespace, name);
    const map = this.kinds.get(kind)!;
    const existing = map.get(key);
    const resourceVersion = typeof meta.resourceVersion === 'string' ? meta.resourceVersion : '';
    if (existing && resourceVersion && existing.resourceVersion === resourceVersion && (existing.raw !== undefined || !keepRaw)) {
      existing.sources.add(source);
      return key;
    }
    if (options.ifNewer && existing && isOlder(resourceVersion, existing.resourceVersion)) return key;
    const raw: JsonObject = object.kind && object.apiVersion ? object : { ...object, kind: resource.kind, apiVersion: resource.apiVersion };
    let value: unknown;
    let problems: readonly Problem[];
    let ignored: readonly Problem[] = [];
    try {
      const parsed = parseDocument(raw);
      value = parsed.object?.value;
      problems = parsed.problems;
      ignored = parsed.ignored ?? [];
    } catch (err) {
      problems = [{ reason: 'InvalidValue', path: '', message: `could not be parsed: ${errorMessage(err)}` }];
    }
    if (value !== undefined && isSliceKind(kind)) value = this.sharedEndpoints.adopt(value as EndpointSlice);
    const fingerprint = fingerprintOf(kind, raw, value, problems);
    const reportFingerprint = reportFingerprintOf(kind, raw);
    const entry: Entry = {
      kind,
      key,
      namespace,
      name,
      uid: typeof meta.uid === 'string' ? meta.uid : '',
      resourceVersion,
      ...(keepRaw ? { raw } : {}),
      ...(value !== undefined ? { value: value as KindModel[StoreKind] } : {}),
      problems,
      ignored,
      sources: new Set([...(existing?.sources ?? []), source]),
      fingerprint,
      ...(reportFingerprint !== undefined ? { reportFingerprint } : {}),
    };
    map.set(key, entry);
    this.releaseSlice(existing);
    if (kind === 'EgressClusterInfo' && key === CLUSTER_INFO_NAME && value !== undefined && ignored.length === 0) {
      this.lastGoodClusterInfo = { value: value as ClusterInfo, resourceVersion };
    }
    if (existing?.fingerprint === fingerprint) {
      if ((existing.reportFingerprint ?? 'null') !== (reportFingerprint ?? 'null')) this.changed({ kind, key, type: 'report' });
      return key;
    }
    if (problems.length > 0) {
      this.logger.warn({ op: 'parse', kind, name: key, problems: problems.map(problemText) }, 'object skipped: it does not satisfy the egress API');
    } else if (ignored.length > 0) {
      this.logger.warn(
        { op: 'parse', kind, name: key, ignored: ignored.map(problemText) },
        'fields ignored: they do not satisfy the egress API (written by a controller or another node)',
      );
    }
    if (kind === 'EgressClusterInfo' && key === CLUSTER_INFO_NAME && (problems.length > 0 || ignored.length > 0) && this.lastGoodClusterInfo) {
      this.logger.warn(
        { op: 'parse', kind, name: key, resourceVersion: this.lastGoodClusterInfo.resourceVersion },
        'planning with the last valid EgressClusterInfo until this one is fixed',
      );
    }
    this.changed({ kind, key, type: 'upsert' });
    return key;
  }

  remove(source: string, kind: StoreKind, object: JsonObject): void {
    const meta = isRecord(object.metadata) ? object.metadata : {};
    const namespace = RESOURCES[kind].namespaced && typeof meta.namespace === 'string' ? meta.namespace : '';
    this.removeSource(kind, objectKey(namespace, typeof meta.name === 'string' ? meta.name : ''), source);
  }

  /** A full list from one source: what it held before and no longer lists is removed. */
  resync(source: string, kind: StoreKind, objects: readonly JsonObject[], options: { keepRaw?: boolean } = {}): void {
    const keep = new Set<string>();
    for (const o of objects) {
      const key = this.upsert(source, kind, o, options);
      if (key !== undefined) keep.add(key);
    }
    for (const entry of [...this.kinds.get(kind)!.values()]) {
      if (entry.sources.has(source) && !keep.has(entry.key)) this.removeSource(kind, entry.key, source);
    }
  }

  /** Forgets everything one source delivered (its informer was stopped). */
  dropSource(source: string, kind: StoreKind): void {
    for (const entry of [...this.kinds.get(kind)!.values()]) {
      if (entry.sources.has(source)) this.removeSource(kind, entry.key, source);
    }
  }

  /** Whether the snapshot lists Pods: only while a synced all-pods informer feeds the store (leader). */
  setPodsComplete(complete: boolean): void {
    if (this.podsComplete === complete) return;
    this.podsComplete = complete;
    this.changed({ kind: 'Pod', key: '', type: 'pods' });
  }

  get hasAllPods(): boolean {
    return this.podsComplete;
  }

  get<K extends StoreKind>(kind: K, key: string): StoredObject<K> | undefined {
    return this.kinds.get(kind)!.get(key) as StoredObject<K> | undefined;
  }

  /** Every stored object of a kind, valid or not, sorted by key. */
  list<K extends StoreKind>(kind: K): StoredObject<K>[] {
    return [...this.kinds.get(kind)!.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)) as unknown as StoredObject<K>[];
  }

  /** Parsed models of a kind, sorted by key; rejected objects are left out. */
  values<K extends StoreKind>(kind: K): KindModel[K][] {
    return this.list(kind).flatMap((e) => (e.value !== undefined ? [e.value] : []));
  }

  /**
   * values(kind), the same array as long as no object of the kind changed: a snapshot taken
   * after a slice write would otherwise list and sort 100k pods again, and indexes and memos
   * kept per array (podsOf, the slices' reconciler) hold across snapshots.
   */
  private unchangedValues<K extends StoreKind>(kind: K): readonly KindModel[K][] {
    const changedAt = this.kindChangedAt.get(kind) ?? 0;
    const cached = this.valuesAt.get(kind);
    if (cached && cached.version === changedAt) return cached.values as readonly KindModel[K][];
    const values = this.values(kind);
    this.valuesAt.set(kind, { version: changedAt, values });
    return values;
  }

  /** Objects the parser rejected, with their problems (for conditions and logs). */
  rejected<K extends StoreKind>(kind: K): StoredObject<K>[] {
    return this.list(kind).filter((e) => e.value === undefined);
  }

  /**
   * The EgressClusterInfo plans use. An invalid one (rejected, or with status fields ignored) never
   * replaces a valid one: dropping it would take the other nodes' pod CIDRs out of the cluster set
   * and SNAT in-cluster traffic of selected pods. Without an earlier valid one, a partly valid
   * object is used as far as it validates.
   */
  clusterInfoInUse(): ClusterInfoInUse & { readonly value?: ClusterInfo } {
    const stored = this.get('EgressClusterInfo', CLUSTER_INFO_NAME);
    const wrong = stored ? [...stored.problems, ...stored.ignored] : [];
    if (stored?.value && wrong.length === 0) return { state: 'current', resourceVersion: stored.resourceVersion, problems: [], value: stored.value };
    const last = this.lastGoodClusterInfo;
    if (last) return { state: 'last-good', resourceVersion: last.resourceVersion, problems: wrong, value: last.value };
    if (stored?.value) return { state: 'current', resourceVersion: stored.resourceVersion, problems: wrong, value: stored.value };
    return { state: 'none', problems: wrong };
  }

  /** Objects the parser rejected, and objects with ignored fields, per kind (for metrics). */
  inputProblems(): { kind: StoreKind; rejected: number; ignoredFields: number }[] {
    return [...this.kinds.entries()].map(([kind, map]) => {
      const entries = [...map.values()];
      return { kind, rejected: entries.filter((e) => e.value === undefined).length, ignoredFields: entries.filter((e) => e.ignored.length > 0).length };
    });
  }

  /** What the planner needs, built from the store; pods only while hasAllPods. */
  snapshot(config: AgentConfig): Snapshot {
    if (this.cache && this.cache.version === this.version && this.cache.config === config) return this.cache.snapshot;
    const clusterInfo = this.clusterInfoInUse().value;
    const namespaces = this.unchangedValues('Namespace');
    const gateways = this.unchangedValues('EgressGateway');
    const slices = [...this.values('EgressEndpointSlice'), ...this.values('EgressClusterEndpointSlice')];
    const snapshot: Snapshot = {
      nodes: this.unchangedValues('Node'),
      namespaces,
      ...(this.podsComplete ? { pods: this.unchangedValues('Pod') } : {}),
      gateways,
      policies: withDefaultGateways([...this.values('EgressPolicy'), ...this.values('EgressClusterPolicy')], gateways, namespaces),
      firewalls: [...this.values('EgressFirewall'), ...this.values('EgressClusterFirewall')],
      slices: slices.filter((s) => s.firewallKey === undefined),
      firewallSlices: slices.filter((s) => s.firewallKey !== undefined),
      tunnels: this.unchangedValues('EgressTunnel'),
      ...(clusterInfo ? { clusterInfo } : {}),
      config,
    };
    this.cache = { version: this.version, config, snapshot };
    return snapshot;
  }

  private removeSource(kind: StoreKind, key: string, source: string): void {
    const map = this.kinds.get(kind)!;
    const entry = map.get(key);
    if (!entry || !entry.sources.delete(source) || entry.sources.size > 0) return;
    map.delete(key);
    this.releaseSlice(entry);
    this.changed({ kind, key, type: 'remove' });
  }

  private releaseSlice(entry: Entry | undefined): void {
    if (entry?.value !== undefined && isSliceKind(entry.kind)) this.sharedEndpoints.release(entry.value as EndpointSlice);
  }

  private changed(change: StoreChange): void {
    this.version++;
    this.kindChangedAt.set(change.kind, this.version);
    for (const listener of [...this.listeners]) {
      try {
        listener(change);
      } catch (err) {
        this.logger.error({ op: 'store', err: errorMessage(err) }, 'store listener threw');
      }
    }
  }
}
