import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LeaseObject, NodeObject } from './kube-types.js';
import { NodeHealthTracker, isMarkedReady, nodeMarking } from './node-health.js';

const GRACE = 3_000;

function node(name: string, ready: 'True' | 'Unknown' = 'True', taints: NodeObject['spec'] = {}): NodeObject {
  return { metadata: { name, resourceVersion: '1' }, spec: taints, status: { conditions: [{ type: 'Ready', status: ready }] } };
}
const lease = (name: string, renewTime: string): LeaseObject => ({ metadata: { name, namespace: 'kube-node-lease' }, spec: { renewTime } });
const verdicts = (r: ReturnType<NodeHealthTracker['observe']>) => r.map((c) => `${c.node.metadata.name}:${c.verdict}`);

test('a node whose lease stops moving is unreachable after the grace period, and Ready once it moves again', () => {
  const h = new NodeHealthTracker(GRACE);
  assert.deepEqual(verdicts(h.observe([node('a')], [lease('a', 't1')], 0)), []);
  assert.deepEqual(verdicts(h.observe([node('a')], [lease('a', 't1')], GRACE)), [], 'exactly the grace period is still fine');
  assert.deepEqual(verdicts(h.observe([node('a')], [lease('a', 't1')], GRACE + 1)), ['a:unreachable']);
  const marked = nodeMarking(node('a'), 'unreachable', 'now');
  const down = node('a', 'Unknown', { taints: marked.taints });
  assert.deepEqual(verdicts(h.observe([down], [lease('a', 't1')], GRACE + 500)), [], 'already marked: no second write');
  assert.deepEqual(verdicts(h.observe([down], [lease('a', 't2')], GRACE + 1000)), ['a:ready']);
});

test('staleness counts from when the controller saw the renewal, and restarts after it lost sight of the API server', () => {
  const h = new NodeHealthTracker(GRACE);
  h.observe([node('a')], [lease('a', 'old')], 10_000);
  assert.deepEqual(verdicts(h.observe([node('a')], [lease('a', 'old')], 12_000)), [], 'an old renewTime seen first gets a full grace period');
  h.lostSight();
  assert.deepEqual(verdicts(h.observe([node('a')], [lease('a', 'old')], 20_000)), [], 'after an outage, grace starts again');
  assert.deepEqual(verdicts(h.observe([node('a')], [lease('a', 'old')], 23_001)), ['a:unreachable']);
});

test('a node without a lease is never made Ready, and is unreachable after the grace period', () => {
  const h = new NodeHealthTracker(GRACE);
  assert.deepEqual(verdicts(h.observe([node('x', 'Unknown')], [], 0)), []);
  assert.deepEqual(verdicts(h.observe([node('x', 'Unknown')], [], GRACE + 1)), ['x:unreachable']);
});

test('marking keeps foreign taints, writes Unknown conditions with NodeStatusUnknown, and Ready removes the lifecycle taints', () => {
  const n: NodeObject = {
    metadata: { name: 'a' },
    spec: { taints: [{ key: 'dedicated', value: 'egress', effect: 'NoSchedule' }] },
    status: {
      conditions: [
        { type: 'MemoryPressure', status: 'False', lastTransitionTime: 'boot' },
        { type: 'Ready', status: 'True', lastHeartbeatTime: 'hb', lastTransitionTime: 'boot' },
      ],
    },
  };
  const down = nodeMarking(n, 'unreachable', 'now');
  assert.deepEqual(
    down.conditions.map((c) => [c.type, c.status, c.reason, c.lastHeartbeatTime, c.lastTransitionTime]),
    [
      ['MemoryPressure', 'Unknown', 'NodeStatusUnknown', undefined, 'now'],
      ['Ready', 'Unknown', 'NodeStatusUnknown', 'hb', 'now'],
    ],
  );
  assert.deepEqual(down.taints, [
    { key: 'dedicated', value: 'egress', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: 'now' },
  ]);
  const tainted: NodeObject = { ...n, spec: { taints: down.taints }, status: { conditions: down.conditions } };
  assert.equal(isMarkedReady(tainted), false);
  const up = nodeMarking(tainted, 'ready', 'later');
  assert.deepEqual(up.taints, [{ key: 'dedicated', value: 'egress', effect: 'NoSchedule' }]);
  assert.equal(up.conditions.find((c) => c.type === 'Ready')?.status, 'True');
  assert.equal(isMarkedReady({ ...n, spec: { taints: up.taints }, status: { conditions: up.conditions } }), true);
});
