import { EgressError } from '../errors.js';
import { parseCidr, prefixLength, type Family } from '../api/ip.js';
import type { Endpoint, Policy } from '../api/model.js';
import type { Snapshot } from './snapshot.js';
import type { EipPlan, NodePlan, PolicyPlan, SysctlEntry, VxlanPeer, VxlanPlan } from './node-plan.js';
import { comparePolicies } from './order.js';
import { shortHash } from './hrw.js';
import { hereMark, markValue } from './config.js';
import { endpointsByPolicy, resolveCluster, type NodeDirectoryEntry, type Resolution } from './resolve.js';
import { buildNftTable, clusterSetName, type PolicyRuleInput } from './nft-rules.js';
import { buildRouting, type GatewayPeerRoute, type ReplyRoute } from './routing.js';
import { selectsBySourceCidr } from './endpoints.js';
import { FastIpIndex } from './fast-ip.js';
import { gatewayCapableNodes } from './tunnels.js';
import { buildFirewallRules, firewallNameRules } from './firewall-rules.js';
import { buildDnsSteering } from './firewall-dns-steering.js';
import { localFirewallInputs } from './firewall-endpoints.js';
import { nativeNodes, segmentProblem, type NativePath } from './native.js';

const FAMILIES: readonly Family[] = [4, 6];

type IpLists = Record<Family, string[]>;

function ipsOf(endpoints: readonly Endpoint[]): IpLists {
  const out: IpLists = { 4: [], 6: [] };
  for (const e of endpoints) {
    for (const ip of e.ipv4) out[4].push(ip);
    for (const ip of e.ipv6) out[6].push(ip);
  }
  return out;
}

interface Resolved {
  readonly policy: Policy;
  readonly plan: PolicyPlan;
  readonly endpoints: readonly Endpoint[];
  readonly local: readonly Endpoint[];
  /** The node this node's pods' traffic goes to as a worker: the carrier, or the one it takes over from. */
  readonly steer?: string;
}

/** Each policy in resolution order, with what this node does for it (from the one assignment). */
function resolvePolicies(snapshot: Snapshot, resolution: Resolution, endpointsOf: ReadonlyMap<string, readonly Endpoint[]>, nodeName: string): Resolved[] {
  return [...snapshot.policies].sort(comparePolicies).map((policy) => {
    const a = resolution.assignment.policies.get(policy.key)!;
    const endpoints = endpointsOf.get(policy.key) ?? [];
    const local = endpoints.filter((e) => e.node === nodeName);
    const role = a.active && a.node === nodeName ? 'gateway' : a.active && local.length > 0 ? 'worker' : 'none';
    const plan: PolicyPlan = {
      key: policy.key,
      kind: policy.kind,
      namespace: policy.namespace,
      name: policy.name,
      priority: policy.spec.priority,
      gateway: policy.spec.gatewayName,
      ...(a.node ? { node: a.node } : {}),
      ...(a.eipV4 ? { eipV4: a.eipV4 } : {}),
      ...(a.eipV6 ? { eipV6: a.eipV6 } : {}),
      useNodeIP: policy.spec.useNodeIP,
      ...(a.snatV4 ? { snatV4: a.snatV4 } : {}),
      ...(a.snatV6 ? { snatV6: a.snatV6 } : {}),
      role,
      localEndpoints: local.length,
      totalEndpoints: endpoints.length,
      active: a.active,
      ...(a.reason ? { reason: a.reason, message: a.message ?? '' } : {}),
      setPrefix: `p_${shortHash(policy.key)}`,
    };
    const steer = role === 'worker' ? (a.steerTo !== undefined && a.steerTo !== nodeName ? a.steerTo : a.node) : undefined;
    return { policy, plan, endpoints, local, ...(steer ? { steer } : {}) };
  });
}

/**
 * Worker side, prepared before any policy needs it (as spidernet's agents do): every node that may
 * ever carry a gateway's EIPs or carries one now (gatewayCapableNodes) is a tunnel peer with a
 * routing table towards it, Ready or not, so a node's first selected pod, a new policy and a
 * failover each change nft alone, in one atomic transaction. A node that carries a policy for
 * local pods stays a peer while it carries.
 */
function gatewayPeers(resolved: readonly Resolved[], capable: ReadonlySet<string>, nodeName: string): Set<string> {
  const peers = new Set(capable);
  for (const r of resolved) if (r.plan.role === 'worker' && r.steer) peers.add(r.steer);
  peers.delete(nodeName);
  return peers;
}

/**
 * Gateway side, prepared too: a node that may carry a gateway's EIPs has every node as a tunnel
 * peer, so the replies to a worker's first selected pod need only their route.
 */
function replyPeers(resolution: Resolution, capable: ReadonlySet<string>, nodeName: string): string[] {
  return capable.has(nodeName) ? [...resolution.directory.keys()] : [];
}

/**
 * Gateway side: the remote nodes with endpoints of policies carried here, each with the pod
 * addresses outside its pod CIDRs (those need a host route of their own). One pass over the
 * endpoints; the CIDR index of each node is built once.
 */
function replyEndpoints(resolved: readonly Resolved[], directory: Resolution['directory'], nodeName: string): Map<string, Record<Family, Set<string>>> {
  const byNode = new Map<string, { cidrs: FastIpIndex; outside: Record<Family, Set<string>> }>();
  for (const r of resolved) {
    if (r.plan.role !== 'gateway') continue;
    for (const e of r.endpoints) {
      if (e.node === nodeName) continue;
      let entry = byNode.get(e.node);
      if (!entry) {
        const podCidrs = (directory.get(e.node)?.info?.podCIDRs ?? []).map((c) => parseCidr(c, false));
        byNode.set(e.node, (entry = { cidrs: new FastIpIndex(podCidrs), outside: { 4: new Set(), 6: new Set() } }));
      }
      for (const ip of e.ipv4) if (!entry.cidrs.has(ip)) entry.outside[4].add(ip);
      for (const ip of e.ipv6) if (!entry.cidrs.has(ip)) entry.outside[6].add(ip);
    }
  }
  return new Map([...byNode].map(([name, entry]) => [name, entry.outside]));
}

/** Replies go back through the tunnel: each remote node's pod CIDRs, plus pod IPs outside them. */
function replyRoutes(byNode: ReadonlyMap<string, Record<Family, Set<string>>>, directory: Resolution['directory'], dualStack: boolean): ReplyRoute[] {
  const replies: ReplyRoute[] = [];
  for (const name of [...byNode.keys()].sort()) {
    const d = directory.get(name);
    if (!d) continue;
    for (const family of FAMILIES) {
      const via = family === 4 ? d.ipv4 : dualStack ? d.ipv6 : undefined;
      if (!via) continue;
      for (const text of d.info?.podCIDRs ?? []) {
        if (parseCidr(text, false).family === family) replies.push({ family, dst: text, via });
      }
      for (const ip of byNode.get(name)![family]) replies.push({ family, dst: `${ip}/${family === 4 ? 32 : 128}`, via });
    }
  }
  return replies;
}

/**
 * Native routing, gateway side: replies go to each worker's LAN address on this node's LAN NIC,
 * for the workers on its segment (the others have no native path here: they drop the traffic).
 */
function nativeReplyRoutes(
  byNode: ReadonlyMap<string, Record<Family, Set<string>>>,
  directory: Resolution['directory'],
  self: NodeDirectoryEntry,
  families: readonly Family[],
): ReplyRoute[] {
  const replies: ReplyRoute[] = [];
  for (const name of [...byNode.keys()].sort()) {
    const d = directory.get(name);
    if (!d) continue;
    for (const family of families) {
      const via = family === 4 ? d.parentIpv4 : d.parentIpv6;
      if (!via || segmentProblem(self, d, family) !== undefined) continue;
      for (const text of d.info?.podCIDRs ?? []) {
        if (parseCidr(text, false).family === family) replies.push({ family, dst: text, via, dev: self.parentName });
      }
      for (const ip of byNode.get(name)![family]) replies.push({ family, dst: `${ip}/${family === 4 ? 32 : 128}`, via, dev: self.parentName });
    }
  }
  return replies;
}

/** The link-layer addresses of the other nodes on this node's LAN segment (native routing's proof of a node). */
function segmentMacs(directory: Resolution['directory'], self: NodeDirectoryEntry, families: readonly Family[]): string[] {
  const macs = new Set<string>();
  for (const d of directory.values()) {
    if (d.node === self.node || !d.lan) continue;
    if (families.some((f) => segmentProblem(self, d, f) === undefined)) macs.add(d.lan.mac);
  }
  return [...macs].sort();
}

/** What the gateway rules must leave alone: see elsewhereAddresses. */
interface Elsewhere {
  /** Carried policy → addresses it selects that a higher-ranked policy carried by another node selects too. */
  readonly above: Map<string, IpLists>;
  /** Policy carried elsewhere with destSubnet or excludeDestSubnet → its addresses a lower-ranked carried policy selects too. */
  readonly withDest: Map<string, IpLists>;
}

/** Records that the policy at `rank` takes `ip`; ranks arrive in ascending order. */
function addRank(takers: Map<string, number | number[]>, ip: string, rank: number): void {
  const known = takers.get(ip);
  if (known === undefined) takers.set(ip, rank);
  else if (typeof known === 'number') {
    if (known !== rank) takers.set(ip, [known, rank]);
  } else if (known[known.length - 1] !== rank) known.push(rank);
}

/** The lowest of the ascending `ranks` above `rank`. */
function rankAfter(ranks: number | readonly number[] | undefined, rank: number): number | undefined {
  if (ranks === undefined) return undefined;
  if (typeof ranks === 'number') return ranks > rank ? ranks : undefined;
  let lo = 0;
  let hi = ranks.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ranks[mid]! > rank) hi = mid;
    else lo = mid + 1;
  }
  return ranks[lo];
}

/**
 * Gateway side. A worker marks a packet for the node of the first active policy that matches it
 * (pod and destination), and this node must SNAT it by that policy or not at all: never by a
 * lower-ranked policy of its own that selects the same pod (while an EIP moves, the worker and
 * this node briefly disagree on where a policy is carried, and a connection keeps its first NAT
 * binding). So before each carried policy's rule, the addresses that a higher-ranked policy
 * carried elsewhere selects are stopped, and left to the anti-relay guard. A policy with
 * destination conditions gets a rule of its own at its rank, with those conditions; the others
 * share one set per carried policy. Which rules exist depends on the policies only, never on pods.
 */
function elsewhereAddresses(resolved: readonly Resolved[], nodeName: string): Elsewhere {
  const above = new Map<string, IpLists>();
  const withDest = new Map<string, IpLists>();
  const carried = (r: Resolved) => r.plan.role === 'gateway';
  const elsewhere = (r: Resolved) => r.plan.active && r.plan.node !== undefined && r.plan.node !== nodeName;
  const hasDest = (r: Resolved) => r.policy.spec.destSubnet.length > 0 || r.policy.spec.excludeDestSubnet.length > 0;
  // Only what the worker marks for it: a family the policy has a source address for.
  const addressesOf = (r: Resolved): IpLists => {
    const ips = ipsOf(r.endpoints);
    return { 4: r.plan.snatV4 ? ips[4] : [], 6: r.plan.snatV6 ? ips[6] : [] };
  };
  const firstElsewhere = resolved.findIndex(elsewhere);
  let lastCarried = -1;
  for (let i = 0; i < resolved.length; i++) if (carried(resolved[i]!)) lastCarried = i;
  if (firstElsewhere < 0 || firstElsewhere > lastCarried) return { above, withDest };

  // Where each pod address is taken here: the ranks of the carried policies that list it (after
  // firstElsewhere), and the cluster-wide podSubnets carried, which take a whole CIDR. Stopping an
  // address before the first carried policy below the stopping one that takes it is enough: a
  // packet the stop rule lets through was not going to reach a later one. Pods are commonly
  // selected by several policies, so each address keeps every rank, not only the first.
  const takers = new Map<string, number | number[]>();
  const carriedSubnets: { rank: number; index: FastIpIndex }[] = [];
  const firstAbove = resolved.findIndex((r, i) => i <= lastCarried && elsewhere(r) && !hasDest(r));
  for (let i = firstElsewhere; i <= lastCarried; i++) {
    const r = resolved[i]!;
    if (!carried(r)) continue;
    if (firstAbove >= 0 && i > firstAbove) above.set(r.policy.key, { 4: [], 6: [] });
    if (selectsBySourceCidr(r.policy)) carriedSubnets.push({ rank: i, index: new FastIpIndex(r.policy.spec.podSubnet) });
    for (const e of r.endpoints) {
      for (const ip of e.ipv4) addRank(takers, ip, i);
      for (const ip of e.ipv6) addRank(takers, ip, i);
    }
  }
  /** The first carried policy ranked below `rank` that takes `ip`, if any. */
  const takerBelow = (ip: string, rank: number): number | undefined => {
    let first = rankAfter(takers.get(ip), rank);
    for (const c of carriedSubnets) if (c.rank > rank && (first === undefined || c.rank < first) && c.index.has(ip)) first = c.rank;
    return first;
  };
  for (let i = firstElsewhere; i < lastCarried; i++) {
    const r = resolved[i]!;
    if (!elsewhere(r)) continue;
    const ips = addressesOf(r);
    if (hasDest(r)) {
      withDest.set(r.policy.key, { 4: ips[4].filter((ip) => takerBelow(ip, i) !== undefined), 6: ips[6].filter((ip) => takerBelow(ip, i) !== undefined) });
      continue;
    }
    for (const family of [4, 6] as const) {
      for (const ip of ips[family]) {
        const j = takerBelow(ip, i);
        if (j !== undefined) (above.get(resolved[j]!.policy.key)![family] as string[]).push(ip);
      }
    }
  }
  return { above, withDest };
}

function ruleInput(r: Resolved, directory: Resolution['directory'], config: Snapshot['config'], elsewhere: Elsewhere, unreachable: ReadonlySet<string>): PolicyRuleInput {
  const markIndex = r.plan.role === 'worker' && r.steer && !unreachable.has(r.steer) ? directory.get(r.steer)?.markIndex : undefined;
  const spec = r.policy.spec;
  const bySubnet = selectsBySourceCidr(r.policy);
  const local = ipsOf(r.local);
  return {
    key: r.policy.key,
    setPrefix: r.plan.setPrefix,
    ...(markIndex !== undefined ? { gatewayMark: markValue(config, markIndex) } : r.plan.role === 'worker' ? { unsteerable: true } : {}),
    carriedHere: r.plan.role === 'gateway',
    local,
    all: r.plan.role === 'gateway' ? ipsOf(r.endpoints) : local,
    ...(elsewhere.above.has(r.policy.key) ? { carriedElsewhereAbove: elsewhere.above.get(r.policy.key)! } : {}),
    ...(elsewhere.withDest.has(r.policy.key) ? { carriedElsewhere: elsewhere.withDest.get(r.policy.key)! } : {}),
    // Only a cluster-wide podSubnet matches by CIDR: a namespaced policy (or one with a
    // namespaceSelector) matches the addresses of the pods it selects, never another tenant's.
    bySubnet,
    subnet: bySubnet ? spec.podSubnet : [],
    dest: spec.destSubnet,
    exclude: spec.excludeDestSubnet,
    snat: { ...(r.plan.snatV4 ? { 4: r.plan.snatV4 } : {}), ...(r.plan.snatV6 ? { 6: r.plan.snatV6 } : {}) },
  };
}

function eipsHeld(resolved: readonly Resolved[], parentName: string): EipPlan[] {
  const eipMap = new Map<string, { family: Family; policies: string[] }>();
  for (const r of resolved) {
    if (r.plan.role !== 'gateway' || r.plan.useNodeIP) continue;
    for (const [family, ip] of [
      [4, r.plan.eipV4],
      [6, r.plan.eipV6],
    ] as const) {
      if (!ip) continue;
      const entry = eipMap.get(ip) ?? { family, policies: [] };
      entry.policies.push(r.policy.key);
      eipMap.set(ip, entry);
    }
  }
  return [...eipMap].map(([ip, e]) => ({ ip, family: e.family, interface: parentName, policies: e.policies.sort() })).sort((a, b) => a.family - b.family || (a.ip < b.ip ? -1 : 1));
}

/**
 * Compiles the cluster snapshot into what one node's kernel must hold. Pure: no I/O, no clock,
 * no randomness; identical input gives identical output.
 */
export function plan(snapshot: Snapshot, nodeName: string, resolution: Resolution = resolveCluster(snapshot)): NodePlan {
  const config = snapshot.config;
  const { directory } = resolution;
  const self = directory.get(nodeName);
  if (!self || !self.info) {
    throw new EgressError('EGW_ERR_PLAN', `node "${nodeName}" is not in the cluster snapshot`);
  }
  const endpoints = endpointsByPolicy(snapshot, resolution);
  const resolved = resolvePolicies(snapshot, resolution, endpoints.byPolicy, nodeName);
  const isGateway = resolved.some((r) => r.plan.role === 'gateway');
  const isWorker = resolved.some((r) => r.plan.role === 'worker');
  // Every node has its tunnel device, serving a policy or not (as in spidernet): the MAC and
  // addresses its EgressTunnel publishes always exist, and a new role only adds peers and routes.
  const hasTunnel = self.underlayIp !== undefined;
  const dualStack = snapshot.nodes.some((n) => n.ipv6);

  const capable = gatewayCapableNodes(snapshot);
  const peerGatewayNodes = gatewayPeers(resolved, capable, nodeName);
  const native = nativeNodes(snapshot.nodes, snapshot.gateways);
  const families: Family[] = dualStack ? [4, 6] : [4];
  const gatewayRoutes: GatewayPeerRoute[] = [];
  const nativePaths: NativePath[] = [];
  /** Gateway nodes reached natively that this node has no native path to: why, per node. */
  const unreachable = new Map<string, string>();
  for (const name of [...peerGatewayNodes].sort()) {
    const d = directory.get(name);
    if (!d || d.markIndex === undefined || !d.underlayIp) continue;
    if (native.nodes.has(name)) {
      const nextHop: Partial<Record<Family, string>> = {};
      const problems: string[] = [];
      for (const f of families) {
        const problem = segmentProblem(self, d, f);
        const hop = f === 4 ? d.parentIpv4 : d.parentIpv6;
        if (problem === undefined && hop) nextHop[f] = hop;
        else if (problem !== undefined) problems.push(problem);
      }
      if (Object.keys(nextHop).length > 0) nativePaths.push({ markIndex: d.markIndex, nextHop });
      else unreachable.set(name, problems.join('; ') || 'it has no node address');
      continue;
    }
    gatewayRoutes.push({ markIndex: d.markIndex, tunnelIp: { ...(d.ipv4 ? { 4: d.ipv4 } : {}), ...(d.ipv6 && dualStack ? { 6: d.ipv6 } : {}) } });
  }
  const selfNative = native.nodes.has(nodeName);
  const replyNodes = replyEndpoints(resolved, directory, nodeName);
  const replies = selfNative ? nativeReplyRoutes(replyNodes, directory, self, families) : replyRoutes(replyNodes, directory, dualStack);
  const nativeNotices = [...native.notices];
  for (const r of resolved) {
    const why = r.steer !== undefined ? unreachable.get(r.steer) : undefined;
    if (why !== undefined) {
      nativeNotices.push(
        `policy ${r.policy.key}: gateway node "${r.steer}" is reached by native routing, but this node is not on its LAN segment (${why}); its selected traffic from this node is dropped`,
      );
    }
  }

  const peers = new Map<string, NodeDirectoryEntry>();
  for (const name of [...peerGatewayNodes, ...replyPeers(resolution, capable, nodeName), ...replyNodes.keys()]) {
    const d = directory.get(name);
    if (d && d.underlayIp && name !== nodeName) peers.set(name, d);
  }

  const eips = eipsHeld(resolved, self.parentName);
  const elsewhere = elsewhereAddresses(resolved, nodeName);
  const nodeIps = { 4: [] as string[], 6: [] as string[] };
  for (const d of directory.values()) {
    if (d.parentIpv4) nodeIps[4].push(d.parentIpv4);
    if (d.parentIpv6) nodeIps[6].push(d.parentIpv6);
  }
  const egressTable = buildNftTable({
    config,
    clusterCidrs: resolution.cluster.intervals,
    nodeIps,
    eips: { 4: eips.filter((e) => e.family === 4).map((e) => e.ip), 6: eips.filter((e) => e.family === 6).map((e) => e.ip) },
    hasTunnel,
    isGateway,
    parentInterface: self.parentName,
    policies: resolved
      .filter((r) => r.plan.role !== 'none' || elsewhere.withDest.has(r.policy.key))
      .map((r) => ruleInput(r, directory, config, elsewhere, new Set(unreachable.keys()))),
    ...(selfNative ? { nativeArrival: { macs: segmentMacs(directory, self, families) } } : {}),
    ...(nativePaths.length ? { nativePaths: nativePaths.map((p) => ({ mark: markValue(config, p.markIndex), nextHop: p.nextHop })) } : {}),
  });
  const firewallInputs = localFirewallInputs(snapshot, nodeName);
  const firewall = buildFirewallRules(firewallInputs, clusterSetName, { group: config.firewallLogGroup, rate: config.firewallLogRate });
  const steering = buildDnsSteering({
    nameRules: firewallNameRules(firewallInputs),
    port: config.firewallDnsPort,
    nodeAddress: { ...(self.info.ipv4 ? { 4: self.info.ipv4 } : {}), ...(self.info.ipv6 ? { 6: self.info.ipv6 } : {}) },
  });
  const nft = firewall.chain
    ? {
        ...egressTable,
        sets: [...egressTable.sets, ...firewall.sets, ...steering.sets].sort((a, b) => (a.name < b.name ? -1 : 1)),
        chains: [...egressTable.chains, firewall.chain, ...(steering.chain ? [steering.chain] : [])],
      }
    : egressTable;

  const vxlan = hasTunnel ? buildVxlan(snapshot, self, [...peers.values()], dualStack) : undefined;
  const gatewayMarks: Record<string, number> = {};
  for (const d of [...directory.values()]) if (d.markIndex !== undefined) gatewayMarks[d.node] = markValue(config, d.markIndex);

  return {
    node: nodeName,
    roles: { worker: isWorker, gateway: isGateway },
    policies: resolved.map((r) => r.plan),
    nft,
    routing: buildRouting(config, vxlan ? gatewayRoutes : [], vxlan || selfNative ? replies : [], { paths: nativePaths, dev: self.parentName }),
    ...(vxlan ? { vxlan } : {}),
    eips,
    // A node that may carry an EIP picks up flows mid-stream before it carries one: a takeover must not wait for the sysctl.
    sysctls: buildSysctls(snapshot, hasTunnel, isGateway || capable.has(nodeName), selfNative ? self.parentName : undefined),
    marks: { mask: config.markMask, here: hereMark(config), gateways: gatewayMarks },
    ...(firewall.order.length ? { firewalls: firewall.order } : {}),
    ...(resolution.notices.length || endpoints.notices.length || nativeNotices.length ? { notices: [...resolution.notices, ...endpoints.notices, ...nativeNotices] } : {}),
  };
}

function buildVxlan(snapshot: Snapshot, self: NodeDirectoryEntry, peers: NodeDirectoryEntry[], dualStack: boolean): VxlanPlan {
  const { config } = snapshot;
  const cidr4 = parseCidr(config.tunnelCidrV4);
  const cidr6 = parseCidr(config.tunnelCidrV6);
  const vxPeers: VxlanPeer[] = peers
    .map((p) => ({
      node: p.node,
      underlayIp: p.underlayIp!,
      mac: p.mac,
      ...(p.ipv4 ? { tunnelIpv4: p.ipv4 } : {}),
      ...(p.ipv6 && dualStack ? { tunnelIpv6: p.ipv6 } : {}),
    }))
    .sort((a, b) => (a.node < b.node ? -1 : 1));
  return {
    device: config.vxlan.device,
    vni: config.vxlan.vni,
    port: config.vxlan.port,
    parent: self.parentName,
    localIp: self.underlayIp!,
    mtu: config.vxlan.mtu,
    mac: self.mac,
    ...(self.ipv4 ? { addressV4: `${self.ipv4}/${prefixLength(cidr4)}` } : {}),
    ...(self.ipv6 && dualStack ? { addressV6: `${self.ipv6}/${prefixLength(cidr6)}` } : {}),
    peers: vxPeers,
  };
}

function buildSysctls(snapshot: Snapshot, hasTunnel: boolean, isGateway: boolean, nativeLan: string | undefined): SysctlEntry[] {
  if (!hasTunnel) return [];
  const dev = snapshot.config.vxlan.device.replace(/\./g, '/');
  const out: SysctlEntry[] = [
    { key: 'net.ipv4.ip_forward', value: '1' },
    { key: `net.ipv4.conf.${dev}.rp_filter`, value: '2' },
  ];
  // Natively routed pod packets arrive on the LAN NIC, whose routes need not lead back to pods.
  if (nativeLan) out.push({ key: `net.ipv4.conf.${nativeLan.replace(/\./g, '/')}.rp_filter`, value: '2' });
  if (snapshot.nodes.some((n) => n.ipv6)) out.push({ key: 'net.ipv6.conf.all.forwarding', value: '1' });
  if (isGateway) out.push({ key: 'net.netfilter.nf_conntrack_tcp_loose', value: '1' });
  return out.sort((a, b) => (a.key < b.key ? -1 : 1));
}
