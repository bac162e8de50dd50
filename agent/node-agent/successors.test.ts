import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plan } from '../../lib/planner/plan.js';
import { baseCluster, node, pod, policy, snapshotOf } from '../../lib/planner/testing/cluster.js';
import { carriersOf, hasSuccessor, othersServe, replaceable, withoutSuccessor } from './successors.js';

const EIP = '198.18.0.110';
const none = { unfit: [], dead: [], holders: new Map() };
const cluster = (extra: Record<string, unknown>[] = []) =>
  snapshotOf([
    ...baseCluster(),
    ...extra,
    pod('default', 'visitor', 'worker-1', ['10.244.1.5'], { app: 'visitor' }),
    policy(
      'default',
      'p',
      { egressGatewayName: 'default', appliedTo: { podSelector: { matchLabels: { app: 'visitor' } } } },
      { status: { eip: { ipv4: EIP }, node: 'gateway-1' } },
    ),
  ]);

test("carriers by EIP, from any node's plan", () => {
  assert.deepEqual([...carriersOf(plan(cluster(), 'worker-1'))], [[EIP, 'gateway-1']]);
});

test('a successor is another node that is not dead by the probes', () => {
  const s = cluster();
  assert.equal(hasSuccessor(s, none, 'gateway-1', [EIP]), true);
  assert.equal(hasSuccessor(s, { unfit: ['gateway-2'], dead: ['gateway-2'], holders: new Map() }, 'gateway-1', [EIP]), false, 'the only other gateway node is dead');
  assert.equal(hasSuccessor(s, { unfit: ['gateway-2'], dead: [], holders: new Map() }, 'gateway-1', [EIP]), false, 'the only other one is draining');
  assert.equal(hasSuccessor(s, none, 'gateway-1', []), true, 'nothing to hand over');
});

test('withoutSuccessor names the EIPs no fit node could take, and only those', () => {
  const s = cluster();
  const unused = '198.18.0.111';
  assert.deepEqual([...withoutSuccessor(s, none, 'gateway-1', [EIP, unused])], []);
  assert.deepEqual(
    [...withoutSuccessor(s, { unfit: ['gateway-2'], dead: ['gateway-2'], holders: new Map() }, 'gateway-1', [EIP, unused])],
    [EIP],
    'an EIP no policy uses has nothing to lose',
  );
});

test('replaceable: another node could carry what this one carries; a lone gateway node is not', () => {
  assert.equal(replaceable(cluster(), 'gateway-1'), true);
  const lone = snapshotOf([
    ...baseCluster().filter((d) => (d['metadata'] as { name?: string }).name !== 'gateway-2'),
    node('gateway-2', 3),
    pod('default', 'visitor', 'worker-1', ['10.244.1.5'], { app: 'visitor' }),
    policy(
      'default',
      'p',
      { egressGatewayName: 'default', appliedTo: { podSelector: { matchLabels: { app: 'visitor' } } } },
      { status: { eip: { ipv4: EIP }, node: 'gateway-1' } },
    ),
  ]);
  assert.equal(replaceable(lone, 'gateway-1'), false);
  assert.equal(replaceable(cluster(), 'worker-1'), true, 'a node that carries nothing');
});

test('othersServe: another gateway node fit by the probes serves each gateway this node may serve', () => {
  const s = cluster();
  assert.equal(othersServe(s, none, 'gateway-1'), true);
  assert.equal(othersServe(s, { unfit: ['gateway-2'], dead: [], holders: new Map() }, 'gateway-1'), false, 'the other one is aside (draining, unhealthy)');
  assert.equal(othersServe(s, { unfit: ['gateway-2'], dead: ['gateway-2'], holders: new Map() }, 'gateway-1'), false, 'the other one is dead');
  assert.equal(othersServe(s, { unfit: ['gateway-1'], dead: [], holders: new Map() }, 'gateway-1'), true, 'its own hold is left out of the question');
  assert.equal(othersServe(s, none, 'worker-1'), true, 'a node that serves no gateway');
  const lone = snapshotOf([...baseCluster().filter((d) => (d['metadata'] as { name?: string }).name !== 'gateway-2'), node('gateway-2', 3)]);
  assert.equal(othersServe(lone, none, 'gateway-1'), false, 'a lone gateway node, with or without policies');
});
