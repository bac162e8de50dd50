import type { NodePlan } from '../../lib/planner/node-plan.js';
import type { ProbeFacts } from '../../lib/planner/probe-facts.js';
import { eligibleNodes, nodeDirectory, resolveCluster } from '../../lib/planner/resolve.js';
import type { Snapshot } from '../../lib/planner/snapshot.js';

/** Egress IP → the node that carries it in a plan (every node's plan names every carrier). */
export function carriersOf(p: NodePlan): Map<string, string> {
  const out = new Map<string, string>();
  for (const x of p.policies) {
    if (!x.active || !x.node || x.useNodeIP) continue;
    if (x.eipV4) out.set(x.eipV4, x.node);
    if (x.eipV6) out.set(x.eipV6, x.node);
  }
  return out;
}

/**
 * Those of `eips` that, with this node out, no node fit by the probes would carry for every policy
 * that uses them (a handoff to nobody, or to a dead or unfit node, would only withdraw them).
 */
export function withoutSuccessor(snapshot: Snapshot, facts: ProbeFacts, nodeName: string, eips: readonly string[]): Set<string> {
  const orphans = new Set<string>();
  if (eips.length === 0) return orphans;
  const without = { ...facts, unfit: [...facts.unfit.filter((n) => n !== nodeName), nodeName], dead: facts.dead.filter((n) => n !== nodeName) };
  // with nobody fit, eligible falls back on unfit nodes (resolve.ts): none of them is a successor
  const unfit = new Set([...facts.dead, ...facts.unfit]);
  const held = new Set(eips);
  for (const a of resolveCluster({ ...snapshot, probes: without }).assignment.policies.values()) {
    if (a.useNodeIP) continue;
    const uses = [a.eipV4, a.eipV6].filter((ip): ip is string => ip !== undefined && held.has(ip));
    if (uses.length === 0) continue;
    if (!a.node || a.node === nodeName || unfit.has(a.node)) for (const ip of uses) orphans.add(ip);
  }
  return orphans;
}

/** Whether every one of `eips` has a successor (see withoutSuccessor). */
export function hasSuccessor(snapshot: Snapshot, facts: ProbeFacts, nodeName: string, eips: readonly string[]): boolean {
  return withoutSuccessor(snapshot, facts, nodeName, eips).size === 0;
}

/** Whether another node could carry every egress IP this node carries by the API alone. */
export function replaceable(snapshot: Snapshot, nodeName: string): boolean {
  const eips = new Set<string>();
  for (const a of resolveCluster(snapshot).assignment.policies.values()) {
    if (a.node !== nodeName || a.useNodeIP) continue;
    if (a.eipV4) eips.add(a.eipV4);
    if (a.eipV6) eips.add(a.eipV6);
  }
  return hasSuccessor(snapshot, { unfit: [], dead: [], holders: new Map() }, nodeName, [...eips]);
}

/**
 * Whether every gateway this node may serve has another node that is fit by the probes (eligible
 * with this node aside, and not only because every other one is dead): only then may the node
 * stand aside after its start. Were it to stand aside otherwise, its gateway would have no node
 * at all, and the gateway's policies would be inactive (their pods leaving by the node's path).
 */
export function othersServe(snapshot: Snapshot, facts: ProbeFacts, nodeName: string): boolean {
  const { directory } = nodeDirectory(snapshot);
  const others = facts.unfit.filter((n) => n !== nodeName);
  const withSelf = eligibleNodes({ ...snapshot, probes: { ...facts, unfit: others } }, directory);
  const without = eligibleNodes({ ...snapshot, probes: { ...facts, unfit: [...others, nodeName].sort() } }, directory);
  // eligible may fall back on unfit nodes (the probes never leave a gateway no node): those serve nothing here
  const unfit = new Set([...facts.dead, ...others]);
  for (const [gateway, nodes] of withSelf) {
    if (!nodes.includes(nodeName)) continue;
    if (!(without.get(gateway) ?? []).some((n) => n !== nodeName && !unfit.has(n))) return false;
  }
  return true;
}
