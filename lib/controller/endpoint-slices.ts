import type { Endpoint, EndpointSlice, Firewall, NamespaceInfo, PodInfo, Policy } from '../api/model.js';
import type { EndpointWire } from '../api/wire.js';
import { API_VERSION, CLUSTER_FIREWALL_LABEL, CLUSTER_POLICY_LABEL, FIREWALL_LABEL, POLICY_LABEL } from '../api/group.js';
import { isRecord } from '../api/fields.js';
import { problemText } from '../api/problems.js';
import { selectEndpoints, selectFirewallEndpoints } from '../planner/endpoints.js';
import type { Snapshot } from '../planner/snapshot.js';
import { sameContent } from '../kube/normalize.js';
import { objectKey } from '../kube/resource.js';
import type { JsonObject } from '../kube/rest-client.js';
import { forEachItem, PassReport, type ControllerContext } from './context.js';
import { layoutSlices, type SliceContent } from './slice-layout.js';
import { sliceNamer } from './slice-names.js';

type SliceKind = 'EgressEndpointSlice' | 'EgressClusterEndpointSlice';

/** What owns a set of slices: a policy or a firewall. */
type Owner = Pick<Policy | Firewall, 'kind' | 'name' | 'namespace' | 'uid' | 'key'>;

interface Family {
  readonly policyKind: Owner['kind'];
  readonly sliceKind: SliceKind;
  readonly label: string;
  readonly owners: (snapshot: Snapshot) => readonly Owner[];
  readonly select: (owner: Owner, pods: readonly PodInfo[], namespaces: readonly NamespaceInfo[]) => Endpoint[];
  /** The owner key of a slice of this family, or undefined when the slice belongs to the other family of its kind. */
  readonly keyOf: (slice: EndpointSlice) => string | undefined;
}

const policies = (kind: Policy['kind']) => (snapshot: Snapshot) => snapshot.policies.filter((p) => p.kind === kind);
const firewalls = (kind: Firewall['kind']) => (snapshot: Snapshot) => (snapshot.firewalls ?? []).filter((f) => f.kind === kind);
const selectForPolicy = (owner: Owner, pods: readonly PodInfo[], namespaces: readonly NamespaceInfo[]) => selectEndpoints(owner as Policy, pods, namespaces);
const selectForFirewall = (owner: Owner, pods: readonly PodInfo[], namespaces: readonly NamespaceInfo[]) => selectFirewallEndpoints(owner as Firewall, pods, namespaces);
const policyKeyOf = (s: EndpointSlice) => (s.firewallKey === undefined ? s.policyKey : undefined);
const firewallKeyOf = (s: EndpointSlice) => s.firewallKey;

const FAMILIES: readonly Family[] = [
  { policyKind: 'EgressPolicy', sliceKind: 'EgressEndpointSlice', label: POLICY_LABEL, owners: policies('EgressPolicy'), select: selectForPolicy, keyOf: policyKeyOf },
  {
    policyKind: 'EgressClusterPolicy',
    sliceKind: 'EgressClusterEndpointSlice',
    label: CLUSTER_POLICY_LABEL,
    owners: policies('EgressClusterPolicy'),
    select: selectForPolicy,
    keyOf: policyKeyOf,
  },
  { policyKind: 'EgressFirewall', sliceKind: 'EgressEndpointSlice', label: FIREWALL_LABEL, owners: firewalls('EgressFirewall'), select: selectForFirewall, keyOf: firewallKeyOf },
  {
    policyKind: 'EgressClusterFirewall',
    sliceKind: 'EgressClusterEndpointSlice',
    label: CLUSTER_FIREWALL_LABEL,
    owners: firewalls('EgressClusterFirewall'),
    select: selectForFirewall,
    keyOf: firewallKeyOf,
  },
];
const namespacedOwner = (kind: Owner['kind']) => kind === 'EgressPolicy' || kind === 'EgressFirewall';

function endpointWire(e: Endpoint): EndpointWire {
  return { ns: e.namespace, pod: e.pod, node: e.node, ...(e.ipv4.length ? { ipv4: [...e.ipv4] } : {}), ...(e.ipv6.length ? { ipv6: [...e.ipv6] } : {}) };
}

/** The parts of a slice the controller owns: its policy label, owner reference and endpoints. */
function owned(policy: Owner, family: Family, endpoints: readonly Endpoint[]) {
  return {
    label: policy.name,
    ownerReferences: [{ apiVersion: API_VERSION, kind: policy.kind, name: policy.name, uid: policy.uid, controller: true, blockOwnerDeletion: true }],
    endpoints: endpoints.map(endpointWire),
    family,
  };
}

function sliceBody(policy: Owner, family: Family, name: string, endpoints: readonly Endpoint[], current?: JsonObject): JsonObject {
  const o = owned(policy, family, endpoints);
  const meta = current && isRecord(current.metadata) ? current.metadata : {};
  const labels = isRecord(meta.labels) ? meta.labels : {};
  return {
    ...(current ?? {}),
    metadata: {
      ...meta,
      name,
      ...(namespacedOwner(policy.kind) ? { namespace: policy.namespace } : {}),
      labels: { ...labels, [family.label]: o.label },
      ownerReferences: o.ownerReferences,
    },
    endpoints: o.endpoints,
  };
}

function ownedPartsOf(raw: JsonObject, family: Family) {
  const meta = isRecord(raw.metadata) ? raw.metadata : {};
  const labels = isRecord(meta.labels) ? meta.labels : {};
  return { label: labels[family.label], ownerReferences: meta.ownerReferences, endpoints: raw.endpoints };
}

/** What a policy's slices were found in sync with: its stored object, the pods and namespaces (arrays the store keeps while unchanged) and its stored slices. */
interface InSync {
  readonly owner: unknown;
  readonly pods: readonly PodInfo[];
  readonly namespaces: readonly NamespaceInfo[];
  readonly slices: readonly unknown[];
}

/**
 * Per store, the owners whose slices a pass found nothing to write for, by family label and
 * owner key. A pass whose inputs are the same objects skips them: computing the selection is
 * the pass's main cost (a cluster policy walks every pod), and a restart runs one pass after
 * another while its own writes come back.
 */
const inSync = new WeakMap<object, Map<string, InSync>>();

const sameItems = (a: readonly unknown[], b: readonly unknown[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Keeps one set of EgressEndpointSlices (EgressClusterEndpointSlices for cluster policies) per
 * policy equal to `selectEndpoints`, at most 100 endpoints each (none while it selects no pod),
 * writing only the slices whose content changes; slices of policies that are gone (or rejected),
 * and slices that do not parse, are deleted.
 */
export async function reconcileEndpointSlices(ctx: ControllerContext): Promise<PassReport> {
  const report = new PassReport();
  const { snapshot, store, writer, signal } = ctx;
  const pods = snapshot.pods;
  if (!pods) return report;
  const deletedUnreadable = new Set<SliceKind>();
  let verified = inSync.get(store);
  if (!verified) inSync.set(store, (verified = new Map<string, InSync>()));
  for (const family of FAMILIES) {
    const all = store.list(family.sliceKind);
    const stored = all.filter((s) => s.value && family.keyOf(s.value) !== undefined);
    // Only the controller writes slices: one that does not parse was forged or corrupted, and no agent reads it.
    const unreadable = deletedUnreadable.has(family.sliceKind) ? [] : all.filter((s) => !s.value);
    deletedUnreadable.add(family.sliceKind);
    await forEachItem(
      ctx,
      report,
      'slices',
      unreadable,
      (s) => `${family.sliceKind} ${s.key}`,
      async (s) => {
        ctx.logger.warn({ op: 'slices', kind: family.sliceKind, name: s.key, problems: s.problems.map(problemText) }, 'slice does not parse; deleting it');
        report.count(await writer.delete(family.sliceKind, s.key, signal));
      },
    );
    const byPolicy = new Map<string, typeof stored>();
    for (const s of stored) {
      const key = family.keyOf(s.value!)!;
      byPolicy.set(key, [...(byPolicy.get(key) ?? []), s]);
    }
    // slice keys in use (namespace/name, or name for cluster slices), and the names by namespace: asked once per policy
    const taken = new Set<string>();
    const takenInNamespace = new Map<string, Set<string>>();
    const markTaken = (k: string) => {
      taken.add(k);
      const slash = k.indexOf('/');
      if (slash < 0) return;
      const namespace = k.slice(0, slash);
      let names = takenInNamespace.get(namespace);
      if (!names) takenInNamespace.set(namespace, (names = new Set()));
      names.add(k.slice(slash + 1));
    };
    for (const s of all) markTaken(s.key);
    const policies = family.owners(snapshot);
    const live = new Set(policies.map((p) => p.key));

    await forEachItem(
      ctx,
      report,
      'slices',
      policies,
      (p) => `${p.kind} ${p.key}`,
      async (policy) => {
        const mine = byPolicy.get(policy.key) ?? [];
        const memoKey = `${family.label} ${policy.key}`;
        const inputs: InSync = { owner: store.get(family.policyKind, policy.key) ?? policy, pods, namespaces: snapshot.namespaces, slices: mine };
        const last = verified.get(memoKey);
        if (last && last.owner === inputs.owner && last.pods === pods && last.namespaces === inputs.namespaces && sameItems(last.slices, mine)) return;
        verified.delete(memoKey);
        const desired = family.select(policy, pods, snapshot.namespaces);
        const existing: SliceContent[] = mine.map((s) => ({ name: s.name, endpoints: s.value!.endpoints }));
        // a copy: the namer reserves names in it, and only the slices to create count as taken for the other policies
        const namesTaken = namespacedOwner(family.policyKind) ? new Set(takenInNamespace.get(policy.namespace)) : taken;
        const layout = layoutSlices(desired, existing, sliceNamer(policy.name, policy.uid || policy.key, namesTaken));
        const key = (name: string) => objectKey(namespacedOwner(family.policyKind) ? policy.namespace : '', name);
        // taken before the first await: the policies in flight beside this one name their slices meanwhile
        for (const s of layout.create) markTaken(key(s.name));
        for (const s of layout.create) report.count(await writer.create(family.sliceKind, sliceBody(policy, family, s.name, s.endpoints), signal));
        const updates = new Map(layout.update.map((s) => [s.name, s]));
        let wrote = layout.create.length + layout.remove.length > 0;
        for (const s of mine) {
          if (layout.remove.includes(s.name)) continue;
          const content = updates.get(s.name)?.endpoints ?? s.value!.endpoints;
          const result = report.count(
            await writer.update(
              family.sliceKind,
              s.key,
              (current) => {
                const want = owned(policy, family, content);
                const have = ownedPartsOf(current, family);
                if (sameContent({ label: want.label, ownerReferences: want.ownerReferences, endpoints: want.endpoints }, have)) return undefined;
                return sliceBody(policy, family, s.name, content, current);
              },
              signal,
            ),
          );
          if (result.outcome !== 'unchanged') wrote = true;
        }
        for (const name of layout.remove) report.count(await writer.delete(family.sliceKind, key(name), signal));
        // after writes, the next pass checks again against what they stored
        if (!wrote) verified.set(memoKey, inputs);
      },
    );
    for (const memoKey of verified.keys()) {
      if (memoKey.startsWith(`${family.label} `) && !live.has(memoKey.slice(family.label.length + 1))) verified.delete(memoKey);
    }

    const orphans = stored.filter((s) => !live.has(family.keyOf(s.value!)!));
    await forEachItem(
      ctx,
      report,
      'slices',
      orphans,
      (s) => `${family.sliceKind} ${s.key}`,
      async (s) => {
        report.count(await writer.delete(family.sliceKind, s.key, signal));
      },
    );
  }
  return report;
}
