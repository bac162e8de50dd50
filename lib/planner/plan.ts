import { EgressError } from '../errors.js';
import { parseCidr, prefixLength, type Family } from '../api/ip.js';
import type { Endpoint, Policy } from '../api/model.js';
import type { Snapshot } from './snapshot.js';
import type { EipPlan, NodePlan, PolicyPlan, SysctlEntry, VxlanPeer, VxlanPlan } from './node-plan.js';
import { comparePolicies } from './order.js';
import { shortHash } from './hrw.js';
import { hereMark, markValue } from './config.js';
import { allClusterIntervals, clusterCidrsInForce } from './cluster-cidrs.js';
import { endpointsOf, nodeDirectory, resolveAssignments, type NodeDirectoryEntry } from './resolve.js';
import { buildNftTable, type PolicyRuleInput } from './nft-rules.js';
import { buildRouting, type GatewayPeerRoute, type ReplyRoute } from './routing.js';
import { gatewayCapableNodes } from './tunnels.js';
import { eligibleGatewayNodes } from './assign.js';
import { intervalsContain } from '../api/ip.js';

const FAMILIES: readonly Family[] = [4, 6];

function ipsOf(endpoints: readonly Endpoint[], family: Family): string[] {
  return endpoints.flatMap((e) => (family === 4 ? e.ipv4 : e.ipv6));
}

interface Resolved {
  policy: Policy;
  plan: PolicyPlan;
  endpoints: Endpoint[];
  local: Endpoint[];
}

/**
 * Compiles the cluster snapshot into what one node's kernel must hold. Pure: no I/O, no clock,
 * no randomness; identical input gives identical output.
 */
export function plan(snapshot: Snapshot, nodeName: string): NodePlan {
  const config = snapshot.config;
  const directory = nodeDirectory(snapshot);
  const self = directory.get(nodeName);
  if (!self || !self.info) {
    throw new EgressError('EGW_ERR_PLAN', `node "${nodeName}" is not in the cluster snapshot`);
  }
  const assignments = resolveAssignments(snapshot);
  const resolved: Resolved[] = [...snapshot.policies].sort(comparePolicies).map((policy) => {
    const a = assignments.get(policy.key)!;
    const endpoints = endpointsOf(policy, snapshot);
    const local = endpoints.filter((e) => e.node === nodeName);
    const gwNode = a.node ? directory.get(a.node) : undefined;
    let reason = a.reason;
    let message = a.message;
    const snat: Partial<Record<Family, string>> = {};
    if (a.active && gwNode) {
      if (a.useNodeIP) {
        if (gwNode.parentIpv4) snat[4] = gwNode.parentIpv4;
        if (gwNode.parentIpv6) snat[6] = gwNode.parentIpv6;
        if (!snat[4] && !snat[6]) {
          reason = 'NoNodeIP';
          message = `gateway node "${gwNode.node}" reports no InternalIP to SNAT to`;
        }
      } else {
        if (a.eipV4) snat[4] = a.eipV4;
        if (a.eipV6) snat[6] = a.eipV6;
      }
      if (!reason && a.node !== nodeName && local.length > 0 && (gwNode.markIndex === undefined || !gwNode.ipv4 && !gwNode.ipv6)) {
        reason = 'NoReadyGatewayNode';
        message = `gateway node "${gwNode.node}" has no tunnel address or mark yet`;
      }
    }
    const active = a.active && !reason;
    const carriedHere = active && a.node === nodeName;
    const role = carriedHere ? 'gateway' : active && local.length > 0 ? 'worker' : 'none';
    const planEntry: PolicyPlan = {
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
      ...(active && snat[4] ? { snatV4: snat[4] } : {}),
      ...(active && snat[6] ? { snatV6: snat[6] } : {}),
      role,
      localEndpoints: local.length,
      totalEndpoints: endpoints.length,
      active,
      ...(reason ? { reason, message: message ?? '' } : {}),
      setPrefix: `p_${shortHash(policy.key)}`,
    };
    return { policy, plan: planEntry, endpoints, local };
  });

  const isGateway = resolved.some((r) => r.plan.role === 'gateway');
  const isWorker = resolved.some((r) => r.plan.role === 'worker');
  const capable = gatewayCapableNodes(snapshot.nodes, snapshot.gateways).has(nodeName);
  const hasTunnel = isGateway || isWorker || capable;
  const dualStack = snapshot.nodes.some((n) => n.ipv6);

  // Worker side: every eligible node of the gateways our local pods use is a tunnel peer with a
  // prepared table, so a failover only changes the mark in one atomic nft transaction.
  const peerGatewayNodes = new Set<string>();
  for (const r of resolved) {
    if (r.plan.role !== 'worker') continue;
    if (r.plan.node) peerGatewayNodes.add(r.plan.node);
    const gw = snapshot.gateways.find((g) => g.name === r.policy.spec.gatewayName);
    if (gw) for (const name of eligibleGatewayNodes(gw, snapshot.nodes)) peerGatewayNodes.add(name);
  }
  peerGatewayNodes.delete(nodeName);
  const gatewayRoutes: GatewayPeerRoute[] = [];
  for (const name of [...peerGatewayNodes].sort()) {
    const d = directory.get(name);
    if (!d || d.markIndex === undefined || !d.underlayIp) continue;
    gatewayRoutes.push({ markIndex: d.markIndex, tunnelIp: { ...(d.ipv4 ? { 4: d.ipv4 } : {}), ...(d.ipv6 && dualStack ? { 6: d.ipv6 } : {}) } });
  }

  // Gateway side: remote nodes with endpoints of policies carried here get reply routes.
  const replyNodes = new Map<string, Endpoint[]>();
  for (const r of resolved) {
    if (r.plan.role !== 'gateway') continue;
    for (const e of r.endpoints) {
      if (e.node === nodeName) continue;
      replyNodes.set(e.node, [...(replyNodes.get(e.node) ?? []), e]);
    }
  }
  const replies: ReplyRoute[] = [];
  for (const [name, eps] of [...replyNodes].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const d = directory.get(name);
    if (!d) continue;
    const podCidrs = (d.info?.podCIDRs ?? []).map((c) => parseCidr(c, false));
    for (const family of FAMILIES) {
      const via = family === 4 ? d.ipv4 : dualStack ? d.ipv6 : undefined;
      if (!via) continue;
      for (const text of d.info?.podCIDRs ?? []) {
        if (parseCidr(text, false).family === family) replies.push({ family, dst: text, via });
      }
      for (const ip of ipsOf(eps, family)) {
        if (!intervalsContain(podCidrs, ip)) replies.push({ family, dst: `${ip}/${family === 4 ? 32 : 128}`, via });
      }
    }
  }

  const peers = new Map<string, NodeDirectoryEntry>();
  for (const name of [...peerGatewayNodes, ...replyNodes.keys()]) {
    const d = directory.get(name);
    if (d && d.underlayIp && name !== nodeName) peers.set(name, d);
  }

  const policyInputs: PolicyRuleInput[] = resolved
    .filter((r) => r.plan.role !== 'none')
    .map((r) => {
      const gwNode = r.plan.node ? directory.get(r.plan.node) : undefined;
      const markIndex = r.plan.role === 'worker' ? gwNode?.markIndex : undefined;
      const spec = r.policy.spec;
      return {
        key: r.policy.key,
        setPrefix: r.plan.setPrefix,
        ...(markIndex !== undefined ? { gatewayMark: markValue(config, markIndex) } : {}),
        carriedHere: r.plan.role === 'gateway',
        local: { 4: ipsOf(r.local, 4), 6: ipsOf(r.local, 6) },
        all: { 4: ipsOf(r.endpoints, 4), 6: ipsOf(r.endpoints, 6) },
        bySubnet: !spec.podSelector,
        subnet: spec.podSubnet,
        dest: spec.destSubnet,
        exclude: spec.excludeDestSubnet,
        snat: { ...(r.plan.snatV4 ? { 4: r.plan.snatV4 } : {}), ...(r.plan.snatV6 ? { 6: r.plan.snatV6 } : {}) },
      };
    });

  const eipMap = new Map<string, { family: Family; policies: string[] }>();
  for (const r of resolved) {
    if (r.plan.role !== 'gateway' || r.plan.useNodeIP) continue;
    for (const [family, ip] of [[4, r.plan.eipV4], [6, r.plan.eipV6]] as const) {
      if (!ip) continue;
      const entry = eipMap.get(ip) ?? { family, policies: [] };
      entry.policies.push(r.policy.key);
      eipMap.set(ip, entry);
    }
  }
  const eips: EipPlan[] = [...eipMap]
    .map(([ip, e]) => ({ ip, family: e.family, interface: self.parentName, policies: e.policies.sort() }))
    .sort((a, b) => a.family - b.family || (a.ip < b.ip ? -1 : 1));

  const nodeIps = { 4: [] as string[], 6: [] as string[] };
  for (const d of directory.values()) {
    if (d.parentIpv4) nodeIps[4].push(d.parentIpv4);
    if (d.parentIpv6) nodeIps[6].push(d.parentIpv6);
  }

  const clusterCidrs = allClusterIntervals(clusterCidrsInForce(snapshot.nodes, snapshot.clusterInfo, config.serviceCidrs));
  const nft = buildNftTable({
    config,
    clusterCidrs,
    nodeIps,
    eips: { 4: eips.filter((e) => e.family === 4).map((e) => e.ip), 6: eips.filter((e) => e.family === 6).map((e) => e.ip) },
    hasTunnel,
    isGateway,
    parentInterface: self.parentName,
    policies: policyInputs,
  });

  const vxlan = hasTunnel && self.underlayIp ? buildVxlan(snapshot, self, [...peers.values()], dualStack) : undefined;
  const gatewayMarks: Record<string, number> = {};
  for (const d of [...directory.values()]) if (d.markIndex !== undefined) gatewayMarks[d.node] = markValue(config, d.markIndex);

  return {
    node: nodeName,
    roles: { worker: isWorker, gateway: isGateway },
    policies: resolved.map((r) => r.plan),
    nft,
    routing: buildRouting(config, vxlan ? gatewayRoutes : [], vxlan ? replies : []),
    ...(vxlan ? { vxlan } : {}),
    eips,
    sysctls: buildSysctls(snapshot, hasTunnel, isGateway),
    marks: { mask: config.markMask, here: hereMark(config), gateways: gatewayMarks },
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

function buildSysctls(snapshot: Snapshot, hasTunnel: boolean, isGateway: boolean): SysctlEntry[] {
  if (!hasTunnel) return [];
  const dev = snapshot.config.vxlan.device.replace(/\./g, '/');
  const out: SysctlEntry[] = [
    { key: 'net.ipv4.ip_forward', value: '1' },
    { key: `net.ipv4.conf.${dev}.rp_filter`, value: '2' },
  ];
  if (snapshot.nodes.some((n) => n.ipv6)) out.push({ key: 'net.ipv6.conf.all.forwarding', value: '1' });
  if (isGateway) out.push({ key: 'net.netfilter.nf_conntrack_tcp_loose', value: '1' });
  return out.sort((a, b) => (a.key < b.key ? -1 : 1));
}
