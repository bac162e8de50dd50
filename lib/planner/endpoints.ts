import type { Endpoint, NamespaceInfo, PodInfo, Policy, EndpointSlice } from '../api/model.js';
import { selectorMatches } from '../api/labels.js';
import { intervalsContain } from '../api/ip.js';
import { byString } from './order.js';

function namespaceSelected(policy: Policy, namespace: string, namespaces: ReadonlyMap<string, NamespaceInfo>): boolean {
  if (policy.kind === 'EgressPolicy') return policy.namespace === namespace;
  const selector = policy.spec.namespaceSelector;
  if (!selector) return true;
  const ns = namespaces.get(namespace);
  return selectorMatches(selector, ns?.labels ?? { 'kubernetes.io/metadata.name': namespace });
}

/**
 * The pods a policy selects, as endpoints: eligible pods (Running, Ready, with IPs) whose
 * namespace and labels match, or whose IPs fall in podSubnet (then only those IPs are listed).
 */
export function selectEndpoints(policy: Policy, pods: readonly PodInfo[], namespaces: readonly NamespaceInfo[]): Endpoint[] {
  const nsByName = new Map(namespaces.map((n) => [n.name, n]));
  const out: Endpoint[] = [];
  for (const pod of pods) {
    if (!pod.eligible || !pod.node) continue;
    if (!namespaceSelected(policy, pod.namespace, nsByName)) continue;
    let ipv4 = pod.ipv4;
    let ipv6 = pod.ipv6;
    if (policy.spec.podSelector) {
      if (!selectorMatches(policy.spec.podSelector, pod.labels)) continue;
    } else {
      ipv4 = ipv4.filter((ip) => intervalsContain(policy.spec.podSubnet, ip));
      ipv6 = ipv6.filter((ip) => intervalsContain(policy.spec.podSubnet, ip));
      if (ipv4.length === 0 && ipv6.length === 0) continue;
    }
    out.push({ namespace: pod.namespace, pod: pod.name, node: pod.node, ipv4: [...ipv4], ipv6: [...ipv6] });
  }
  return out.sort(byString((e) => `${e.namespace}/${e.pod}`));
}

/** Endpoints from slices, when the agent does not watch pods itself. */
export function endpointsFromSlices(policy: Policy, slices: readonly EndpointSlice[]): Endpoint[] {
  return slices
    .filter((s) => s.policyKey === policy.key)
    .flatMap((s) => s.endpoints)
    .sort(byString((e) => `${e.namespace}/${e.pod}`));
}
