/**
 * The lab scheduler, pure: a pod without spec.nodeName goes to the schedulable node with the fewest pods,
 * workers first (gateways only when no worker fits). Honours nodeSelector, spec.unschedulable, Ready and
 * NoSchedule/NoExecute taints with tolerations; ignores affinity, resources and topology spread.
 */
import type { NodeRole } from '../state.js';
import { conditionOf, type NodeObject, type PodObject, type Taint, type Toleration } from './kube-types.js';

export interface Candidate {
  role: NodeRole;
  node: NodeObject;
}

export function pickNode(pod: PodObject, candidates: readonly Candidate[], podsOn: (node: string) => number): string | undefined {
  const selector = pod.spec?.nodeSelector ?? {};
  const tolerations = pod.spec?.tolerations ?? [];
  const fit = candidates.filter(({ node }) => {
    const labels = node.metadata.labels ?? {};
    return (
      node.spec?.unschedulable !== true &&
      conditionOf(node.status?.conditions, 'Ready')?.status === 'True' &&
      Object.entries(selector).every(([k, v]) => labels[k] === v) &&
      (node.spec?.taints ?? []).every((t) => t.effect === 'PreferNoSchedule' || tolerations.some((tol) => tolerates(tol, t)))
    );
  });
  const pool = fit.some((c) => c.role === 'worker') ? fit.filter((c) => c.role === 'worker') : fit;
  let best: string | undefined;
  for (const { node } of pool) {
    if (best === undefined || podsOn(node.metadata.name) < podsOn(best)) best = node.metadata.name;
  }
  return best;
}

export function tolerates(tol: Toleration, taint: Taint): boolean {
  if (tol.effect && tol.effect !== taint.effect) return false;
  if (tol.operator === 'Exists') return tol.key === undefined || tol.key === '' || tol.key === taint.key;
  return tol.key === taint.key && (tol.value ?? '') === (taint.value ?? '');
}
