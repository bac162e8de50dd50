/**
 * What the lab kubelet must change in the kernel, pure: the pod namespaces to remove (their Pod object is
 * gone, replaced, terminating or moved) and the Pod objects on lab nodes that still need one. Pods on a
 * failed node wait: that node's kubelet cannot hear about them until the link is back.
 */
import type { LabState, PodState } from '../state.js';
import type { PodObject } from './kube-types.js';
import { isTerminal } from './pod-objects.js';

export interface PodSyncPlan {
  remove: PodState[];
  add: PodObject[];
  /** Pods whose labels changed in the API: info.pods shows the new ones. */
  relabel: Array<{ made: PodState; labels: Record<string, string> }>;
}

export function planPodSync(s: LabState, pods: readonly PodObject[]): PodSyncPlan {
  const nodes = new Map(s.nodes.map((n) => [n.name, n]));
  const wanted = new Map<string, PodObject>();
  for (const p of pods) {
    const node = p.spec?.nodeName;
    if (p.metadata.uid && node && nodes.has(node) && !p.metadata.deletionTimestamp && !isTerminal(p)) wanted.set(p.metadata.uid, p);
  }
  // Pods made without the API (no uid) are not the kubelet's business.
  const remove = s.pods.filter((m) => m.uid !== undefined && wanted.get(m.uid)?.spec?.nodeName !== m.node);
  const kept = s.pods.filter((m) => !remove.includes(m));
  const add = [...wanted.values()].filter(
    (p) => !kept.some((m) => m.uid === p.metadata.uid || (m.namespace === p.metadata.namespace && m.name === p.metadata.name)) && !nodes.get(p.spec!.nodeName!)!.failed,
  );
  const relabel = kept.flatMap((made) => {
    const p = made.uid === undefined ? undefined : wanted.get(made.uid);
    const labels = p?.metadata.labels ?? {};
    return p && !sameLabels(labels, made.labels) ? [{ made, labels: { ...labels } }] : [];
  });
  return { remove, add, relabel };
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => b[k] === a[k]);
}

export const isEmptyPlan = (p: PodSyncPlan) => p.remove.length + p.add.length + p.relabel.length === 0;
