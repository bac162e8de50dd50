import type { Endpoint, EndpointSlice, Policy } from '../api/model.js';
import { formatInterval, parseCidr, parseIpSpec, type IpInterval } from '../api/ip.js';
import { exactList } from '../api/exact-list.js';
import { AddressRanges } from './address-ranges.js';
import { ipv4Value } from './fast-ip.js';
import type { ClusterInForce } from './cluster-cidrs.js';
import type { Snapshot } from './snapshot.js';
import type { NodeDirectoryEntry } from './resolve.js';

/** How many dropped addresses one notice names, and how many slices get a notice of their own. */
const SHOWN_PER_SLICE = 3;
const SLICES_NOTICED = 10;

const OUTSIDE_PODS = "outside the cluster's pod CIDRs and extraCidr";
const OUTSIDE_SUBNET = "outside the policy's podSubnet";
const ownedBy = (owner: string, e: Endpoint) => `in the pod CIDR of node "${owner}", not "${e.node}"`;
const otherNode = (e: Endpoint) => `in another node's pod CIDR, not "${e.node}"'s`;

/** Endpoints of every policy, and one sentence per slice whose entries were not used. */
export interface CheckedEndpoints {
  readonly byPolicy: Map<string, readonly Endpoint[]>;
  readonly notices: readonly string[];
}

/** Where a pod address may never be, whoever says so: node addresses, the service and tunnel ranges. */
function forbiddenEntries(snapshot: Snapshot, nodeAddresses: readonly string[]): Array<readonly [IpInterval, string]> {
  const { config } = snapshot;
  return [
    ...nodeAddresses.map((a) => [parseIpSpec(a), 'a node address'] as const),
    ...config.serviceCidrs.map((c) => [parseCidr(c, false), `in service CIDR ${c}`] as const),
    [parseCidr(config.tunnelCidrV4, false), 'in the tunnel range'],
    [parseCidr(config.tunnelCidrV6, false), 'in the tunnel range'],
  ];
}

/**
 * Egress IP pools: the LAN. Where no pod CIDR is known, an address in one is not a pod's. (Where
 * pod CIDRs are known they decide: a pool entry that holds pod addresses is the gateway's
 * mistake, reported as ClusterAddress, and must not take the pods off their policies.)
 */
function poolEntries(snapshot: Snapshot): Array<readonly [IpInterval, string]> {
  return snapshot.gateways.flatMap((g) => [...g.poolV4, ...g.poolV6].map((iv) => [iv, `in the pool of gateway "${g.name}"`] as const));
}

/**
 * The endpoints of every policy from its endpoint slices, each address used only where it can be
 * the address of a pod the policy selects. Only the controller writes slices, but anything with
 * their write permission could forge one, and a slice reaches every node's plan: a worker marks
 * its local endpoints, a gateway relays and SNATs their traffic and routes replies to them
 * through the tunnel (an address of the LAN there would send the gateway's own egress traffic
 * back into the tunnel). So an address is left out when it is a node address, in the service or
 * tunnel range, outside the cluster's pod CIDRs and extraCidr (when none are known: in a
 * gateway's pool), inside another node's pod CIDR (pod CIDRs of nodes never overlap), or outside the
 * policy's podSubnet; an endpoint is left out when its namespace is not the policy's (an
 * EgressPolicy selects only its own) or its node is unknown.
 */
export function checkedEndpoints(
  snapshot: Snapshot,
  directory: ReadonlyMap<string, NodeDirectoryEntry>,
  cluster: ClusterInForce,
  nodeAddresses: readonly string[],
): CheckedEndpoints {
  const podRanges = new AddressRanges(cluster.podRanges.map((iv) => [iv, true] as const));
  const forbidden = podRanges.empty
    ? new AddressRanges([...forbiddenEntries(snapshot, nodeAddresses), ...poolEntries(snapshot)])
    : new AddressRanges(forbiddenEntries(snapshot, nodeAddresses));
  const podCidrOwner = new AddressRanges(snapshot.nodes.flatMap((n) => n.podCIDRs.map((c) => [parseCidr(c, false), n.name] as const)));
  // Node pod CIDRs never overlap: an address inside one belongs to that node's pods.
  const nodePodCidrs = new AddressRanges(cluster.cidrs.podCIDR.map((c) => [parseIpSpec(c), true] as const));
  const inView = new Set(snapshot.nodes.filter((n) => n.podCIDRs.length > 0).map((n) => n.name));
  const policies = new Map<string, Policy>(snapshot.policies.map((p) => [p.key, p]));
  const byPolicy = new Map<string, Endpoint[]>();
  const notices: string[] = [];
  let noticed = 0;

  // Endpoint addresses are canonical text: IPv4 is parsed once for every lookup (the hot path).
  const whyNotV4 = (v4: number, e: Endpoint, subnet: AddressRanges<true> | undefined): string | undefined => {
    const reason = forbidden.findV4(v4);
    if (reason) return reason;
    if (!podRanges.empty && !podRanges.findV4(v4)) return OUTSIDE_PODS;
    const owner = podCidrOwner.findV4(v4);
    if (owner !== undefined && owner !== e.node) return ownedBy(owner, e);
    if (owner === undefined && inView.has(e.node) && nodePodCidrs.findV4(v4)) return otherNode(e);
    return subnet && !subnet.findV4(v4) ? OUTSIDE_SUBNET : undefined;
  };
  const whyNot = (ip: string, e: Endpoint, subnet: AddressRanges<true> | undefined): string | undefined => {
    const v4 = ipv4Value(ip);
    if (v4 >= 0) return whyNotV4(v4, e, subnet);
    const reason = forbidden.find(ip);
    if (reason) return reason;
    if (!podRanges.empty && !podRanges.find(ip)) return OUTSIDE_PODS;
    const owner = podCidrOwner.find(ip);
    if (owner !== undefined && owner !== e.node) return ownedBy(owner, e);
    if (owner === undefined && inView.has(e.node) && nodePodCidrs.find(ip)) return otherNode(e);
    return subnet && !subnet.find(ip) ? OUTSIDE_SUBNET : undefined;
  };

  /** The addresses that can be the endpoint's (the same array when all can), recording the others. */
  const usable = (ips: readonly string[], e: Endpoint, subnet: AddressRanges<true> | undefined): readonly string[] => {
    let good: string[] | undefined;
    for (let i = 0; i < ips.length; i++) {
      const why = whyNot(ips[i]!, e, subnet);
      if (why === undefined) {
        good?.push(ips[i]!);
        continue;
      }
      left.push(`${ips[i]} of ${e.namespace}/${e.pod} (${why})`);
      good ??= ips.slice(0, i);
    }
    return good ?? ips;
  };
  let left: string[] = [];

  const token = contextToken(snapshot, cluster, nodeAddresses, directory);
  for (const slice of [...snapshot.slices].sort(bySliceName)) {
    const policy = policies.get(slice.policyKey);
    if (!policy) continue;
    let verdict = verdicts.get(slice);
    if (verdict?.token !== token || verdict.policy !== policy) {
      verdict = { token, policy, ...checkSlice(slice, policy) };
      verdicts.set(slice, verdict);
    }
    const list = byPolicy.get(policy.key);
    if (list) list.push(...verdict.kept);
    else byPolicy.set(policy.key, [...verdict.kept]);
    if (verdict.left.length > 0 && noticed++ < SLICES_NOTICED) {
      const more = verdict.left.length > SHOWN_PER_SLICE ? ` and ${verdict.left.length - SHOWN_PER_SLICE} more` : '';
      notices.push(`${sliceKind(policy)} "${sliceName(slice)}": ${verdict.left.slice(0, SHOWN_PER_SLICE).join(', ')}${more} not used`);
    }
  }
  if (noticed > SLICES_NOTICED) notices.push(`${noticed - SLICES_NOTICED} more endpoint slices with entries not used`);
  for (const p of snapshot.policies) if (!byPolicy.has(p.key)) byPolicy.set(p.key, []);
  return { byPolicy, notices };

  function checkSlice(slice: EndpointSlice, policy: Policy): { kept: readonly Endpoint[]; left: readonly string[] } {
    const subnet = policy.spec.podSelector ? undefined : new AddressRanges(policy.spec.podSubnet.map((iv) => [iv, true] as const));
    left = [];
    const kept: Endpoint[] = [];
    for (const e of slice.endpoints) {
      if (policy.kind === 'EgressPolicy' && e.namespace !== policy.namespace) {
        left.push(`${e.namespace}/${e.pod} (not in namespace "${policy.namespace}")`);
        continue;
      }
      if (!directory.has(e.node)) {
        left.push(`${e.namespace}/${e.pod} (on unknown node "${e.node}")`);
        continue;
      }
      const ipv4 = usable(e.ipv4, e, subnet);
      const ipv6 = usable(e.ipv6, e, subnet);
      if (ipv4 === e.ipv4 && ipv6 === e.ipv6) kept.push(e);
      else if (ipv4.length + ipv6.length > 0) kept.push({ ...e, ipv4, ipv6 });
    }
    // Kept with the slice for as long as it lives: the slice's own list when nothing was left out.
    const all = kept.length === slice.endpoints.length && kept.every((e, i) => e === slice.endpoints[i]);
    return { kept: all ? slice.endpoints : exactList(kept), left };
  }
}

/**
 * What a slice's check found, kept while the slice object, its policy object and everything the
 * check reads from the rest of the cluster are the same ones: an agent plans again on every
 * change, and most changes leave most slices (frozen objects from its store) as they were.
 */
const verdicts = new WeakMap<EndpointSlice, { token: object; policy: Policy; kept: readonly Endpoint[]; left: readonly string[] }>();
let lastContext: { key: string; token: object } | undefined;

/** One object per distinct context of the checks (node addresses and pod CIDRs, ranges, pools, nodes known). */
function contextToken(snapshot: Snapshot, cluster: ClusterInForce, nodeAddresses: readonly string[], directory: ReadonlyMap<string, NodeDirectoryEntry>): object {
  const { config } = snapshot;
  const key = JSON.stringify([
    cluster.podRanges.map(formatInterval),
    cluster.cidrs.podCIDR,
    nodeAddresses,
    [...directory.keys()],
    snapshot.nodes.map((n) => [n.name, n.podCIDRs]),
    snapshot.gateways.map((g) => [g.name, g.poolTextV4, g.poolTextV6]),
    config.serviceCidrs,
    config.tunnelCidrV4,
    config.tunnelCidrV6,
  ]);
  if (lastContext?.key !== key) lastContext = { key, token: {} };
  return lastContext.token;
}

const sliceName = (s: EndpointSlice) => (s.namespace ? `${s.namespace}/${s.name}` : s.name);
const sliceKind = (p: Policy) => (p.kind === 'EgressPolicy' ? 'EgressEndpointSlice' : 'EgressClusterEndpointSlice');
const bySliceName = (a: EndpointSlice, b: EndpointSlice) => (sliceName(a) < sliceName(b) ? -1 : sliceName(a) > sliceName(b) ? 1 : 0);
