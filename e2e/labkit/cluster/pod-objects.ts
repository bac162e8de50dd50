/** Pod objects as the lab makes them (`lab pod`) and the status the lab kubelet reports for them. Pure. */
import type { PodSpec } from '../plugins.js';
import type { NodeState, PodState } from '../state.js';
import { conditionOf, type PodObject, type PodStatus } from './kube-types.js';

/** A pod is only a network namespace; the pause image says so to anyone reading the object. */
export const LAB_POD_IMAGE = 'registry.k8s.io/pause:3.10';

export function podManifest(spec: PodSpec): PodObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: spec.name, namespace: spec.namespace, ...(spec.labels && Object.keys(spec.labels).length > 0 ? { labels: { ...spec.labels } } : {}) },
    spec: {
      containers: [{ name: 'main', image: LAB_POD_IMAGE }],
      ...(spec.node === undefined ? {} : { nodeName: spec.node }),
    },
  };
}

const POD_CONDITIONS = ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'];

/** Running and Ready with the namespace's addresses (IPv4 first), as a kubelet writes it. */
export function runningStatus(pod: PodObject, made: PodState, node: NodeState, now: string): PodStatus {
  const old = pod.status ?? {};
  const since = (type: string) => {
    const c = conditionOf(old.conditions, type);
    return c?.status === 'True' ? (c.lastTransitionTime ?? now) : now;
  };
  return {
    ...old,
    phase: 'Running',
    conditions: POD_CONDITIONS.map((type) => ({ type, status: 'True', lastProbeTime: null, lastTransitionTime: since(type) })),
    hostIP: node.ips[0]!,
    hostIPs: node.ips.map((ip) => ({ ip })),
    podIP: made.ips[0]!,
    podIPs: made.ips.map((ip) => ({ ip })),
    startTime: old.startTime ?? now,
    containerStatuses: (pod.spec?.containers ?? []).map((c) => ({
      name: c.name,
      image: c.image ?? '',
      imageID: '',
      containerID: `netns://${made.netns}`,
      ready: true,
      started: true,
      restartCount: 0,
      state: { running: { startedAt: old.startTime ?? now } },
    })),
  };
}

/** True when the object already says what runningStatus would (so the kubelet writes nothing). */
export function statusIsCurrent(pod: PodObject, made: PodState, node: NodeState): boolean {
  const st = pod.status ?? {};
  return (
    st.phase === 'Running' &&
    st.podIP === made.ips[0] &&
    JSON.stringify((st.podIPs ?? []).map((p) => p.ip)) === JSON.stringify(made.ips) &&
    st.hostIP === node.ips[0] &&
    conditionOf(st.conditions, 'Ready')?.status === 'True'
  );
}

/** What `lab pod` waits for. */
export function isRunningAndReady(pod: PodObject): boolean {
  const st = pod.status ?? {};
  return st.phase === 'Running' && st.podIP !== undefined && conditionOf(st.conditions, 'Ready')?.status === 'True';
}

export function isTerminal(pod: PodObject): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}
