import type { EndpointSlice, Gateway, NodeInfo, Policy } from '../../lib/api/model.js';
import { parseIpSpec } from '../../lib/api/ip.js';
import { DEFAULT_CONFIG } from '../../lib/planner/config.js';
import type { Snapshot } from '../../lib/planner/snapshot.js';

export const PLANNED_WORKER = 'worker-1';
export const GATEWAY_NODES = ['gateway-1', 'gateway-2', 'gateway-3'];

function nodeInfo(name: string, index: number, podCIDR: string, labels: Record<string, string> = {}): NodeInfo {
  return { name, labels: { 'kubernetes.io/hostname': name, ...labels }, ready: true, unreachable: false, ipv4: `198.18.0.${10 + index}`, podCIDRs: [podCIDR] };
}

function ipOf(i: number): string {
  // 10.128.0.0/15 holds 131072 addresses: every endpoint gets its own, in no particular order
  // (an odd multiplier permutes 0..2^17-1), as pods come and go
  const v = Math.imul(i, 40503) & 0x1ffff;
  return `10.${128 + (v >> 16)}.${(v >> 8) & 255}.${v & 255}`;
}

/**
 * What an agent on a worker plans from: `endpoints` pods on this worker, spread over `policies`
 * EgressPolicies (default, rr, explicit and useNodeIP allocation, some with destSubnet) on one
 * gateway with three gateway nodes, in endpoint slices of at most 100 endpoints. Status is
 * written as the controller leaves it, with every policy on the first gateway node.
 */
export function benchSnapshot(endpoints: number, policies: number): Snapshot {
  const nodes = [nodeInfo(PLANNED_WORKER, 1, '10.128.0.0/15'), ...GATEWAY_NODES.map((n, i) => nodeInfo(n, i + 2, `10.200.${i}.0/24`, { egress: 'true' }))];
  const gateway: Gateway = {
    name: 'default',
    uid: 'gw',
    creationTimestamp: '2026-01-01T00:00:00Z',
    generation: 1,
    clusterDefault: false,
    transport: 'vxlan',
    nodeSelector: { matchLabels: { egress: 'true' } },
    poolV4: [parseIpSpec('198.19.0.0/20')],
    poolV6: [],
    poolTextV4: ['198.19.0.0/20'],
    poolTextV6: [],
    defaultEipV4: '198.19.0.10',
  };
  const policyList: Policy[] = [];
  const slices: EndpointSlice[] = [];
  let next = 0;
  for (let p = 0; p < policies; p++) {
    const name = `p${String(p).padStart(5, '0')}`;
    const style = p % 4;
    const explicit = `198.19.8.${(p % 250) + 1}`;
    const eipV4 = style === 0 ? '198.19.0.10' : style === 1 ? `198.19.${1 + (p >> 10)}.${(p >> 2) & 255}` : style === 2 ? explicit : undefined;
    policyList.push({
      kind: 'EgressPolicy',
      name,
      namespace: 'bench',
      key: `bench/${name}`,
      uid: `uid-${p}`,
      creationTimestamp: `2026-01-01T00:${String(Math.floor(p / 60) % 60).padStart(2, '0')}:${String(p % 60).padStart(2, '0')}Z`,
      generation: 1,
      spec: {
        gatewayName: 'default',
        gatewaySource: 'spec',
        ...(style === 2 ? { ipv4: explicit } : {}),
        useNodeIP: style === 3,
        allocatorPolicy: style === 1 ? 'rr' : 'default',
        podSelector: { matchLabels: { policy: name } },
        podSubnet: [],
        destSubnet: p % 5 === 0 ? [parseIpSpec('203.0.113.0/24')] : [],
        excludeDestSubnet: [],
        priority: p % 3,
      },
      // steady state: the controller placed everything on the first gateway node (worst case for its plan)
      status: { ...(eipV4 ? { eipV4 } : {}), node: GATEWAY_NODES[0]! },
    });
    const count = Math.floor(endpoints / policies) + (p < endpoints % policies ? 1 : 0);
    for (let s = 0; s * 100 < count; s++) {
      const size = Math.min(100, count - s * 100);
      slices.push({
        name: `${name}-${s}`,
        namespace: 'bench',
        policyKey: `bench/${name}`,
        endpoints: Array.from({ length: size }, () => {
          const i = next++;
          return { namespace: 'bench', pod: `pod-${i}`, node: PLANNED_WORKER, ipv4: [ipOf(i)], ipv6: [] };
        }),
      });
    }
  }
  return { nodes, namespaces: [{ name: 'bench', labels: {} }], gateways: [gateway], policies: policyList, slices, tunnels: [], config: DEFAULT_CONFIG };
}
