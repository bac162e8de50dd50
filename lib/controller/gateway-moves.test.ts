import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAppliedReport } from '../api/applied-report.js';
import { baseCluster, node, policy, snapshotOf } from '../planner/testing/cluster.js';
import { classifyMove } from './gateway-moves.js';
import type { ReportLookup } from './policy-programmed.js';

const web = policy('default', 'web', { egressGatewayName: 'default', appliedTo: { podSubnet: ['10.244.0.0/16'] } });
const from = 'gateway-1';
const to = 'gateway-2';

function reportsOf(carrier?: string, result = 'Applied'): ReportLookup {
  return (n) => {
    if (n !== from || !carrier) return {};
    const parsed = parseAppliedReport({ result, policies: [{ namespace: 'default', name: 'web', generation: 1, node: carrier }] });
    return parsed.report ? { report: parsed.report } : {};
  };
}

/** baseCluster with gateway-1 replaced (or removed). */
function clusterWith(gateway1?: Record<string, unknown>) {
  const docs = baseCluster().filter((d: any) => d.metadata.name !== from);
  return snapshotOf([...docs, ...(gateway1 ? [gateway1] : []), web]);
}

test('a failure or a planned move, by what the controller sees of the old node', () => {
  const cases: { name: string; snapshot: ReturnType<typeof clusterWith>; reports?: ReportLookup; takenOver?: boolean; eligible?: string[]; reason?: string; message?: string }[] = [
    { name: 'node gone', snapshot: clusterWith(), reason: 'GatewayFailover', message: 'gateway node "gateway-1" is gone; "gateway-2" took over' },
    {
      name: 'NotReady',
      snapshot: clusterWith(node(from, 2, { labels: { egress: 'true' }, ready: false })),
      reason: 'GatewayFailover',
      message: 'gateway node "gateway-1" is NotReady; "gateway-2" took over',
    },
    {
      name: 'left the nodeSelector',
      snapshot: clusterWith(node(from, 2)),
      reason: 'GatewayHandoff',
      message: 'gateway node "gateway-1" handed over to "gateway-2" (it left the nodeSelector of EgressGateway "default")',
    },
    {
      name: 'applied the move itself',
      snapshot: clusterWith(node(from, 2, { labels: { egress: 'true' } })),
      reports: reportsOf(to),
      takenOver: true,
      reason: 'GatewayHandoff',
      message: 'gateway node "gateway-1" handed over to "gateway-2" (it was draining and applied the move itself)',
    },
    {
      name: 'its failed apply does not count as a handoff',
      snapshot: clusterWith(node(from, 2, { labels: { egress: 'true' } })),
      reports: reportsOf(to, 'Failed'),
      takenOver: true,
      reason: 'GatewayFailover',
      message: 'gateway node "gateway-1" failed its peers\' probes (dead, or its agent unhealthy); "gateway-2" took over',
    },
    {
      name: 'still says it carries the policy (dead by the probes)',
      snapshot: clusterWith(node(from, 2, { labels: { egress: 'true' } })),
      reports: reportsOf(from),
      takenOver: true,
      reason: 'GatewayFailover',
      message: 'gateway node "gateway-1" failed its peers\' probes (dead, or its agent unhealthy); "gateway-2" took over',
    },
    {
      name: 'Ready and selected, but not eligible (no tunnel address or mark)',
      snapshot: clusterWith(node(from, 2, { labels: { egress: 'true' } })),
      eligible: [to],
      reason: 'GatewayFailover',
      message: 'gateway node "gateway-1" is no longer eligible; "gateway-2" took over',
    },
    { name: 'still eligible: a status naming another node was corrected, no move', snapshot: clusterWith(node(from, 2, { labels: { egress: 'true' } })) },
  ];
  for (const c of cases) {
    const policyModel = c.snapshot.policies[0]!;
    const move = classifyMove(c.snapshot, policyModel, from, to, c.reports ?? reportsOf(), c.takenOver ?? false, c.eligible ?? [from, to]);
    if (!c.reason) {
      assert.equal(move, undefined, c.name);
      continue;
    }
    assert.deepEqual([move?.reason, move?.message], [c.reason, c.message], c.name);
    assert.equal(move?.kind, c.reason === 'GatewayHandoff' ? 'handoff' : 'failover');
  }
});
