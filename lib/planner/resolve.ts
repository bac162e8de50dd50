import type { Endpoint, LanLink, NodeInfo } from '../api/model.js';
import { problemText } from '../api/problems.js';
import { parseCidr, parseIp, type IpInterval } from '../api/ip.js';
import { assign, type AssignmentResult, type NodeAddresses } from './assign.js';
import type { LanConflict } from './pools.js';
import { assignTunnels, type TunnelAssignment } from './tunnels.js';
import { selectEndpoints } from './endpoints.js';
import { checkedEndpoints, type CheckedEndpoints } from './endpoint-checks.js';
import { maxMarkIndex } from './config.js';
import type { Snapshot } from './snapshot.js';
import { usableParentInterface } from './parent-interface.js';
import { clusterInForce, type ClusterInForce } from './cluster-cidrs.js';
import { offeredNodes, withoutDrained } from './drained.js';

/** What the planner knows of every node: its tunnel identity, checked, and its Node when visible. */
export interface NodeDirectoryEntry extends TunnelAssignment {
  readonly info?: NodeInfo;
  readonly underlayIp?: string;
  /** Its parent NIC on the LAN, as its agent published it (native routing needs it). */
  readonly lan?: LanLink;
}

/** The cluster as every node sees it: the node directory, who may carry what, and the assignment. */
export interface Resolution {
  readonly directory: ReadonlyMap<string, NodeDirectoryEntry>;
  /** Gateway name → the nodes that may carry its egress IPs now (sorted). */
  readonly eligible: ReadonlyMap<string, readonly string[]>;
  readonly assignment: AssignmentResult;
  /** What counts as inside the cluster (status checked, see clusterInForce). */
  readonly cluster: ClusterInForce;
  /** Status values that were not used, one sentence each (`sluice plan` shows them). */
  readonly notices: readonly string[];
}

/**
 * Nodes that may carry a gateway's egress IPs: matched by its nodeSelector, Ready, reachable, not
 * drained (while another node is not: drained.ts), fit
 * by the probes when the snapshot carries them (alive, healthy, not draining: see probe-facts.ts;
 * the probes never leave a gateway no node the API finds eligible: overlayProbes), and with an
 * underlay address, a tunnel address and a routing mark (without them no worker can reach the
 * node). This is the one definition of "eligible"; the assignment only sees its result.
 */
export function eligibleNodes(snapshot: Snapshot, directory: ReadonlyMap<string, NodeDirectoryEntry>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const dead = new Set(snapshot.probes?.dead ?? []);
  const aside = new Set((snapshot.probes?.unfit ?? []).filter((n) => !dead.has(n)));
  for (const gateway of snapshot.gateways) {
    const usable = offeredNodes(snapshot, gateway.nodeSelector).filter((n) => {
      const d = directory.get(n.name);
      return d !== undefined && d.markIndex !== undefined && (d.ipv4 !== undefined || d.ipv6 !== undefined) && d.underlayIp !== undefined;
    });
    const byApi = withoutDrained(usable)
      .map((n) => n.name)
      .sort();
    out.set(gateway.name, overlayProbes(byApi, aside, dead));
  }
  return out;
}

/**
 * The probes' verdicts on the nodes the API finds eligible for one gateway. They never leave the
 * gateway no node when the API has one: with nobody fit, the deaths are not acted on first (a broad
 * stall or this node's own trouble is likelier than every peer dying), and with nobody left but
 * nodes stepping aside (draining, or a successor still held down or not yet healthy), the API's
 * view stands, so a draining owner keeps its EIPs until a fit successor exists. A gateway with no
 * node would turn its policies inactive mid-flow and let the pods' established flows leave
 * un-NATed.
 */
function overlayProbes(byApi: readonly string[], aside: ReadonlySet<string>, dead: ReadonlySet<string>): string[] {
  const fit = byApi.filter((n) => !aside.has(n) && !dead.has(n));
  if (fit.length > 0) return fit;
  const onlyDead = byApi.filter((n) => !aside.has(n));
  return onlyDead.length > 0 ? onlyDead : [...byApi];
}

/** The address of every node in the directory: InternalIPs of the nodes in view, EgressTunnel status for the rest. */
function directoryAddresses(directory: ReadonlyMap<string, NodeDirectoryEntry>): string[] {
  const out: string[] = [];
  for (const d of directory.values()) {
    if (d.parentIpv4) out.push(d.parentIpv4);
    if (d.parentIpv6) out.push(d.parentIpv6);
  }
  return out;
}

/**
 * The egress IPs other LAN hosts answer for, from the nodes' EgressTunnels. Any agent may write any
 * tunnel's annotations, so a report counts only from a node that may carry the address now (it
 * is eligible for a gateway whose pools hold it): a worker cannot take a gateway's EIP away.
 */
function lanConflicts(snapshot: Snapshot, eligible: ReadonlyMap<string, readonly string[]>): Map<string, LanConflict> {
  const out = new Map<string, LanConflict>();
  const reporters = [...snapshot.tunnels].filter((t) => t.eipConflicts?.length).sort((a, b) => (a.node < b.node ? -1 : 1));
  for (const t of reporters) {
    for (const { ip, mac } of t.eipConflicts!) {
      if (out.has(ip)) continue;
      const { family, value } = parseIp(ip);
      const carriable = snapshot.gateways.some(
        (g) => (eligible.get(g.name) ?? []).includes(t.node) && (family === 4 ? g.poolV4 : g.poolV6).some((iv) => value >= iv.start && value <= iv.end),
      );
      if (carriable) out.set(ip, { mac, node: t.node });
    }
  }
  return out;
}

/** Everything per-cluster the planner and the controller need, computed once. */
export function resolveCluster(snapshot: Snapshot): Resolution {
  const { directory, notices } = nodeDirectory(snapshot);
  const cluster = clusterInForce(snapshot.nodes, snapshot.clusterInfo, snapshot.config, directoryAddresses(directory));
  const eligible = eligibleNodes(snapshot, directory);
  const nodeAddresses = new Map<string, NodeAddresses>(snapshot.nodes.map((n) => [n.name, { ...(n.ipv4 ? { ipv4: n.ipv4 } : {}), ...(n.ipv6 ? { ipv6: n.ipv6 } : {}) }]));
  const assignment = assign({
    policies: snapshot.policies,
    gateways: snapshot.gateways,
    eligible,
    nodeAddresses,
    clusterAddresses: cluster.clusterAddresses,
    conflicts: lanConflicts(snapshot, eligible),
    ...(snapshot.probes ? { holders: snapshot.probes.holders } : {}),
  });
  const policyNotices: string[] = [];
  for (const a of assignment.policies.values()) {
    for (const text of a.ignoredStatus) policyNotices.push(`policy "${a.policyKey}": ${text}`);
  }
  const drainNotices = snapshot.nodes.filter((n) => n.drain?.invalid).map((n) => `Node "${n.name}": ${n.drain!.invalid}`);
  return { directory, eligible, assignment, cluster, notices: [...notices, ...cluster.notices, ...policyNotices, ...drainNotices] };
}

function inside(cidr: IpInterval, ip: string | undefined): string | undefined {
  if (!ip) return undefined;
  const { family, value } = parseIp(ip);
  return family === cidr.family && value > cidr.start && value <= cidr.end ? ip : undefined;
}

/**
 * Every node's tunnel identity. Marks are the computed ones (`assignTunnels` keeps a status mark
 * only when it is in range and unique), so two gateways never share a mark and no mark leaves
 * --mark-mask or equals "SNAT here": a mark only has to be consistent within one worker's plan.
 * Tunnel addresses from status are used only inside the tunnel CIDR.
 */
export function nodeDirectory(snapshot: Snapshot): { directory: Map<string, NodeDirectoryEntry>; notices: string[] } {
  const { config } = snapshot;
  const computed = assignTunnels(snapshot, snapshot.tunnels, config, snapshot.lastMarks);
  const cidr4 = parseCidr(config.tunnelCidrV4);
  const cidr6 = parseCidr(config.tunnelCidrV6);
  const infos = new Map(snapshot.nodes.map((n) => [n.name, n]));
  const out = new Map<string, NodeDirectoryEntry>();
  const notices: string[] = [];
  const names = new Set([...infos.keys(), ...snapshot.tunnels.map((t) => t.node)]);
  const statusByNode = new Map(snapshot.tunnels.map((t) => [t.node, t]));
  const markHolder = new Map<number, string>();
  for (const t of computed.values()) if (t.markIndex !== undefined) markHolder.set(t.markIndex, t.node);
  for (const name of [...names].sort()) {
    const status = statusByNode.get(name);
    const base = computed.get(name);
    const info = infos.get(name);
    const markIndex = base?.markIndex;
    if (status?.markIndex !== undefined && base && markIndex !== undefined && status.markIndex !== markIndex) {
      const max = maxMarkIndex(config);
      const why =
        status.markIndex === max + 1
          ? 'it is the "SNAT here" mark'
          : status.markIndex > max
            ? `outside --mark-mask 0x${config.markMask.toString(16)} (marks 1-${max})`
            : markHolder.has(status.markIndex)
              ? `node "${markHolder.get(status.markIndex)}" has it too`
              : 'a node keeps its mark while this process runs';
      notices.push(`EgressTunnel "${name}": status.mark ${status.markIndex} ignored: ${why}; using ${markIndex}`);
    }
    const ipv4 = inside(cidr4, status?.ipv4) ?? base?.ipv4;
    const ipv6 = inside(cidr6, status?.ipv6) ?? base?.ipv6;
    for (const [ip, cidr] of [
      [status?.ipv4, config.tunnelCidrV4],
      [status?.ipv6, config.tunnelCidrV6],
    ] as const) {
      if (ip && ip !== ipv4 && ip !== ipv6) notices.push(`EgressTunnel "${name}": tunnel address ${ip} ignored: not inside ${cidr}`);
    }
    const parent = usableParentInterface(name, status?.parentName ?? base?.parentName, config);
    if (parent.notice) notices.push(parent.notice);
    for (const p of status?.ignored ?? []) {
      const instead = p.path === 'status.tunnel.parent.name' ? `; using "${parent.name}"` : '';
      notices.push(`EgressTunnel "${name}": ${problemText(p)}${instead}`);
    }
    out.set(name, {
      node: name,
      mac: status?.mac ?? base?.mac ?? '',
      parentName: parent.name,
      ...pick('ipv4', ipv4),
      ...pick('ipv6', ipv6),
      ...pick('markIndex', markIndex),
      ...pick('parentIpv4', info?.ipv4 ?? status?.parentIpv4),
      ...pick('parentIpv6', info?.ipv6 ?? status?.parentIpv6),
      ...pick('underlayIp', info?.ipv4 ?? status?.parentIpv4 ?? info?.ipv6 ?? status?.parentIpv6),
      ...pick('lan', status?.lan),
      ...(info ? { info } : {}),
    });
  }
  return { directory: out, notices };
}

function pick<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}

/**
 * The endpoints of every policy: from pods when the snapshot has them, else from the slices, as
 * far as they can be pods the policy selects (checkedEndpoints).
 */
export function endpointsByPolicy(snapshot: Snapshot, resolution: Resolution): CheckedEndpoints {
  if (snapshot.pods) {
    const byPolicy = new Map<string, readonly Endpoint[]>();
    for (const policy of snapshot.policies) byPolicy.set(policy.key, selectEndpoints(policy, snapshot.pods, snapshot.namespaces));
    return { byPolicy, notices: [] };
  }
  return checkedEndpoints(snapshot, resolution.directory, resolution.cluster, directoryAddresses(resolution.directory));
}
