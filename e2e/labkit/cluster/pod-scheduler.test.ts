import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NodeObject, PodObject } from './kube-types.js';
import { pickNode, type Candidate } from './pod-scheduler.js';

function candidate(name: string, role: Candidate['role'], extra: { labels?: Record<string, string>; spec?: NodeObject['spec']; ready?: boolean } = {}): Candidate {
  return {
    role,
    node: {
      metadata: { name, labels: extra.labels ?? {} },
      spec: extra.spec ?? {},
      status: { conditions: [{ type: 'Ready', status: extra.ready === false ? 'Unknown' : 'True' }] },
    },
  };
}
const pod = (spec: PodObject['spec'] = {}): PodObject => ({ metadata: { name: 'p', namespace: 'd' }, spec });
const counts = (m: Record<string, number>) => (n: string) => m[n] ?? 0;

const nodes = [candidate('worker-1', 'worker'), candidate('worker-2', 'worker'), candidate('gateway-1', 'gateway', { labels: { egress: 'yes' } })];

test('the worker with the fewest pods wins; the first one on a tie', () => {
  assert.equal(pickNode(pod(), nodes, counts({})), 'worker-1');
  assert.equal(pickNode(pod(), nodes, counts({ 'worker-1': 2, 'worker-2': 1 })), 'worker-2');
});

test('gateways only when no worker fits; nodeSelector narrows the choice', () => {
  assert.equal(pickNode(pod({ nodeSelector: { egress: 'yes' } }), nodes, counts({ 'gateway-1': 9 })), 'gateway-1');
  assert.equal(pickNode(pod({ nodeSelector: { egress: 'no' } }), nodes, counts({})), undefined);
  assert.equal(pickNode(pod(), [nodes[2]!], counts({})), 'gateway-1');
});

test('NotReady, unschedulable and tainted nodes are skipped unless the taint is tolerated', () => {
  const unreachable = { taints: [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' as const }] };
  const set = [candidate('w1', 'worker', { ready: false }), candidate('w2', 'worker', { spec: { unschedulable: true } }), candidate('w3', 'worker', { spec: unreachable })];
  assert.equal(pickNode(pod(), set, counts({})), undefined);
  assert.equal(pickNode(pod({ tolerations: [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists' }] }), set, counts({})), 'w3');
  assert.equal(pickNode(pod({ tolerations: [{ operator: 'Exists' }] }), set, counts({})), 'w3');
  assert.equal(pickNode(pod({ tolerations: [{ key: 'other', operator: 'Exists' }] }), set, counts({})), undefined);
});
