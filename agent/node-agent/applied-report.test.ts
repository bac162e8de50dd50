import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAppliedReport } from '../../lib/api/applied-report.js';
import type { ApplyReport, Subsystem } from '../../lib/dataplane/dataplane-types.js';
import { EgressError } from '../../lib/errors.js';
import { plan } from '../../lib/planner/plan.js';
import { baseCluster, clusterPolicy, pod, policy, snapshotOf } from '../../lib/planner/testing/cluster.js';
import { appliedPolicies, appliedReport } from './applied-report.js';

const docs = [
  ...baseCluster(),
  pod('default', 'web-1', 'worker-1', ['10.244.1.5'], { app: 'web' }),
  policy('default', 'web', { egressGatewayName: 'default', appliedTo: { podSelector: { matchLabels: { app: 'web' } } } }),
  policy('default', 'elsewhere', { egressGatewayName: 'default', appliedTo: { podSelector: { matchLabels: { app: 'none' } } } }),
  clusterPolicy('all-web', { egressGatewayName: 'default', appliedTo: { podSelector: { matchLabels: { app: 'web' } } } }),
];

function failedReport(): ApplyReport {
  const names: Subsystem[] = ['sysctls', 'links', 'routes', 'nft', 'addresses', 'announcer'];
  const subsystems = Object.fromEntries(names.map((n) => [n, { writes: 0, errors: [], skipped: [], durationMs: 1 }])) as unknown as Record<
    Subsystem,
    ApplyReport['subsystems'][Subsystem]
  >;
  subsystems.links = {
    ...subsystems.links,
    errors: [{ code: 'EGW_ERR_NETLINK', op: 'ip link add egress.vxlan', message: 'Error: A VXLAN device with the specified VNI already exists.\n' }],
  };
  subsystems.sysctls = {
    ...subsystems.sysctls,
    errors: [{ code: 'EGW_ERR_SYSCTL', op: 'write net.ipv4.conf.egress/vxlan.rp_filter', message: 'no such sysctl (the device is missing)' }],
  };
  subsystems.routes = { ...subsystems.routes, errors: [{ code: 'EGW_ERR_NETLINK', op: 'ip route replace', message: 'Cannot find device "egress.vxlan"' }] };
  return { subsystems, missingSysctls: [], announced: [], withdrawn: [], held: [], writes: 0, ok: false, complete: false, failedApplies: 1, durationMs: 3 };
}

test('a worker lists the policies of its pods, with the generation it planned from and the gateway node it routes to', () => {
  const snapshot = snapshotOf(docs.map((d) => (d.kind === 'EgressPolicy' ? { ...d, metadata: { ...(d.metadata as object), generation: 4 } } : d)));
  const nodePlan = plan(snapshot, 'worker-1');
  const gatewayNode = nodePlan.policies.find((p) => p.name === 'web')!.node!;
  const listed = appliedPolicies(nodePlan, snapshot);
  assert.deepEqual(listed, {
    policies: [
      { name: 'all-web', generation: 1, node: gatewayNode },
      { namespace: 'default', name: 'web', generation: 4, node: gatewayNode },
    ],
    truncated: false,
  });
  const report = appliedReport(listed);
  assert.deepEqual(report, { result: 'Applied', policies: listed.policies });
  assert.deepEqual(parseAppliedReport(report).problems, [], 'what an agent writes is what the controller accepts');

  const gateway = plan(snapshot, gatewayNode);
  assert.deepEqual(
    appliedPolicies(gateway, snapshot).policies.map((p) => p.name),
    ['all-web', 'elsewhere', 'web'],
    'the gateway node carries every policy, with or without pods',
  );
  const other = gatewayNode === 'gateway-1' ? 'gateway-2' : 'gateway-1';
  assert.deepEqual(appliedPolicies(plan(snapshot, other), snapshot).policies, [], 'a node with no part in a policy does not list it');
});

test('a failed apply reports the first error in apply order, as one bounded line; a thrown error its own code', () => {
  const listed = { policies: [], truncated: false };
  const failed = appliedReport(listed, { report: failedReport() });
  assert.equal(failed.result, 'Failed');
  assert.equal(failed.code, 'EGW_ERR_NETLINK');
  assert.equal(failed.message, 'links: ip link add egress.vxlan: Error: A VXLAN device with the specified VNI already exists.');
  assert.deepEqual(appliedReport(listed, { thrown: new EgressError('EGW_ERR_NFT', 'nft said no'), fallback: 'EGW_ERR_PLAN' }), {
    result: 'Failed',
    code: 'EGW_ERR_NFT',
    message: 'nft said no',
    policies: [],
  });
  assert.equal(appliedReport(listed, { thrown: new Error('node "x" is not in the cluster snapshot'), fallback: 'EGW_ERR_PLAN' }).code, 'EGW_ERR_PLAN');
});
