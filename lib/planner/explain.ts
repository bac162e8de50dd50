import { EgressError } from '../errors.js';
import { intervalsContain, isIp, parseIpSpec } from '../api/ip.js';
import type { Snapshot } from './snapshot.js';
import { plan } from './plan.js';
import { comparePolicies } from './order.js';
import { endpointsByPolicy, resolveCluster } from './resolve.js';
import { selectsBySourceCidr } from './endpoints.js';
import { insideCluster } from './cluster-cidrs.js';
import type { PolicyPlan } from './node-plan.js';

interface PolicyVerdict {
  readonly policy: string;
  readonly selected: boolean;
  readonly matches: boolean;
  readonly why: string;
}

export interface Explanation {
  readonly pod: string;
  readonly node: string;
  readonly podIps: readonly string[];
  readonly destination?: string;
  /** The source address an external host sees, when it can be known. */
  readonly leavesAs?: string;
  readonly path: 'gateway-tunnel' | 'gateway-local' | 'node' | 'cluster';
  readonly policy?: string;
  readonly gatewayNode?: string;
  readonly summary: string;
  readonly verdicts: readonly PolicyVerdict[];
}

function destinationVerdict(p: PolicyPlan, snapshot: Snapshot, dest: string | undefined): string | undefined {
  if (!dest) return undefined;
  const policy = snapshot.policies.find((x) => x.key === p.key)!;
  if (policy.spec.destSubnet.length && !intervalsContain(policy.spec.destSubnet, dest)) return `${dest} is not in spec.destSubnet`;
  if (intervalsContain(policy.spec.excludeDestSubnet, dest)) return `${dest} is in spec.excludeDestSubnet`;
  return undefined;
}

/**
 * Why does this pod's traffic (to `dest`, when given) leave the way it does? Walks the policies
 * in resolution order as the node's nft chain does and reports each verdict.
 */
export function explain(snapshot: Snapshot, podKey: string, dest?: string): Explanation {
  const [ns, name] = podKey.split('/');
  const pod = snapshot.pods?.find((p) => p.namespace === ns && p.name === name);
  if (!pod) throw new EgressError('EGW_ERR_PLAN', `pod "${podKey}" is not in the cluster snapshot (give it as namespace/name)`);
  if (dest !== undefined && !isIp(dest)) throw new EgressError('EGW_ERR_INVALID_IP', `--dest "${dest}" is not an IP address`);
  const family = dest ? parseIpSpec(dest).family : 4;
  const podIps = family === 4 ? pod.ipv4 : pod.ipv6;
  const resolution = resolveCluster(snapshot);
  const nodePlan = plan(snapshot, pod.node, resolution);
  const endpoints = endpointsByPolicy(snapshot, resolution).byPolicy;
  const base = { pod: podKey, node: pod.node, podIps: [...pod.ipv4, ...pod.ipv6], ...(dest ? { destination: dest } : {}) };
  const nodeIp = snapshot.nodes.find((n) => n.name === pod.node);
  const nodeSource = family === 4 ? nodeIp?.ipv4 : nodeIp?.ipv6;

  if (dest && insideCluster(resolution.cluster, dest)) {
    return { ...base, path: 'cluster', summary: `${dest} is inside the cluster (node, pod or service CIDR): never sent to a gateway`, verdicts: [] };
  }
  const verdicts: PolicyVerdict[] = [];
  const byKey = new Map(nodePlan.policies.map((p) => [p.key, p]));
  for (const policy of [...snapshot.policies].sort(comparePolicies)) {
    const p = byKey.get(policy.key)!;
    // As the kernel matches: a cluster-wide podSubnet by source address, anything else by the
    // addresses of the pods the policy selects (a namespaced policy: only in its namespace).
    const selected = selectsBySourceCidr(policy)
      ? podIps.some((ip) => intervalsContain(policy.spec.podSubnet, ip))
      : (endpoints.get(policy.key) ?? []).some((e) => e.namespace === ns && e.pod === name);
    if (!selected) {
      verdicts.push({ policy: p.key, selected, matches: false, why: 'does not select this pod' });
      continue;
    }
    if (!p.active) {
      verdicts.push({ policy: p.key, selected, matches: false, why: `inactive: ${p.reason} (${p.message})` });
      continue;
    }
    const source = family === 4 ? p.snatV4 : p.snatV6;
    if (!source) {
      verdicts.push({ policy: p.key, selected, matches: false, why: `has no IPv${family} source address` });
      continue;
    }
    const destWhy = destinationVerdict(p, snapshot, dest);
    if (destWhy) {
      verdicts.push({ policy: p.key, selected, matches: false, why: destWhy });
      continue;
    }
    verdicts.push({ policy: p.key, selected, matches: true, why: `first match (priority ${p.priority})` });
    const local = p.node === pod.node;
    return {
      ...base,
      leavesAs: source,
      path: local ? 'gateway-local' : 'gateway-tunnel',
      policy: p.key,
      ...(p.node ? { gatewayNode: p.node } : {}),
      summary: `${podKey} leaves as ${source} through ${local ? 'its own node' : `gateway node ${p.node} (VXLAN)`} because of ${p.kind} ${p.key}`,
      verdicts,
    };
  }
  return {
    ...base,
    ...(nodeSource ? { leavesAs: nodeSource } : {}),
    path: 'node',
    summary: `no active policy matches: ${podKey} leaves by its node's normal path${nodeSource ? ` (SNAT to ${nodeSource} by the CNI)` : ''}${podIps.length === 0 ? ` (the pod has no IPv${family} address)` : ''}`,
    verdicts,
  };
}
