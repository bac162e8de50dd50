import type { ClusterInfo, NodeInfo } from '../api/model.js';
import { formatInterval, intervalsOverlap, mergeIntervals, parseCidr, parseIp, parseIpSpec, type IpInterval } from '../api/ip.js';
import type { AgentConfig } from './config.js';

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

/** What counts as inside the cluster on one node, and what of EgressClusterInfo status it did not use. */
export interface ClusterInForce {
  readonly cidrs: ClusterCidrs;
  /** All four lists, merged: the nft cluster sets. */
  readonly intervals: readonly IpInterval[];
  /** Where pods live, as far as known: the pod CIDRs in force and extraCidr (empty when neither is). */
  readonly podRanges: readonly IpInterval[];
  /** Node InternalIPs and pod CIDRs in force: what may never be an egress IP. */
  readonly clusterAddresses: readonly IpInterval[];
  /** One sentence per status field with entries left out (`sluice plan` lists them). */
  readonly notices: readonly string[];
}

const SHOWN_PER_FIELD = 3;

/**
 * What counts as inside the cluster. Node IPs, service CIDRs and extraCidr are known without the
 * controller's status: the addresses of every node this agent knows (its Node objects and every
 * node's EgressTunnel), the configured service CIDRs (the controller reads the same
 * sluice-config) and the spec. Only the pod CIDRs of nodes out of view come from status, and only
 * those that can be pod CIDRs: not a default route, no node's address inside, clear of the
 * tunnel and service ranges, and only while podCidrMode asks for them. Status is input like any
 * other (anything with its write permission could forge it), and a forged entry such as
 * `nodeIP: 0.0.0.0/0` would otherwise make every destination count as inside the cluster.
 */
export function clusterInForce(nodes: readonly NodeInfo[], info: ClusterInfo | undefined, config: AgentConfig, nodeAddresses: readonly string[]): ClusterInForce {
  const spec = info ?? DEFAULT_INFO;
  const status = info?.status;
  const notices: string[] = [];
  const report = (field: string, left: readonly { text: string; why: string }[]) => {
    if (left.length === 0) return;
    const shown = left
      .slice(0, SHOWN_PER_FIELD)
      .map((l) => `${l.text} (${l.why})`)
      .join(', ');
    const more = left.length > SHOWN_PER_FIELD ? ` and ${left.length - SHOWN_PER_FIELD} more` : '';
    notices.push(`EgressClusterInfo status.${field}: ${shown}${more} not used`);
  };

  const nodeIntervals = nodeAddresses.map((a) => parseIpSpec(a));
  const nodeIP = spec.detectNodeIP ? canonical(nodeIntervals) : [];
  const known = new Set(nodeIP);
  report(
    'nodeIP',
    (status?.nodeIP ?? []).filter((t) => !known.has(t)).map((text) => ({ text, why: spec.detectNodeIP ? "not a node's address" : 'autoDetect.nodeIP is off' })),
  );

  const configuredServices = config.serviceCidrs.map((c) => parseCidr(c, false));
  const clusterIP = spec.detectClusterIP ? canonical(configuredServices) : [];
  const services = new Set(clusterIP);
  report(
    'clusterIP',
    (status?.clusterIP ?? [])
      .filter((t) => !services.has(t))
      .map((text) => ({ text, why: spec.detectClusterIP ? 'not a configured service CIDR' : 'autoDetect.clusterIP is off' })),
  );

  const tunnels = [parseCidr(config.tunnelCidrV4, false), parseCidr(config.tunnelCidrV6, false)];
  const whyNotPodCidr = (iv: IpInterval): string | undefined => {
    if (spec.podCidrMode === 'none') return 'podCidrMode is none';
    if (iv.start === 0n && iv.end === (iv.family === 4 ? 0xffffffffn : (1n << 128n) - 1n)) return 'a default route';
    const node = nodeIntervals.find((n) => intervalsOverlap(n, iv));
    if (node) return `holds node address ${formatInterval(node)}`;
    if (tunnels.some((t) => intervalsOverlap(t, iv))) return 'overlaps the tunnel range';
    const svc = configuredServices.find((s) => intervalsOverlap(s, iv));
    if (svc) return `overlaps service CIDR ${formatInterval(svc)}`;
    return undefined;
  };
  const pod = spec.podCidrMode === 'none' ? [] : nodes.flatMap((n) => n.podCIDRs.map((c) => parseCidr(c, false)));
  const leftPods: { text: string; why: string }[] = [];
  for (const text of status?.podCIDR ?? []) {
    const iv = parseIpSpec(text);
    const why = whyNotPodCidr(iv);
    if (why) leftPods.push({ text, why });
    else pod.push(iv);
  }
  report('podCIDR', leftPods);

  const cidrs: ClusterCidrs = { podCIDR: canonical(pod), clusterIP, nodeIP, extraCidr: canonical([...spec.extraCidr]) };
  const parse = (texts: readonly string[]) => texts.map((t) => parseIpSpec(t));
  return {
    cidrs,
    intervals: mergeIntervals(parse([...cidrs.podCIDR, ...cidrs.clusterIP, ...cidrs.nodeIP, ...cidrs.extraCidr])),
    podRanges: mergeIntervals(parse([...cidrs.podCIDR, ...cidrs.extraCidr])),
    clusterAddresses: mergeIntervals([...nodeIntervals, ...pod]),
    notices,
  };
}

/** Whether `ip` is inside the cluster by these CIDRs. */
export function insideCluster(cluster: ClusterInForce, ip: string): boolean {
  const { family, value } = parseIp(ip);
  return cluster.intervals.some((iv) => iv.family === family && value >= iv.start && value <= iv.end);
}
