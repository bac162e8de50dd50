import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planLab } from '../plan.js';
import type { LabState, PodState } from '../state.js';
import type { PodObject } from './kube-types.js';
import { planPodSync } from './pod-sync-plan.js';

function lab(): LabState {
  return planLab('t', '/tmp/t', { workers: 1, gateways: 1, ipv6: false, nodeGraceSeconds: 3, plugins: [] });
}
function pod(name: string, uid: string, nodeName?: string, extra: Partial<PodObject['metadata']> = {}): PodObject {
  return { metadata: { name, namespace: 'd', uid, ...extra }, spec: nodeName ? { nodeName } : {} };
}
function made(name: string, uid: string | undefined, node = 'worker-1'): PodState {
  return { namespace: 'd', name, node, netns: `x-${name}`, hostVeth: `x-${name}`, host: 2, ips: ['10.244.1.2'], labels: {}, ...(uid ? { uid } : {}) };
}
const names = (p: ReturnType<typeof planPodSync>) => ({ remove: p.remove.map((m) => m.name), add: p.add.map((o) => o.metadata.name), relabel: p.relabel.map((r) => r.made.name) });

test('bound pods on lab nodes are made; gone, replaced, terminating and moved ones removed', () => {
  const s = lab();
  s.pods = [made('gone', 'u1'), made('same', 'u2'), made('replaced', 'old'), made('moved', 'u4'), made('ending', 'u5'), made('bare', undefined)];
  const pods = [
    pod('same', 'u2', 'worker-1'),
    pod('replaced', 'new', 'worker-1'),
    pod('moved', 'u4', 'gateway-1'),
    pod('ending', 'u5', 'worker-1', { deletionTimestamp: 'now' }),
    pod('new', 'u6', 'gateway-1'),
    pod('unbound', 'u7'),
    pod('elsewhere', 'u8', 'not-a-lab-node'),
  ];
  assert.deepEqual(names(planPodSync(s, pods)), { remove: ['gone', 'replaced', 'moved', 'ending'], add: ['replaced', 'moved', 'new'], relabel: [] });
});

test('pods wait while their node is failed; label changes are carried into the lab state', () => {
  const s = lab();
  s.nodes.find((n) => n.name === 'gateway-1')!.failed = true;
  s.pods = [made('a', 'u1')];
  const pods = [pod('a', 'u1', 'worker-1', { labels: { app: 'x' } }), pod('b', 'u2', 'gateway-1')];
  const plan = planPodSync(s, pods);
  assert.deepEqual(names(plan), { remove: [], add: [], relabel: ['a'] });
  assert.deepEqual(plan.relabel[0]!.labels, { app: 'x' });
});
