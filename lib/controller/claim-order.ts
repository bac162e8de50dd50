/**
 * The order in which the controller saw reports and status change, counted in store generations.
 * Applied reports carry no time (a timestamp would make every apply a write), so whether a node's
 * claim to carry a policy is newer than the status it contests, or older than its holder's last
 * word, can only be known by watching the changes arrive. The store hears them in the order the
 * API server sent them, also while this process does not hold the Lease.
 */
import { appliedReportOf } from '../cluster/applied-report.js';
import type { ClusterStore, StoreChange } from '../cluster/store.js';
import { sameContent } from '../kube/normalize.js';
import type { ReportLookup } from './policy-programmed.js';

/** A node's report says it applied a policy for itself: it carries the policy now. */
export interface SelfClaim {
  readonly node: string;
  readonly policyKey: string;
  /** The store generation since which the node's report has said so without a break. */
  readonly since: number;
}

/** What claims are judged by (see judgeTakeovers). */
export interface ClaimFacts {
  selfClaims(): Iterable<SelfClaim>;
  /** The generation at which the node's report last changed (undefined: no report seen). */
  reportChangedAt(node: string): number | undefined;
  /** The generation since which the policy's status.node has named its current value. */
  holderSince(policyKey: string): number | undefined;
}

const POLICY_KINDS: ReadonlySet<string> = new Set(['EgressPolicy', 'EgressClusterPolicy']);

export class ClaimOrder implements ClaimFacts {
  private readonly reports = new Map<string, { raw: unknown; at: number }>();
  private readonly claims = new Map<string, Map<string, number>>();
  /** Policy key (= its store key, see policyKey) → its status.node, with the generation it took that value. */
  private readonly holders = new Map<string, { node: string | undefined; at: number }>();

  /** `lookup` parses a node's report (reportLookup: once per stored version). */
  constructor(
    private readonly store: ClusterStore,
    private readonly lookup: ReportLookup,
  ) {
    for (const t of store.list('EgressTunnel')) this.seeTunnel(t.key);
    for (const kind of POLICY_KINDS) for (const p of store.list(kind as 'EgressPolicy')) this.seePolicy(kind as 'EgressPolicy', p.key);
    // as long as the store lives (the controller's own lifetime)
    store.subscribe((change) => this.see(change));
  }

  *selfClaims(): Iterable<SelfClaim> {
    for (const [node, byPolicy] of this.claims) for (const [policyKey, since] of byPolicy) yield { node, policyKey, since };
  }

  reportChangedAt(node: string): number | undefined {
    return this.reports.get(node)?.at;
  }

  holderSince(policyKey: string): number | undefined {
    return this.holders.get(policyKey)?.at;
  }

  private see(change: StoreChange): void {
    if (change.kind === 'EgressTunnel') this.seeTunnel(change.key);
    else if (POLICY_KINDS.has(change.kind)) this.seePolicy(change.kind as 'EgressPolicy', change.key);
  }

  private seeTunnel(node: string): void {
    const raw = appliedReportOf(this.store.get('EgressTunnel', node)?.raw);
    const at = this.store.generation;
    if (raw === undefined || raw === null) {
      this.reports.delete(node);
      this.claims.delete(node);
      return;
    }
    const before = this.reports.get(node);
    if (before && (before.raw === raw || sameContent(before.raw, raw))) return;
    this.reports.set(node, { raw, at });
    const previous = this.claims.get(node) ?? new Map<string, number>();
    const now = new Map<string, number>();
    for (const entry of this.lookup(node).report?.policies.values() ?? []) {
      if (entry.node === node) now.set(entry.key, previous.get(entry.key) ?? at);
    }
    if (now.size) this.claims.set(node, now);
    else this.claims.delete(node);
  }

  private seePolicy(kind: 'EgressPolicy', key: string): void {
    const stored = this.store.get(kind, key);
    if (!stored) return void this.holders.delete(key);
    const node = stored.value?.status.node;
    const before = this.holders.get(key);
    if (before && before.node === node) return;
    this.holders.set(key, { node, at: this.store.generation });
  }
}
