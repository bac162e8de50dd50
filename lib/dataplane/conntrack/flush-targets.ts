import type { NodePlan } from '../../planner/node-plan.js';
import { parseIp, parseIpSpec, type Family, type IpInterval } from '../../api/ip.js';

/**
 * Whose conntrack entries to delete after an apply moved from `previous` to `next`, so no flow
 * keeps a path that is gone. The kernel binds NAT once, when a connection starts: an entry keeps
 * its binding for the connection's life, whatever the rules say later.
 * - `pods`: pod addresses a policy steered here (active, this node's pods) that no active policy
 *   steers now (it went inactive, was deleted, or stopped selecting them). Their flows to external
 *   destinations have entries bound to keep the pod's source into the tunnel; left alone, their
 *   next packets leave by the node's path with the pod's own address (the CNI's masquerade does
 *   not apply to an entry that exists). Deleted, the next packet starts a new entry that the
 *   node's path NATs as it does any pod's (the connection itself may then reset: its source changes).
 * - `eips`: egress IPs this node held and does not now (moved away, withdrawn). Entries SNATed to
 *   them would SNAT a late packet to an address this node no longer answers for.
 * Pods of a policy that selects by podSubnet are not listed (their set is a subnet); entries to
 * cluster destinations (`cluster`) are never touched.
 */
export interface FlushTargets {
  readonly pods: readonly { readonly ip: string; readonly family: Family }[];
  readonly eips: readonly { readonly ip: string; readonly family: Family }[];
  /** Destinations inside the cluster (the plan's cluster sets): their entries stay. */
  readonly cluster: readonly IpInterval[];
}

/** Addresses in the `_loc` sets of the plan's active policies (the pods a policy steers on this node). */
function steeredPods(plan: NodePlan): Map<string, Family> {
  const prefixes = plan.policies.filter((p) => p.active && p.role !== 'none').map((p) => p.setPrefix);
  const out = new Map<string, Family>();
  for (const set of plan.nft.sets) {
    const m = /^(.*)_loc([46])$/.exec(set.name);
    if (!m || !prefixes.includes(m[1]!)) continue;
    for (const ip of set.elements) out.set(ip, Number(m[2]) as Family);
  }
  return out;
}

export function flushTargets(previous: NodePlan | undefined, next: NodePlan): FlushTargets {
  if (!previous) return { pods: [], eips: [], cluster: [] };
  const before = steeredPods(previous);
  const now = steeredPods(next);
  const pods = [...before].filter(([ip]) => !now.has(ip)).map(([ip, family]) => ({ ip, family }));
  const held = new Set(next.eips.map((e) => e.ip));
  const eips = previous.eips.filter((e) => !held.has(e.ip)).map((e) => ({ ip: e.ip, family: e.family }));
  const cluster = next.nft.sets.filter((s) => s.name === 'cluster4' || s.name === 'cluster6').flatMap((s) => s.elements.map((e) => parseIpSpec(e)));
  return { pods: pods.sort((a, b) => a.ip.localeCompare(b.ip)), eips, cluster };
}

/** Whether an address is inside one of the intervals. */
export function insideAny(ip: string, intervals: readonly IpInterval[]): boolean {
  const { family, value } = parseIp(ip);
  return intervals.some((iv) => iv.family === family && value >= iv.start && value <= iv.end);
}
