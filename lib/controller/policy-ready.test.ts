import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ASSIGNMENT_REASONS } from '../planner/assign.js';
import { plan } from '../planner/plan.js';
import { resolveCluster } from '../planner/resolve.js';
import { DEFAULT_CONFIG } from '../planner/config.js';
import type { NodePlan } from '../planner/node-plan.js';
import { API_VERSION } from '../api/group.js';
import pino from 'pino';
import { startApiServer } from '../../e2e/apiserver/server.js';
import type { JsonObject as ServerObject } from '../../e2e/apiserver/json.js';
import { installCrds, settle, startTestPlane } from './testing/plane.js';
import { bounded } from '../kube/testing/wait.js';
import { baseCluster, gateway, node, policy, snapshotOf, tunnel } from '../planner/testing/cluster.js';
import { gatewayConditions } from './gateway-status.js';
import { desiredPolicyStatus } from './policy-status.js';

const subnet = { podSubnet: ['10.244.1.0/24'] };
const selecting = (label: string) => ({ selector: { matchLabels: { [label]: 'true' } } });

/** One policy per problem reason (and two that work), in one cluster. */
const docs = [
  ...baseCluster(),
  {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: 'bare', labels: { bare: 'true' } },
    spec: { podCIDRs: ['10.244.9.0/24'] },
    status: { conditions: [{ type: 'Ready', status: 'True' }] },
  },
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

type Doc = Record<string, unknown>;
type Reason = (typeof ASSIGNMENT_REASONS)[number];
/** Objects applied in steps, the controller settling after each. */
type Steps = readonly (readonly Doc[])[];

/** A LAN host answers for `ip`, as gateway-1's agent found when it probed before taking it. */
const conflictReport = (ip: string): Doc => ({
  ...tunnel('gateway-1', {}),
  metadata: { name: 'gateway-1', annotations: { 'egress.sluice.dev/eip-conflicts': `${ip}=02:aa:bb:cc:dd:ee` } },
});

/**
 * For every reason the assignment can give, the smallest cluster that gives it to the policy
 * "subject" (one worker, two gateway nodes, gateway "default" with 198.18.0.100-120). Allocation
 * is oldest first: a "holder" is settled before "subject" comes.
 */
const CASES: Readonly<Record<Reason, Steps>> = {
  GatewayNotFound: [[policy('default', 'subject', { egressGatewayName: 'nope', appliedTo: subnet })]],
  PoolOverlap: [
    [
      gateway('overlap', { nodeSelector: selecting('egress'), ippools: { ipv4: ['198.18.0.120-198.18.0.125'] } }),
      policy('default', 'subject', { egressGatewayName: 'overlap', appliedTo: subnet }),
    ],
  ],
  IPNotInPool: [[policy('default', 'subject', { egressGatewayName: 'default', egressIP: { ipv4: '198.18.0.200' }, appliedTo: subnet })]],
  ReservedAddress: [
    [
      gateway('cidr', { nodeSelector: selecting('egress'), ippools: { ipv4: ['198.18.9.0/29'] } }),
      policy('default', 'subject', { egressGatewayName: 'cidr', egressIP: { ipv4: '198.18.9.0' }, appliedTo: subnet }),
    ],
  ],
  // the gateway nodes' own addresses
  ClusterAddress: [
    [
      gateway('nodes', { nodeSelector: selecting('egress'), ippools: { ipv4: ['198.18.0.12-198.18.0.13'] } }),
      policy('default', 'subject', { egressGatewayName: 'nodes', appliedTo: subnet }),
    ],
  ],
  EIPConflict: [[conflictReport('198.18.0.117'), policy('default', 'subject', { egressGatewayName: 'default', egressIP: { ipv4: '198.18.0.117' }, appliedTo: subnet })]],
  // round-robin took the lowest free address; "subject" asks for that one afterwards
  EIPInUse: [
    [policy('default', 'holder', { egressGatewayName: 'default', egressIP: { allocatorPolicy: 'rr' }, appliedTo: subnet })],
    [policy('default', 'subject', { egressGatewayName: 'default', egressIP: { ipv4: '198.18.0.100' }, appliedTo: subnet })],
  ],
  // the one address of the pool is its default EIP, which a default policy holds
  PoolExhausted: [
    [gateway('tiny', { nodeSelector: selecting('egress'), ippools: { ipv4: ['198.18.8.1'] } }), policy('default', 'holder', { egressGatewayName: 'tiny', appliedTo: subnet })],
    [policy('default', 'subject', { egressGatewayName: 'tiny', egressIP: { allocatorPolicy: 'rr' }, appliedTo: subnet })],
  ],
  NoReadyGatewayNode: [
    [
      node('gw-dark', 5, { labels: { nobody: 'true' }, ready: false }),
      gateway('dark', { nodeSelector: selecting('nobody'), ippools: { ipv4: ['198.18.8.9'] } }),
      policy('default', 'subject', { egressGatewayName: 'dark', appliedTo: subnet }),
    ],
  ],
  // a gateway node whose InternalIP went away after its tunnel was set up (see SETTLES_AS)
  NoNodeIP: [
    [node('bare', 89, { labels: { bare: 'true' } }), gateway('bare', { nodeSelector: selecting('bare'), ippools: { ipv4: ['198.18.8.20'] } })],
    [
      { ...node('bare', 89, { labels: { bare: 'true' } }), status: { conditions: [{ type: 'Ready', status: 'True' }] } },
      policy('default', 'subject', { egressGatewayName: 'bare', egressIP: { useNodeIP: true }, appliedTo: subnet }),
    ],
  ],
};

/**
 * Reasons a settled controller never reports, and what it reports instead. NoNodeIP needs a
 * tunnel whose status still carries the node's former address; the controller rewrites tunnels
 * from the Nodes before it writes policy status, so once it settles the node has no underlay
 * address and cannot carry the gateway. The snapshot in between is checked on its own below.
 */
const SETTLES_AS: Partial<Record<Reason, Reason>> = { NoNodeIP: 'NoReadyGatewayNode' };

interface Condition {
  readonly type: string;
  readonly status: string;
  readonly reason: string;
  readonly message: string;
}

/** The controller's Ready condition of "subject" and every node's plan of it, once the controller settled. */
async function readyAndPlans(steps: Steps): Promise<{ ready: Condition; plans: NodePlan[] }> {
  const server = await startApiServer({ logger: pino({ level: 'silent' }) });
  const leader = startTestPlane(server.url, 'gateway-1', { identity: 'leader' });
  try {
    installCrds(server);
    for (const [i, docs] of steps.entries()) {
      for (const doc of [...(i === 0 ? baseCluster() : []), ...docs]) server.store.apply(doc as ServerObject);
      await settle(leader, 20_000);
    }
    const status = (server.store.get(API_VERSION, 'EgressPolicy', 'subject', 'default') as { status?: { conditions?: Condition[] } }).status;
    const ready = status?.conditions?.find((c) => c.type === 'Ready');
    assert.ok(ready, 'the controller wrote Ready');
    // the plans from the cluster as the controller left it (status included), as every agent reads it
    const snapshot = leader.store.snapshot(DEFAULT_CONFIG);
    return { ready, plans: snapshot.nodes.map((n) => plan(snapshot, n.name)) };
  } finally {
    await bounded(leader.stop(), 10_000, 'stopping the plane');
    await server.close();
  }
}

// one API server and controller per case
test("a policy's Ready condition and every node's plan agree on active and reason, for every problem reason", async (t) => {
  for (const reason of [...ASSIGNMENT_REASONS, 'Ready' as const]) {
    await t.test(reason, async () => {
      const steps = reason === 'Ready' ? [[policy('default', 'subject', { egressGatewayName: 'default', appliedTo: subnet })]] : CASES[reason];
      const { ready, plans } = await readyAndPlans(steps);
      const expected = reason === 'Ready' ? reason : (SETTLES_AS[reason] ?? reason);
      assert.equal(ready.reason, expected, `the case gives ${expected}: ${ready.message}`);
      assert.ok(plans.length >= 3);
      for (const nodePlan of plans) {
        const planned = nodePlan.policies.find((x) => x.key === 'default/subject');
        assert.ok(planned, `${nodePlan.node} plans the policy`);
        assert.equal(planned.active, ready.status === 'True', `${nodePlan.node}: Ready ${ready.status} (${ready.reason}) vs active ${planned.active} (${planned.reason})`);
        if (!planned.active) assert.equal(planned.reason, ready.reason, nodePlan.node);
      }
    });
  }
});

test('NoNodeIP, before the controller rewrites the tunnel: Ready and every plan agree', () => {
  const snapshot = snapshotOf([
    ...baseCluster(),
    { ...node('bare', 89, { labels: { bare: 'true' } }), status: { conditions: [{ type: 'Ready', status: 'True' }] } },
    tunnel('bare', { tunnel: { ipv4: '172.31.0.89', mac: '02:00:00:00:00:89', parent: { name: 'eth0', ipv4: '198.18.0.99' } }, mark: '3', phase: 'Ready' }),
    gateway('bare', { nodeSelector: selecting('bare'), ippools: { ipv4: ['198.18.8.20'] } }),
    policy('default', 'subject', { egressGatewayName: 'bare', egressIP: { useNodeIP: true }, appliedTo: subnet }),
  ]);
  const ready = desiredPolicyStatus(
    snapshot.policies.find((p) => p.key === 'default/subject')!,
    resolveCluster(snapshot).assignment.policies.get('default/subject')!,
  ).conditions.find((c) => c.type === 'Ready')!;
  assert.deepEqual([ready.status, ready.reason], ['False', 'NoNodeIP']);
  for (const n of snapshot.nodes) {
    const planned = plan(snapshot, n.name).policies.find((x) => x.key === 'default/subject')!;
    assert.deepEqual([planned.active, planned.reason], [false, 'NoNodeIP'], n.name);
  }
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
  const fromWorker = docs.map((d) =>
    d['kind'] === 'EgressTunnel' && (d['metadata'] as { name: string }).name === 'gateway-1'
      ? { ...d, metadata: { name: 'worker-1', annotations: (d['metadata'] as { annotations: object }).annotations } }
      : d,
  );
  const { assignment } = resolveCluster(snapshotOf(fromWorker));
  assert.equal(assignment.policies.get('default/eip-conflict')!.active, true);
});
