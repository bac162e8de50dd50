/**
 * The lab as the planner sees it: its nodes, one gateway, one pod, and optionally one policy
 * selecting that pod. Plans come from the real planner, with the tunnel in 198.19.0.0/16 so every
 * address stays inside the lab's benchmark range.
 */
import type { LabInfo, NodeInfo, PodInfo } from '../../e2e/labkit/info.js';
import { resolveConfig } from '../../lib/planner/config.js';
import type { NodePlan } from '../../lib/planner/node-plan.js';
import { plan } from '../../lib/planner/plan.js';
import { gateway, namespace, pod, policy, snapshotOf } from '../../lib/planner/testing/cluster.js';

export const TUNNEL_CIDR_V4 = '198.19.0.0/16';
const GATEWAY_LABEL = { egress: 'true' } as const;

export interface BenchPlans {
  readonly eip: string;
  /** Gateway nodes first: they must be ready before a worker sends into the tunnel. */
  readonly withPolicy: readonly NodePlan[];
  /** Workers first: they stop sending before the gateway stops serving. */
  readonly withoutPolicy: readonly NodePlan[];
}

function nodeDoc(n: NodeInfo): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: n.name, labels: { 'kubernetes.io/hostname': n.name, ...(n.role === 'gateway' ? GATEWAY_LABEL : {}) } },
    spec: { podCIDRs: n.podCIDRs },
    status: {
      addresses: n.ips.map((address) => ({ type: 'InternalIP', address })),
      conditions: [{ type: 'Ready', status: 'True' }],
    },
  };
}

export function benchPlans(info: LabInfo, client: PodInfo): BenchPlans {
  const config = resolveConfig({ tunnelCidrV4: TUNNEL_CIDR_V4 });
  const [eip] = info.lan.eipRangeV4.split('-');
  if (!eip) throw new Error(`lab reports no EIP range (${info.lan.eipRangeV4})`);
  const base = [
    ...info.nodes.map(nodeDoc),
    namespace(client.namespace),
    gateway('bench', { nodeSelector: { selector: { matchLabels: GATEWAY_LABEL } }, ippools: { ipv4: [eip], ipv4DefaultEIP: eip } }),
    pod(client.namespace, client.name, client.node, client.ips, client.labels),
  ];
  const selecting = policy(client.namespace, 'bench', {
    egressGatewayName: 'bench',
    appliedTo: { podSelector: { matchLabels: client.labels } },
  });
  const gatewaysFirst = [...info.nodes].sort((a, b) => Number(b.role === 'gateway') - Number(a.role === 'gateway'));
  const on = snapshotOf([...base, selecting], config);
  const off = snapshotOf(base, config);
  const withPolicy = gatewaysFirst.map((n) => plan(on, n.name));
  const entries = withPolicy.flatMap((p) => p.policies);
  if (!entries.some((p) => p.role === 'gateway')) {
    throw new Error(`no node carries the bench policy: ${entries.map((p) => p.reason ?? p.role).join(', ')}`);
  }
  return { eip, withPolicy, withoutPolicy: [...gatewaysFirst].reverse().map((n) => plan(off, n.name)) };
}
