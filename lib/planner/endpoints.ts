import type { Endpoint, Firewall, NamespaceInfo, PodInfo, Policy } from '../api/model.js';
import { selectorMatches } from '../api/labels.js';
import { intervalsContain } from '../api/ip.js';

function namespaceSelected(policy: Policy, namespace: string, namespaces: ReadonlyMap<string, NamespaceInfo>): boolean {
  if (policy.kind === 'EgressPolicy') return policy.namespace === namespace;
  const selector = policy.spec.namespaceSelector;
  if (!selector) return true;
  const ns = namespaces.get(namespace);
  return selectorMatches(selector, ns?.labels ?? { 'kubernetes.io/metadata.name': namespace });
}

/** Whether a policy selects by source CIDR alone: a cluster-wide podSubnet, the kernel matches the CIDR. */
export function selectsBySourceCidr(policy: Policy): boolean {
  return !policy.spec.podSelector && policy.kind === 'EgressClusterPolicy' && !policy.spec.namespaceSelector;
}

function sortedByPod(endpoints: Endpoint[]): Endpoint[] {
  return endpoints
    .map((e) => ({ key: `${e.namespace}/${e.pod}`, e }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map((x) => x.e);
}

const podsByNamespace = new WeakMap<readonly PodInfo[], Map<string, PodInfo[]>>();

function podsOf(pods: readonly PodInfo[], namespace: string): readonly PodInfo[] {
  let index = podsByNamespace.get(pods);
  if (!index) {
    index = new Map();
    for (const pod of pods) {
      const list = index.get(pod.namespace);
      if (list) list.push(pod);
      else index.set(pod.namespace, [pod]);
    }
    podsByNamespace.set(pods, index);
  }
  return index.get(namespace) ?? [];
}

/**
 * The pods a policy selects, as endpoints: eligible pods (Running, Ready, with IPs) whose
 * namespace and labels match, or whose IPs fall in podSubnet (then only those IPs are listed).
 * A namespaced policy only ever sees the pods of its own namespace.
 */
export function selectEndpoints(policy: Policy, pods: readonly PodInfo[], namespaces: readonly NamespaceInfo[]): Endpoint[] {
  const nsByName = new Map(namespaces.map((n) => [n.name, n]));
  const out: Endpoint[] = [];
  const candidates = policy.kind === 'EgressPolicy' ? podsOf(pods, policy.namespace) : pods;
  for (const pod of candidates) {
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
  return sortedByPod(out);
}

/**
 * The pods a firewall applies to, as endpoints: eligible pods of its namespace (EgressFirewall) or
 * of the namespaces its namespaceSelector matches (EgressClusterFirewall, all when absent), whose
 * labels match appliedTo.podSelector (every pod when absent).
 */
export function selectFirewallEndpoints(firewall: Firewall, pods: readonly PodInfo[], namespaces: readonly NamespaceInfo[]): Endpoint[] {
  const nsByName = new Map(namespaces.map((n) => [n.name, n]));
  const out: Endpoint[] = [];
  const candidates = firewall.kind === 'EgressFirewall' ? podsOf(pods, firewall.namespace) : pods;
  const nsSelector = firewall.spec.namespaceSelector;
  for (const pod of candidates) {
    if (!pod.eligible || !pod.node) continue;
    if (firewall.kind === 'EgressClusterFirewall' && nsSelector) {
      const ns = nsByName.get(pod.namespace);
      if (!selectorMatches(nsSelector, ns?.labels ?? { 'kubernetes.io/metadata.name': pod.namespace })) continue;
    }
    if (firewall.spec.podSelector && !selectorMatches(firewall.spec.podSelector, pod.labels)) continue;
    out.push({ namespace: pod.namespace, pod: pod.name, node: pod.node, ipv4: [...pod.ipv4], ipv6: [...pod.ipv6] });
  }
  return sortedByPod(out);
}
