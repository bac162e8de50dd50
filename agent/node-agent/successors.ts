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
 * Whether, with this node out, a node that is not dead by the probes would carry every policy that
 * uses one of `eips` (a handoff to nobody, or to a dead node, would only withdraw them).
 */
export function hasSuccessor(snapshot: Snapshot, facts: ProbeFacts, nodeName: string, eips: readonly string[]): boolean {
  const without = { ...facts, unfit: [...facts.unfit.filter((n) => n !== nodeName), nodeName], dead: facts.dead.filter((n) => n !== nodeName) };
  const dead = new Set(facts.dead);
  const held = new Set(eips);
  for (const a of resolveCluster({ ...snapshot, probes: without }).assignment.policies.values()) {
    if (a.useNodeIP || !((a.eipV4 && held.has(a.eipV4)) || (a.eipV6 && held.has(a.eipV6)))) continue;
    if (!a.node || a.node === nodeName || dead.has(a.node)) return false;
  }
  return true;
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
  const dead = new Set(facts.dead);
  for (const [gateway, nodes] of withSelf) {
    if (!nodes.includes(nodeName)) continue;
    if (!(without.get(gateway) ?? []).some((n) => n !== nodeName && !dead.has(n))) return false;
  }
  return true;
}
