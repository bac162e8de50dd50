import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ASSIGNMENT_REASONS } from '../planner/assign.js';
import { plan } from '../planner/plan.js';
import { resolveCluster } from '../planner/resolve.js';
import { baseCluster, gateway, node, policy, snapshotOf, tunnel } from '../planner/testing/cluster.js';
import { desiredPolicyStatus } from './policy-status.js';
import { gatewayConditions } from './gateway-status.js';

const subnet = { podSubnet: ['10.244.1.0/24'] };
const selecting = (label: string) => ({ selector: { matchLabels: { [label]: 'true' } } });

/** One policy per problem reason (and two that work), in one cluster. */
const docs = [
  ...baseCluster(),
  { apiVersion: 'v1', kind: 'Node', metadata: { name: 'bare', labels: { bare: 'true' } }, spec: { podCIDRs: ['10.244.9.0/24'] }, status: { conditions: [{ type: 'Ready', status: 'True' }] } },
  tunnel('bare', { tunnel: { parent: { name: 'eth0', ipv4: '198.18.0.99' } } }),
  gateway('overlap', { nodeSelector: selecting('egress'), ippools: { ipv4: ['198.18.0.120-198.18.0.125'] } }, '2026-02-01T00:00:00Z'),
  gateway('cidr', { nodeSelector: selecting('egress'), ippools: { ipv4: ['198.18.9.0/29'] } }),
  gateway('nodes', { nodeSelector: selecting('egress'), ippools: { ipv4: ['198.18.0.12-198.18.0.13'] } }),
  gateway('tiny', { nodeSelector: selecting('egress'), ippools: { ipv4: ['198.18.8.1'] } }),
  gateway('dark', { nodeSelector: selecting('nobody'), ippools: { ipv4: ['198.18.8.9'] } }),
  gateway('bare', { nodeSelector: selecting('bare'), ippools: { ipv4: ['198.18.8.20'] } }),
  node('gw-dark', 5, { labels: { nobody: 'true' }, ready: false }),
  policy('default', 'ok', { egressGatewayName: 'default', appliedTo: subnet }),
  policy('default', 'ok-node-ip', { egressGatewayName: 'default', egressIP: { useNodeIP: true }, appliedTo: subnet }),
  policy('default', 'gateway-not-found', { egressGatewayName: 'nope', appliedTo: subnet }),
  policy('default', 'pool-overlap', { egressGatewayName: 'overlap', appliedTo: subnet }),
  policy('default', 'ip-not-in-pool', { egressGatewayName: 'default', egressIP: { ipv4: '198.18.0.200' }, appliedTo: subnet }),
  policy('default', 'reserved-address', { egressGatewayName: 'cidr', egressIP: { ipv4: '198.18.9.0' }, appliedTo: subnet }),
  policy('default', 'cluster-address', { egressGatewayName: 'nodes', appliedTo: subnet }),
  policy('default', 'rr-holder', { egressGatewayName: 'default', egressIP: { allocatorPolicy: 'rr' }, appliedTo: subnet }, { status: { eip: { ipv4: '198.18.0.115' } } }),
  policy('default', 'eip-in-use', { egressGatewayName: 'default', egressIP: { ipv4: '198.18.0.115' }, appliedTo: subnet }, { created: '2026-03-01T00:00:00Z' }),
  // the one address of the pool is its default EIP, which a default policy holds
  policy('default', 'tiny-default', { egressGatewayName: 'tiny', appliedTo: subnet }),
  policy('default', 'pool-exhausted', { egressGatewayName: 'tiny', egressIP: { allocatorPolicy: 'rr' }, appliedTo: subnet }),
  policy('default', 'no-ready-gateway-node', { egressGatewayName: 'dark', appliedTo: subnet }),
  policy('default', 'no-node-ip', { egressGatewayName: 'bare', egressIP: { useNodeIP: true }, appliedTo: subnet }),
  policy('default', 'eip-conflict', { egressGatewayName: 'default', egressIP: { ipv4: '198.18.0.117' }, appliedTo: subnet }),
  // gateway-1's agent found a LAN host answering for .117 when it probed before taking it
  { ...tunnel('gateway-1', {}), metadata: { name: 'gateway-1', annotations: { 'egress.sluice.dev/eip-conflicts': '198.18.0.117=02:aa:bb:cc:dd:ee' } } },
];

/** Policy name → the reason it must give. */
const EXPECTED: Record<string, string> = {
  'gateway-not-found': 'GatewayNotFound',
  'pool-overlap': 'PoolOverlap',
  'ip-not-in-pool': 'IPNotInPool',
  'reserved-address': 'ReservedAddress',
  'cluster-address': 'ClusterAddress',
  'eip-in-use': 'EIPInUse',
  'pool-exhausted': 'PoolExhausted',
  'no-ready-gateway-node': 'NoReadyGatewayNode',
  'no-node-ip': 'NoNodeIP',
  'eip-conflict': 'EIPConflict',
};

test("a policy's Ready condition and every node's plan agree on active and reason, for every problem reason", () => {
  const snapshot = snapshotOf(docs);
  const { assignment } = resolveCluster(snapshot);
  const plans = ['worker-1', 'gateway-1', 'gateway-2', 'bare'].map((n) => plan(snapshot, n));
  const seen = new Set<string>();
  for (const p of snapshot.policies) {
    const ready = desiredPolicyStatus(p, assignment.policies.get(p.key)!).conditions.find((c) => c.type === 'Ready')!;
    for (const nodePlan of plans) {
      const planned = nodePlan.policies.find((x) => x.key === p.key)!;
      assert.equal(ready.status === 'True', planned.active, `${p.key} on ${nodePlan.node}: Ready ${ready.status} (${ready.reason}) vs active ${planned.active} (${planned.reason})`);
      if (!planned.active) assert.equal(ready.reason, planned.reason, `${p.key} on ${nodePlan.node}`);
    }
    if (ready.status === 'False') seen.add(ready.reason);
    const expected = EXPECTED[p.name];
    if (expected) assert.equal(ready.reason, expected, `the case ${p.name}`);
  }
  assert.deepEqual([...seen].sort(), [...ASSIGNMENT_REASONS].sort(), 'every reason the assignment can give is covered');
});

test("a LAN host's address in a pool: the gateway's PoolsValid names it, and round-robin passes it by", () => {
  const snapshot = snapshotOf(docs);
  const { assignment } = resolveCluster(snapshot);
  const valid = gatewayConditions(assignment.pools.get('default'), 1).find((c) => c.type === 'PoolsValid')!;
  assert.equal(valid.status, 'False');
  assert.equal(valid.reason, 'EIPConflict');
  assert.match(valid.message, /198\.18\.0\.117 \(another LAN host answers for it: MAC 02:aa:bb:cc:dd:ee, found by node "gateway-1"\)/);
  const pair = [
    ...baseCluster(),
    gateway('pair', { nodeSelector: selecting('egress'), ippools: { ipv4: ['198.18.8.30-198.18.8.32'], ipv4DefaultEIP: '198.18.8.32' } }),
    policy('default', 'rr', { egressGatewayName: 'pair', egressIP: { allocatorPolicy: 'rr' }, appliedTo: subnet }),
    { ...tunnel('gateway-2', {}), metadata: { name: 'gateway-2', annotations: { 'egress.sluice.dev/eip-conflicts': '198.18.8.30=02:aa:bb:cc:dd:ee' } } },
  ];
  const rr = resolveCluster(snapshotOf(pair)).assignment.policies.get('default/rr')!;
  assert.deepEqual([rr.active, rr.eipV4], [true, '198.18.8.31'], 'the lowest free address a LAN host does not answer for');
});

test('an eip-conflicts report from a node that cannot carry the address is not counted', () => {
  // worker-1 matches no gateway's nodeSelector: it cannot take an egress IP away
  const fromWorker = docs.map((d) => (d['kind'] === 'EgressTunnel' && (d['metadata'] as { name: string }).name === 'gateway-1' ? { ...d, metadata: { name: 'worker-1', annotations: (d['metadata'] as { annotations: object }).annotations } } : d));
  const { assignment } = resolveCluster(snapshotOf(fromWorker));
  assert.equal(assignment.policies.get('default/eip-conflict')!.active, true);
});
