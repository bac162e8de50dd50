import type { Endpoint, NodeInfo, Policy } from '../api/model.js';
import { assignPolicies, eligibleGatewayNodes, type Assignment } from './assign.js';
import { assignTunnels, type TunnelAssignment } from './tunnels.js';
import { endpointsFromSlices, selectEndpoints } from './endpoints.js';
import type { Snapshot } from './snapshot.js';

/**
 * Assignments the node acts on: the controller's status where it is complete and its node is still
 * eligible, otherwise the same pure computation the controller runs.
 */
export function resolveAssignments(snapshot: Snapshot): Map<string, Assignment> {
  const computed = assignPolicies(snapshot);
  const gateways = new Map(snapshot.gateways.map((g) => [g.name, g]));
  for (const policy of snapshot.policies) {
    const { node, eipV4, eipV6 } = policy.status;
    const gateway = gateways.get(policy.spec.gatewayName);
    if (!node || !gateway || (!policy.spec.useNodeIP && !eipV4 && !eipV6)) continue;
    if (!eligibleGatewayNodes(gateway, snapshot.nodes).includes(node)) continue;
    computed.set(policy.key, {
      policyKey: policy.key,
      gatewayName: gateway.name,
      ...(policy.spec.useNodeIP ? {} : { ...(eipV4 ? { eipV4 } : {}), ...(eipV6 ? { eipV6 } : {}) }),
      useNodeIP: policy.spec.useNodeIP,
      node,
      active: true,
    });
  }
  return computed;
}

/** What the planner knows of every node: tunnel identity from EgressTunnel status, else computed. */
export interface NodeDirectoryEntry extends TunnelAssignment {
  readonly info?: NodeInfo;
  readonly underlayIp?: string;
}

export function nodeDirectory(snapshot: Snapshot): Map<string, NodeDirectoryEntry> {
  const computed = assignTunnels(snapshot.nodes, snapshot.gateways, snapshot.tunnels, snapshot.config);
  const infos = new Map(snapshot.nodes.map((n) => [n.name, n]));
  const out = new Map<string, NodeDirectoryEntry>();
  const names = new Set([...infos.keys(), ...snapshot.tunnels.map((t) => t.node)]);
  const statusByNode = new Map(snapshot.tunnels.map((t) => [t.node, t]));
  for (const name of [...names].sort()) {
    const status = statusByNode.get(name);
    const base = computed.get(name);
    const info = infos.get(name);
    const merged: NodeDirectoryEntry = {
      node: name,
      mac: status?.mac ?? base?.mac ?? '',
      parentName: status?.parentName ?? base?.parentName ?? snapshot.config.defaultInterface,
      ...pick('ipv4', status?.ipv4 ?? base?.ipv4),
      ...pick('ipv6', status?.ipv6 ?? base?.ipv6),
      ...pick('markIndex', status?.markIndex ?? base?.markIndex),
      ...pick('parentIpv4', info?.ipv4 ?? status?.parentIpv4),
      ...pick('parentIpv6', info?.ipv6 ?? status?.parentIpv6),
      ...pick('underlayIp', info?.ipv4 ?? status?.parentIpv4 ?? info?.ipv6 ?? status?.parentIpv6),
      ...(info ? { info } : {}),
    };
    out.set(name, merged);
  }
  return out;
}

function pick<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}

export function endpointsOf(policy: Policy, snapshot: Snapshot): Endpoint[] {
  return snapshot.pods ? selectEndpoints(policy, snapshot.pods, snapshot.namespaces) : endpointsFromSlices(policy, snapshot.slices);
}
