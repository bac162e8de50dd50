import type { ClusterInfo, NodeInfo } from '../api/model.js';
import { formatInterval, mergeIntervals, parseCidr, parseIpSpec, type IpInterval } from '../api/ip.js';

/** The destinations that count as inside the cluster, grouped as EgressClusterInfo status shows them. */
export interface ClusterCidrs {
  readonly podCIDR: readonly string[];
  readonly clusterIP: readonly string[];
  readonly nodeIP: readonly string[];
  readonly extraCidr: readonly string[];
}

const DEFAULT_INFO: ClusterInfo = { podCidrMode: 'k8s', detectClusterIP: true, detectNodeIP: true, extraCidr: [] };

/** Sorted, without duplicates or entries inside another; each stays a CIDR or address, as users read them. */
function canonical(intervals: IpInterval[]): string[] {
  const sorted = [...intervals].sort((a, b) => a.family - b.family || (a.start < b.start ? -1 : a.start > b.start ? 1 : b.end > a.end ? 1 : b.end < a.end ? -1 : 0));
  const kept: IpInterval[] = [];
  for (const iv of sorted) {
    const last = kept[kept.length - 1];
    if (last && last.family === iv.family && iv.start >= last.start && iv.end <= last.end) continue;
    kept.push(iv);
  }
  return kept.map(formatInterval);
}

/** Computes the CIDRs in force from nodes, the cluster info spec and the configured service CIDRs. */
export function computeClusterCidrs(nodes: readonly NodeInfo[], info: ClusterInfo | undefined, serviceCidrs: readonly string[]): ClusterCidrs {
  const spec = info ?? DEFAULT_INFO;
  const pod = spec.podCidrMode === 'none' ? [] : nodes.flatMap((n) => n.podCIDRs.map((c) => parseCidr(c, false)));
  const svc = spec.detectClusterIP ? serviceCidrs.map((c) => parseCidr(c, false)) : [];
  const nodeIps = spec.detectNodeIP ? nodes.flatMap((n) => [n.ipv4, n.ipv6].filter((ip): ip is string => !!ip).map((ip) => parseIpSpec(ip))) : [];
  return {
    podCIDR: canonical(pod),
    clusterIP: canonical(svc),
    nodeIP: canonical(nodeIps),
    extraCidr: canonical([...spec.extraCidr]),
  };
}

/**
 * The CIDRs the planner excludes: the controller's status when it has written one (agents on
 * workers do not see every node), otherwise computed from what the snapshot holds.
 */
export function clusterCidrsInForce(nodes: readonly NodeInfo[], info: ClusterInfo | undefined, serviceCidrs: readonly string[]): ClusterCidrs {
  const status = info?.status;
  const computed = computeClusterCidrs(nodes, info, serviceCidrs);
  if (!status || (status.podCIDR.length === 0 && status.nodeIP.length === 0 && status.clusterIP.length === 0)) return computed;
  return { ...status, extraCidr: computed.extraCidr };
}

export function allClusterIntervals(cidrs: ClusterCidrs): IpInterval[] {
  const texts = [...cidrs.podCIDR, ...cidrs.clusterIP, ...cidrs.nodeIP, ...cidrs.extraCidr];
  const out: IpInterval[] = [];
  for (const t of texts) {
    try {
      out.push(parseIpSpec(t));
    } catch {
      // status written by an older controller may hold junk; it is re-written on the next sync
    }
  }
  return mergeIntervals(out);
}
