import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FULL_SHAPE, nodeIp, podCidr, podPlace, policyDoc, selectionOf, selects } from './cluster-model.js';
import { Journal, percentile } from './journal.js';

test("every pod of the full shape has its own address inside its node's pod CIDR", () => {
  const seen = new Set<string>();
  for (let p = 0; p < FULL_SHAPE.pods; p += 97) {
    const place = podPlace(FULL_SHAPE, p);
    assert.ok(!seen.has(place.ip), place.ip);
    seen.add(place.ip);
    assert.equal(`${place.ip.split('.').slice(0, 3).join('.')}.0/24`, podCidr(place.node));
  }
  assert.equal(nodeIp(999), '198.18.4.231');
  assert.throws(() => podPlace({ ...FULL_SHAPE, nodes: 10 }, 10 * 254), /more than 254 pods/);
});

test('the oracle follows the policy kinds: namespaced by label, namespaced by subnet, cluster by team', () => {
  const pod = podPlace(FULL_SHAPE, 0); // ns-000, node 0, app a0
  const namespaced = selectionOf(FULL_SHAPE, 0);
  assert.deepEqual([namespaced.cluster, namespaced.namespace, namespaced.app], [false, 'ns-000', 'a0']);
  assert.equal(selects(namespaced, pod), true);
  assert.equal(selects(selectionOf(FULL_SHAPE, 0, 1), pod), false, 'an edit moves the selector away');
  const bySubnet = selectionOf(FULL_SHAPE, 3);
  assert.equal(bySubnet.podSubnetNode, podPlace(FULL_SHAPE, 3 * 500).node);
  assert.deepEqual((policyDoc(FULL_SHAPE, 3).spec as { appliedTo: unknown }).appliedTo, { podSubnet: [podCidr(bySubnet.podSubnetNode!)] });
  const cluster = selectionOf(FULL_SHAPE, 4); // team t4
  assert.equal(cluster.cluster, true);
  assert.equal(selects(cluster, podPlace(FULL_SHAPE, 4 * 500)), true, 'ns-004 is in team t4, the pod is app a0');
  assert.equal(selects(cluster, podPlace(FULL_SHAPE, 5 * 500)), false, 'ns-005 is in team t5');
  assert.equal(selects(cluster, podPlace(FULL_SHAPE, 4 * 500 + 1)), false, 'app a1');
  const everywhere = selectionOf(FULL_SHAPE, 9); // q % 3 === 0: no namespaceSelector
  assert.equal(everywhere.team, undefined);
});

test('the journal indexes slice members and times their arrival and departure', () => {
  const j = new Journal();
  const slice = (endpoints: { ns: string; pod: string }[], type = 'MODIFIED') => ({
    resource: 'egressendpointslices.egress.sluice.dev',
    type,
    object: { metadata: { name: 's1', namespace: 'ns-000', labels: { 'egress.sluice.dev/policy': 'p-0000' } }, endpoints },
  });
  const arrived: number[] = [];
  j.awaitPod('ns-000/a', true, 100, (ms) => arrived.push(ms));
  j.record(slice([{ ns: 'ns-000', pod: 'a' }], 'ADDED'), 130);
  assert.deepEqual(arrived, [30]);
  assert.deepEqual([...j.podsByPolicy().get('ns-000/p-0000')!], ['ns-000/a']);
  const left: number[] = [];
  j.awaitPod('ns-000/a', false, 200, (ms) => left.push(ms));
  j.record(slice([]), 260);
  assert.deepEqual(left, [60]);
  assert.equal(j.slicesOfPod.get('ns-000/a')?.size, 0);
  assert.equal(percentile([5, 1, 3, 2, 4], 50), 3);
  assert.equal(percentile([5, 1, 3, 2, 4], 99), 5);
});
