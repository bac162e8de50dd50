/**
 * A cluster snapshot built from a running lab's real topology: its nodes (LAN IPs, podCIDRs,
 * gateway nodes labelled), its pods, one EgressGateway over every gateway node with a pool from
 * the lab's free EIP range, and the policies a test asks for. No API server is involved.
 */
import type { LabInfo } from '../labkit/info.js';
import { resolveConfig, type AgentConfig } from '../../lib/planner/config.js';
import type { Snapshot } from '../../lib/planner/snapshot.js';
import { gateway, namespace, pod, snapshotOf, tunnel } from '../../lib/planner/testing/cluster.js';
import { LAN_ANNOTATION } from '../../lib/api/group.js';

type Doc = Record<string, unknown>;

export const GATEWAY_NAME = 'lab';
export const GATEWAY_LABEL = { 'egress.sluice.dev/gateway': 'true' };

/** The tunnel CIDRs of the brief, so tunnel addresses can never be mistaken for the defaults. */
export const LAB_CONFIG: AgentConfig = resolveConfig({ tunnelCidrV4: '198.19.0.0/16', tunnelCidrV6: 'fd00:198:19::/112' });

export interface ClusterOptions {
  /** Policies (wire documents) in the snapshot. */
  readonly policies: readonly Doc[];
  /** Nodes reported NotReady (e.g. to move an EIP away from a gateway). */
  readonly notReady?: readonly string[];
  /** Gateway nodes without the gateway label (outside the EgressGateway's selector). */
  readonly unlabelled?: readonly string[];
  /** Pods left out of the snapshot (the lab still has them). */
  readonly withoutPods?: readonly string[];
  /** Native routing: the gateway asks for it, and each node's LAN link is as its agent would publish it (its eth0 MAC, by node). */
  readonly native?: { readonly macs: Readonly<Record<string, string>> };
}

/** A node's EgressTunnel with only the lan annotation (its eth0: the MAC given and its addresses on the lab's /24 and /64). */
function lanTunnel(n: LabInfo['nodes'][number], mac: string): Doc {
  const addresses = n.ips.map((ip) => `${ip}/${ip.includes(':') ? 64 : 24}`);
  return { ...tunnel(n.name, {}), metadata: { name: n.name, annotations: { [LAN_ANNOTATION]: [mac, ...addresses].join(' ') } } };
}

/** The EIP pool: the first ten addresses of the lab's free range, per family. */
export function eipPool(info: LabInfo): { ipv4: string[]; ipv6?: string[] } {
  const [first4] = info.lan.eipRangeV4.split('-') as [string];
  const pool = { ipv4: [`${first4}-${first4.replace(/\d+$/, (h) => String(Number(h) + 9))}`] };
  if (!info.lan.eipRangeV6) return pool;
  const [first6] = info.lan.eipRangeV6.split('-') as [string];
  return { ...pool, ipv6: [`${first6}-${first6.replace(/[0-9a-f]+$/, (h) => String(Number(h) + 9))}`] };
}

function nodeDoc(n: LabInfo['nodes'][number], ready: boolean, gatewayLabel: boolean): Doc {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: n.name, labels: { 'kubernetes.io/hostname': n.name, ...(gatewayLabel ? GATEWAY_LABEL : {}) } },
    spec: { podCIDRs: [...n.podCIDRs] },
    status: {
      addresses: n.ips.map((address) => ({ type: 'InternalIP', address })),
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
    },
  };
}

export function clusterDocs(info: LabInfo, opts: ClusterOptions): Doc[] {
  const notReady = new Set(opts.notReady ?? []);
  const unlabelled = new Set(opts.unlabelled ?? []);
  const without = new Set(opts.withoutPods ?? []);
  const pods = info.pods.filter((p) => !without.has(`${p.namespace}/${p.name}`));
  return [
    ...info.nodes.map((n) => nodeDoc(n, !notReady.has(n.name), n.role === 'gateway' && !unlabelled.has(n.name))),
    ...[...new Set(info.pods.map((p) => p.namespace))].sort().map((ns) => namespace(ns)),
    ...pods.map((p) => pod(p.namespace, p.name, p.node, p.ips, p.labels)),
    gateway(GATEWAY_NAME, { nodeSelector: { selector: { matchLabels: GATEWAY_LABEL } }, ippools: eipPool(info), ...(opts.native ? { transport: 'native' } : {}) }),
    ...(opts.native ? info.nodes.flatMap((n) => (opts.native!.macs[n.name] ? [lanTunnel(n, opts.native!.macs[n.name]!)] : [])) : []),
    ...opts.policies,
  ];
}

export function labSnapshot(info: LabInfo, opts: ClusterOptions): Snapshot {
  return snapshotOf(clusterDocs(info, opts), LAB_CONFIG);
}
