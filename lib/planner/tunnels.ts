import type { Gateway, NodeInfo, Policy, Tunnel } from '../api/model.js';
import { selectorMatches } from '../api/labels.js';
import { addressAt, parseCidr, parseIp, type IpInterval } from '../api/ip.js';
import type { AgentConfig } from './config.js';
import { markIndexOf, maxMarkIndex } from './config.js';
import type { NodePlan } from './node-plan.js';
import { shortHash } from './hrw.js';

/** Tunnel identity of one node, as the controller writes it into EgressTunnel status. */
export interface TunnelAssignment {
  readonly node: string;
  readonly ipv4?: string;
  readonly ipv6?: string;
  readonly mac: string;
  readonly markIndex?: number;
  readonly parentName: string;
  readonly parentIpv4?: string;
  readonly parentIpv6?: string;
}

/** Locally administered unicast MAC derived from the node name: stable across restarts. */
function tunnelMac(node: string): string {
  const hex = shortHash(`vxlan#${node}`, 10);
  return ['02', ...hex.match(/../g)!].join(':');
}

function offsetIn(cidr: IpInterval, ip: string | undefined): bigint | undefined {
  if (!ip) return undefined;
  const { family, value } = parseIp(ip);
  if (family !== cidr.family || value <= cidr.start || value >= cidr.end) return undefined;
  return value - cidr.start;
}

/** What decides which nodes need a routing mark, tunnel peers and probes. */
export interface CapableInput {
  readonly nodes: readonly NodeInfo[];
  readonly gateways: readonly Gateway[];
  readonly policies: readonly Policy[];
  /** Who holds which egress IP now by the probes (Snapshot.probes); absent: status alone names carriers. */
  readonly probes?: { readonly holders: ReadonlyMap<string, readonly string[]> };
}

/** The nodes policies' status names as their carrier now. */
export function statusCarriers(policies: readonly Policy[]): Set<string> {
  return new Set(policies.map((p) => p.status.node).filter((n): n is string => n !== undefined));
}

/**
 * The nodes that hold, by the probes, an egress IP a policy's status names: a carrier handing its
 * EIPs over still holds them after status names its successor (the controller writes the successor
 * at once when the carrier leaves the nodeSelector, before the successor has taken them).
 */
export function probedCarriers(input: CapableInput): Set<string> {
  const out = new Set<string>();
  if (!input.probes || input.probes.holders.size === 0) return out;
  for (const p of input.policies) {
    for (const ip of [p.status.eipV4, p.status.eipV6]) {
      if (ip !== undefined) for (const node of input.probes.holders.get(ip) ?? []) out.add(node);
    }
  }
  return out;
}

/**
 * Nodes that may carry a policy (a gateway's nodeSelector matches them) or carry one now (a
 * policy's status.node, or a node that holds a policy's EIP by the probes): they need a routing
 * mark, workers keep a table and a tunnel peer towards them, and they are probed. A carrier that
 * left every nodeSelector stays in while status names it and then while it still holds the EIPs
 * (probedCarriers): workers keep steering to it until the successor holds them
 * (make-before-break), and a worker steering to a node without a mark would have no mark to set
 * (it would drop the pods' traffic instead). An agent watches only the nodes a nodeSelector
 * matches, so such a carrier may be known by its EgressTunnel alone: carriers count whether or
 * not `nodes` lists them.
 */
export function gatewayCapableNodes(input: CapableInput): Set<string> {
  const out = statusCarriers(input.policies);
  for (const n of probedCarriers(input)) out.add(n);
  for (const n of input.nodes) if (input.gateways.some((g) => selectorMatches(g.nodeSelector, n.labels))) out.add(n.name);
  return out;
}

/**
 * Assigns every node a tunnel IPv4/IPv6 (same host offset in both CIDRs) and every gateway-capable
 * node a mark index. Values already in `existing` are kept when valid and unique; new nodes take
 * the smallest free values in name order. Pure: the controller persists the result.
 *
 * A carrier that `nodes` does not list (an agent's view after the node left every nodeSelector)
 * keeps its tunnel identity as `existing` has it, mark included when valid and unique; it gets
 * no new values. Its entry has no `parentIpv4`/`parentIpv6` unless `existing` has them.
 *
 * `lastMarks` are the marks of the caller's last result, and they come first: a node keeps the
 * mark it had (when still valid and unique), status decides only for nodes new to the caller.
 * Status is untrusted (any node may write it), and a mark is a routing detail of each node's own
 * plan (workers need not agree on them): following a forged or lost status would move a
 * gateway's flows to another rule and table, or swap two gateways' marks, for nothing.
 */
export function assignTunnels(
  cluster: CapableInput,
  existing: readonly Tunnel[],
  config: AgentConfig,
  lastMarks: Readonly<Record<string, number>> = {},
): Map<string, TunnelAssignment> {
  const { nodes } = cluster;
  const cidr4 = parseCidr(config.tunnelCidrV4);
  const cidr6 = parseCidr(config.tunnelCidrV6);
  const capable = gatewayCapableNodes(cluster);
  const byNode = new Map(existing.map((t) => [t.node, t]));
  const listed = new Set(nodes.map((n) => n.name));
  const absent = [...capable].filter((name) => !listed.has(name) && byNode.has(name));
  const sorted = [...nodes].sort((a, b) => (a.name < b.name ? -1 : 1));
  const usedOffsets = new Set<bigint>();
  const usedMarks = new Set<number>();
  const offsets = new Map<string, bigint>();
  const marks = new Map<string, number>();
  const usable = (mark: number | undefined): mark is number => mark !== undefined && Number.isInteger(mark) && mark >= 1 && mark <= maxMarkIndex(config);
  const keepMark = (name: string, mark: number | undefined) => {
    if (capable.has(name) && !marks.has(name) && usable(mark) && !usedMarks.has(mark)) {
      usedMarks.add(mark);
      marks.set(name, mark);
    }
  };
  const everyNode = [...sorted, ...absent.map((name) => ({ name }))].sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const node of everyNode) keepMark(node.name, lastMarks[node.name]);
  for (const node of everyNode) {
    const prev = byNode.get(node.name);
    const off = offsetIn(cidr4, prev?.ipv4);
    if (off !== undefined && !usedOffsets.has(off)) {
      usedOffsets.add(off);
      offsets.set(node.name, off);
    }
    keepMark(node.name, prev?.markIndex);
  }
  let nextOffset = 1n;
  let nextMark = 1;
  for (const node of sorted) {
    if (!offsets.has(node.name)) {
      while (usedOffsets.has(nextOffset)) nextOffset++;
      if (cidr4.start + nextOffset < cidr4.end) {
        offsets.set(node.name, nextOffset);
        usedOffsets.add(nextOffset);
      }
    }
    if (capable.has(node.name) && !marks.has(node.name)) {
      while (usedMarks.has(nextMark)) nextMark++;
      if (nextMark <= maxMarkIndex(config)) {
        marks.set(node.name, nextMark);
        usedMarks.add(nextMark);
      }
    }
  }
  const result = new Map<string, TunnelAssignment>();
  for (const name of absent.sort()) {
    const prev = byNode.get(name)!;
    const mark = marks.get(name);
    result.set(name, {
      node: name,
      ...(prev.ipv4 ? { ipv4: prev.ipv4 } : {}),
      ...(prev.ipv6 ? { ipv6: prev.ipv6 } : {}),
      mac: tunnelMac(name),
      ...(mark !== undefined ? { markIndex: mark } : {}),
      parentName: prev.parentName ?? config.defaultInterface,
      ...(prev.parentIpv4 ? { parentIpv4: prev.parentIpv4 } : {}),
      ...(prev.parentIpv6 ? { parentIpv6: prev.parentIpv6 } : {}),
    });
  }
  for (const node of sorted) {
    const prev = byNode.get(node.name);
    const off = offsets.get(node.name);
    const ipv4 = off !== undefined ? addressAt(cidr4, off) : undefined;
    const ipv6 = off !== undefined && cidr6.start + off < cidr6.end ? addressAt(cidr6, off) : undefined;
    const mark = marks.get(node.name);
    result.set(node.name, {
      node: node.name,
      ...(ipv4 ? { ipv4 } : {}),
      ...(ipv6 ? { ipv6 } : {}),
      mac: tunnelMac(node.name),
      ...(mark !== undefined ? { markIndex: mark } : {}),
      parentName: prev?.parentName ?? config.defaultInterface,
      ...(node.ipv4 ? { parentIpv4: node.ipv4 } : {}),
      ...(node.ipv6 ? { parentIpv6: node.ipv6 } : {}),
    });
  }
  return result;
}

/** The mark index of each node in a plan: what its next plan passes as `lastMarks`. */
export function markIndexes(plan: Pick<NodePlan, 'marks'>): Record<string, number> {
  const config = { markMask: plan.marks.mask };
  return Object.fromEntries(Object.entries(plan.marks.gateways).map(([node, value]) => [node, markIndexOf(config, value)]));
}
