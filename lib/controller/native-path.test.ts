import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveCluster } from '../planner/resolve.js';
import { gateway, lanTunnel, namespace, node, policy, snapshotOf } from '../planner/testing/cluster.js';
import { nativePathCondition } from './native-path.js';

type Doc = Record<string, unknown>;

function conditionFor(docs: Doc[], podNodes: string[]) {
  const snapshot = snapshotOf(docs);
  const resolution = resolveCluster(snapshot);
  const p = snapshot.policies[0]!;
  const a = resolution.assignment.policies.get(p.key)!;
  return { carrier: a.node, condition: nativePathCondition(p, a, snapshot, resolution.directory, new Set(podNodes)) };
}

function docs(transport: string, workerLan?: string): Doc[] {
  return [
    node('worker-1', 1),
    node('worker-2', 4),
    node('gateway-1', 2, { labels: { egress: 'true' } }),
    namespace('default'),
    gateway('default', { transport, nodeSelector: { selector: { matchLabels: { egress: 'true' } } }, ippools: { ipv4: ['198.18.0.110'] } }),
    lanTunnel('worker-1', 1, workerLan),
    lanTunnel('worker-2', 4),
    lanTunnel('gateway-1', 2),
    policy('default', 'test', { egressGatewayName: 'default', appliedTo: { podSelector: {} } }),
  ];
}

test('NativePath: absent for a vxlan gateway, True when every node with selected pods is on the carrier segment', () => {
  assert.equal(conditionFor(docs('vxlan'), ['worker-1']).condition, undefined);
  const { condition } = conditionFor(docs('native'), ['worker-1', 'worker-2', 'gateway-1']);
  assert.deepEqual(condition && [condition.status, condition.reason], ['True', 'OnSegment']);
});

test('NativePath: False NotOnSegment naming the worker off the segment and why', () => {
  const { condition, carrier } = conditionFor(docs('native', '198.18.0.11/30'), ['worker-1', 'worker-2']);
  assert.ok(condition);
  assert.deepEqual([condition.status, condition.reason], ['False', 'NotOnSegment']);
  assert.match(
    condition.message,
    new RegExp(`^nodes "worker-1" are not on the LAN segment of node "${carrier}" \\(worker-1 198\\.18\\.0\\.11/30 and ${carrier} .* are not on one prefix\\)`),
  );
  assert.doesNotMatch(condition.message, /worker-2/);
});
