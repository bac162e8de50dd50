/**
 * Reads the API server's change journal as it is committed (server-side time, in this process):
 * which pods each policy's slices hold, each policy's status, and when the last change to either
 * was made. Latency trackers resolve when a pod enters or leaves every slice, or a policy's
 * status is written.
 */
import { CLUSTER_POLICY_LABEL, POLICY_LABEL } from '../../lib/api/group.js';

export interface JournalChange {
  readonly resource: string;
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED' | string;
  readonly object: Record<string, unknown>;
}

const SLICES = 'egressendpointslices.egress.sluice.dev';
const CLUSTER_SLICES = 'egressclusterendpointslices.egress.sluice.dev';
const POLICIES = 'egresspolicies.egress.sluice.dev';
const CLUSTER_POLICIES = 'egressclusterpolicies.egress.sluice.dev';

interface Meta {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
}
const meta = (o: Record<string, unknown>): Meta => (o.metadata ?? {}) as Meta;

export interface PolicyStatus {
  readonly eipV4?: string;
  readonly node?: string;
}

export class Journal {
  /** `ns/pod` → keys of the slices holding it. */
  readonly slicesOfPod = new Map<string, Set<string>>();
  /** slice key → [policy key, `ns/pod`[]]. */
  readonly slices = new Map<string, { policy: string; pods: string[] }>();
  readonly status = new Map<string, PolicyStatus>();
  /** Time of the last change to a slice or a policy status (ms, performance.now()). */
  lastStateChange = 0;
  stateChanges = 0;
  private readonly podWaiters = new Map<string, { since: number; present: boolean; done: (ms: number) => void }>();
  private readonly statusWaiters = new Map<string, { since: number; done: (ms: number) => void }>();

  /** The controller Lease's holder and when it last changed hands. */
  leaseHolder = '';
  leaseTakenAt = 0;

  record(change: JournalChange, now = performance.now()): void {
    if (change.resource === 'leases.coordination.k8s.io') {
      const holder = ((change.object.spec ?? {}) as { holderIdentity?: string }).holderIdentity ?? '';
      if (holder !== this.leaseHolder) {
        this.leaseHolder = holder;
        if (holder) this.leaseTakenAt = now;
      }
      return;
    }
    if (change.resource === SLICES || change.resource === CLUSTER_SLICES) this.slice(change, now);
    else if (change.resource === POLICIES || change.resource === CLUSTER_POLICIES) this.policy(change, now);
  }

  private slice(change: JournalChange, now: number): void {
    const m = meta(change.object);
    const key = `${change.resource === CLUSTER_SLICES ? 'c' : 'n'}/${m.namespace ?? ''}/${m.name}`;
    const old = this.slices.get(key);
    for (const pod of old?.pods ?? []) this.slicesOfPod.get(pod)?.delete(key);
    if (change.type === 'DELETED') this.slices.delete(key);
    else {
      const labels = m.labels ?? {};
      const policy = change.resource === CLUSTER_SLICES ? (labels[CLUSTER_POLICY_LABEL] ?? '') : `${m.namespace}/${labels[POLICY_LABEL] ?? ''}`;
      const endpoints = (change.object.endpoints ?? []) as { ns?: string; pod?: string }[];
      const pods = endpoints.map((e) => `${e.ns}/${e.pod}`);
      this.slices.set(key, { policy, pods });
      for (const pod of pods) {
        let set = this.slicesOfPod.get(pod);
        if (!set) this.slicesOfPod.set(pod, (set = new Set()));
        set.add(key);
      }
    }
    this.lastStateChange = now;
    this.stateChanges++;
    for (const [pod, w] of this.podWaiters) {
      if ((this.slicesOfPod.get(pod)?.size ?? 0) > 0 === w.present) {
        this.podWaiters.delete(pod);
        w.done(now - w.since);
      }
    }
  }

  private policy(change: JournalChange, now: number): void {
    const m = meta(change.object);
    const key = change.resource === CLUSTER_POLICIES ? `${m.name}` : `${m.namespace}/${m.name}`;
    if (change.type === 'DELETED') {
      this.status.delete(key);
      return;
    }
    const s = (change.object.status ?? {}) as { eip?: { ipv4?: string }; node?: string };
    const next: PolicyStatus = { ...(s.eip?.ipv4 ? { eipV4: s.eip.ipv4 } : {}), ...(s.node ? { node: s.node } : {}) };
    const before = this.status.get(key);
    this.status.set(key, next);
    if (before?.eipV4 !== next.eipV4 || before?.node !== next.node) {
      this.lastStateChange = now;
      this.stateChanges++;
      const w = this.statusWaiters.get(key);
      if (w && next.node) {
        this.statusWaiters.delete(key);
        w.done(now - w.since);
      }
    }
  }

  /** Resolves with the ms until `ns/pod` is in some slice (present) or in none (absent). */
  awaitPod(pod: string, present: boolean, since: number, done: (ms: number) => void): void {
    if ((this.slicesOfPod.get(pod)?.size ?? 0) > 0 === present) done(0);
    else this.podWaiters.set(pod, { since, present, done });
  }

  /** Resolves with the ms until the policy's status names a node (or a different one than `from`). */
  awaitStatus(policy: string, since: number, done: (ms: number) => void): void {
    this.statusWaiters.set(policy, { since, done });
  }

  pendingPods(): number {
    return this.podWaiters.size;
  }

  /** Pods per policy key, from the slices. */
  podsByPolicy(): Map<string, Set<string>> {
    const out = new Map<string, Set<string>>();
    for (const { policy, pods } of this.slices.values()) {
      let set = out.get(policy);
      if (!set) out.set(policy, (set = new Set()));
      for (const p of pods) set.add(p);
    }
    return out;
  }
}

/** Percentile of a sample (nearest rank), or NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
