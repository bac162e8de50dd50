/**
 * What became of hostile objects the API server accepted, judged from the stored objects: a
 * policy or gateway must carry current conditions that say whether and why it is (not) served;
 * a slice or tunnel that only the controller may write must have been deleted or rewritten.
 */
import type { Condition } from '../../../lib/api/wire.js';
import type { Lab } from '../../labkit/lab.js';
import type { Hostile } from './hostile-objects.js';

const EGRESS_KINDS = [
  'egresspolicies',
  'egressclusterpolicies',
  'egressfirewalls',
  'egressclusterfirewalls',
  'egressgateways',
  'egressendpointslices',
  'egressclusterendpointslices',
  'egresstunnels',
  'egressclusterinfos',
];
const LIST_TIMEOUT_MS = 60_000;

export interface StoredObject {
  kind: string;
  metadata: { name: string; namespace?: string; generation?: number; labels?: Record<string, string> };
  status?: { conditions?: Condition[] };
  endpoints?: Array<{ ns?: string; pod?: string; ipv4?: string[] }>;
}

/** Every object of our kinds, keyed `Kind/namespace/name`. */
export async function storedEgressObjects(lab: Lab): Promise<Map<string, StoredObject>> {
  const r = await lab.kubectl(['get', EGRESS_KINDS.map((k) => `${k}.egress.sluice.dev`).join(','), '-A', '-o', 'json'], { timeoutMs: LIST_TIMEOUT_MS });
  const items = (JSON.parse(r.stdout) as { items: StoredObject[] }).items;
  return new Map(items.map((o) => [storedKey(o.kind, o.metadata.namespace, o.metadata.name), o]));
}

export const storedKey = (kind: string, namespace: string | undefined, name: string): string => `${kind}/${namespace ?? ''}/${name}`;

export const keyOf = (h: Hostile): string => storedKey(h.object.kind!, h.object.metadata?.namespace, h.object.metadata!.name!);

const describe = (c: Condition | undefined) => (c ? `${c.type}=${c.status} ${c.reason}: ${c.message.slice(0, 160)}` : 'none');

/** Whether the controller has looked at this object's current generation (policies and gateways). */
export function conditionsCurrent(o: StoredObject): boolean {
  const accepted = o.status?.conditions?.find((c) => c.type === 'Accepted');
  return accepted !== undefined && accepted.observedGeneration === o.metadata.generation;
}

/**
 * Why the stored object does not meet its category's verdict, or undefined when it does.
 * `validEndpoints` is the one endpoint list a slice of the valid policy may hold.
 */
export function shortfall(h: Hostile, stored: StoredObject | undefined, validPolicyName: string, validEndpoints: string): string | undefined {
  const kind = h.object.kind!;
  if (h.category.verdict === 'repaired') {
    if (!stored) return undefined;
    if (kind === 'EgressEndpointSlice' && stored.metadata.labels?.['egress.sluice.dev/policy'] === validPolicyName) {
      const held = JSON.stringify((stored.endpoints ?? []).map((e) => `${e.ns}/${e.pod} ${(e.ipv4 ?? []).join(',')}`).sort());
      return held === validEndpoints ? undefined : `still holds ${held}`;
    }
    return 'still stored, unchanged';
  }
  if (!stored) return 'accepted by the API server, then gone';
  const conditions = stored.status?.conditions ?? [];
  const accepted = conditions.find((c) => c.type === 'Accepted');
  const ready = conditions.find((c) => c.type === 'Ready');
  const isPolicy = kind === 'EgressPolicy' || kind === 'EgressClusterPolicy';
  if (kind !== 'EgressGateway' && !isPolicy) return `stored, and a ${kind} has no condition to say what is wrong`;
  if (!accepted) return 'no Accepted condition';
  if (accepted.observedGeneration !== stored.metadata.generation) return `Accepted is for generation ${accepted.observedGeneration}, not ${stored.metadata.generation}`;
  if (isPolicy && !ready) return 'no Ready condition';
  if (h.category.verdict === 'legal') return accepted.status === 'True' ? undefined : `legal, but ${describe(accepted)}`;
  // Accepted and Ready, or a condition of the kind's own (a gateway's PoolsValid): any False one says what is wrong.
  // Not Programmed: it says whether nodes applied the policy, never whether the object is valid.
  const refusal = conditions.find((c) => c.status === 'False' && c.type !== 'Programmed');
  if (!refusal) return `served as if valid: ${describe(accepted)}; ${describe(ready)}`;
  if (!refusal.reason || !refusal.message) return `${refusal.type}=False without a reason or message`;
  return undefined;
}
