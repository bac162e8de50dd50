import { test } from 'node:test';
import assert from 'node:assert/strict';
import { explain } from './explain.js';
import { baseCluster, pod, policy, snapshotOf } from './testing/cluster.js';

const docs = [
  ...baseCluster(),
  pod('default', 'visitor', 'worker-1', ['10.244.1.5'], { app: 'visitor' }),
  pod('default', 'other', 'worker-1', ['10.244.1.6'], { app: 'other' }),
  policy('default', 'partner', {
    egressGatewayName: 'default',
    priority: 10,
    egressIP: { ipv4: '198.18.0.111' },
    destSubnet: ['203.0.113.0/24'],
    appliedTo: { podSelector: { matchLabels: { app: 'visitor' } } },
  }),
  policy('default', 'test', { egressGatewayName: 'default', appliedTo: { podSelector: { matchLabels: { app: 'visitor' } } } }),
];

test('explain: a destination in a high-priority destSubnet takes that policy', () => {
  const e = explain(snapshotOf(docs), 'default/visitor', '203.0.113.9');
  assert.equal(e.policy, 'default/partner');
  assert.equal(e.leavesAs, '198.18.0.111');
  assert.equal(e.path, 'gateway-tunnel');
});

test('explain: other destinations fall through to the next policy, and say why', () => {
  const e = explain(snapshotOf(docs), 'default/visitor', '198.18.5.5');
  assert.equal(e.policy, 'default/test');
  assert.equal(e.leavesAs, '198.18.0.110');
  assert.match(e.verdicts[0]!.why, /not in spec\.destSubnet/);
});

test('explain: unselected pods leave with the node IP; cluster destinations never use a gateway', () => {
  const other = explain(snapshotOf(docs), 'default/other', '198.18.5.5');
  assert.equal(other.path, 'node');
  assert.equal(other.leavesAs, '198.18.0.11');
  assert.equal(explain(snapshotOf(docs), 'default/visitor', '10.96.0.1').path, 'cluster');
});

test('explain: unknown pod or bad destination give coded errors', () => {
  assert.throws(() => explain(snapshotOf(docs), 'default/ghost'), { code: 'EGW_ERR_PLAN' });
  assert.throws(() => explain(snapshotOf(docs), 'default/visitor', 'nope'), { code: 'EGW_ERR_INVALID_IP' });
});

test("explain: a namespaced podSubnet policy does not take another namespace's pod, as the kernel", async () => {
  const { plan } = await import('./plan.js');
  const { namespace } = await import('./testing/cluster.js');
  const tenants = [
    ...baseCluster(),
    namespace('tenant-b'),
    pod('tenant-b', 'victim', 'worker-1', ['10.244.1.7'], {}),
    pod('default', 'mine', 'worker-1', ['10.244.1.5'], {}),
    policy('default', 'grab', { egressGatewayName: 'default', priority: 1000, appliedTo: { podSubnet: ['10.244.1.0/24'] } }),
  ];
  const snapshot = snapshotOf(tenants);
  const victim = explain(snapshot, 'tenant-b/victim', '198.18.5.5');
  assert.equal(victim.path, 'node');
  assert.equal(victim.verdicts[0]!.selected, false);
  assert.equal(explain(snapshot, 'default/mine', '198.18.5.5').policy, 'default/grab');
  const sets = plan(snapshot, 'worker-1').nft.sets.filter((s) => s.name.endsWith('_loc4') || s.name.endsWith('_net4'));
  assert.deepEqual(
    sets.map((s) => s.elements),
    [['10.244.1.5']],
    'the kernel matches the same pods explain names',
  );
});
