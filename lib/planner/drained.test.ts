/** Drained nodes (cordon or annotation) are not eligible while another node is; nothing moves back when they return. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Snapshot } from './snapshot.js';
import { plan } from './plan.js';
import { resolveCluster } from './resolve.js';
import { rendezvousPick } from './hrw.js';
import { drainedAside } from './drained.js';
import { DRAIN_ANNOTATION } from '../api/group.js';
import { gateway, namespace, node, pod, policy, snapshotOf } from './testing/cluster.js';

const EIP = '198.18.0.110';
const GATEWAYS = ['gateway-1', 'gateway-2', 'gateway-3'];
type Drain = { cordoned?: boolean; annotation?: string };

function cluster(statusNode: string | undefined, drains: Record<string, Drain> = {}): Snapshot {
  const gatewayNode = (name: string, i: number) => {
    const doc = node(name, i + 2, { labels: { egress: 'true' } }) as { metadata: Record<string, unknown>; spec: Record<string, unknown> };
    const d = drains[name];
    if (d?.cordoned) doc.spec = { ...doc.spec, unschedulable: true };
    if (d?.annotation !== undefined) doc.metadata = { ...doc.metadata, annotations: { [DRAIN_ANNOTATION]: d.annotation } };
    return doc;
  };
  return snapshotOf([
    node('worker-1', 1),
    ...GATEWAYS.map(gatewayNode),
    namespace('default'),
    pod('default', 'client', 'worker-1', ['10.244.1.5'], { app: 'web' }),
    gateway('default', { nodeSelector: { selector: { matchLabels: { egress: 'true' } } }, ippools: { ipv4: ['198.18.0.100-198.18.0.120'], ipv4DefaultEIP: EIP } }),
    policy(
      'default',
      'web',
      { egressGatewayName: 'default', appliedTo: { podSelector: { matchLabels: { app: 'web' } } } },
      statusNode ? { status: { node: statusNode, eip: { ipv4: EIP } } } : {},
    ),
  ]);
}

const assignment = (s: Snapshot) => resolveCluster(s).assignment.policies.get('default/web')!;

test('a cordoned or drained carrier is not eligible: every node computes the same successor', () => {
  for (const drain of [{ cordoned: true }, { annotation: 'true' }, { cordoned: true, annotation: 'true' }]) {
    const s = cluster('gateway-1', { 'gateway-1': drain });
    const successor = rendezvousPick(EIP, ['gateway-2', 'gateway-3'])!;
    assert.deepEqual(resolveCluster(s).eligible.get('default'), ['gateway-2', 'gateway-3'], JSON.stringify(drain));
    for (const n of ['worker-1', ...GATEWAYS]) assert.equal(plan(s, n).policies[0]!.node, successor, `${n} agrees (${JSON.stringify(drain)})`);
    assert.deepEqual(plan(s, 'gateway-1').eips, [], 'the drained node holds no EIP in its plan (its handoff keeps the applied one until the successor holds it)');
    assert.deepEqual(
      plan(s, successor).eips.map((e) => e.ip),
      [EIP],
    );
  }
});

test('the annotation false keeps a cordoned node eligible; an invalid value leaves the cordon to decide and is a plan notice', () => {
  assert.equal(assignment(cluster('gateway-1', { 'gateway-1': { cordoned: true, annotation: 'false' } })).node, 'gateway-1');
  const bad = cluster('gateway-1', { 'gateway-1': { cordoned: true, annotation: 'maybe' } });
  assert.notEqual(assignment(bad).node, 'gateway-1');
  assert.ok(
    resolveCluster(bad).notices.some((n) => n.startsWith('Node "gateway-1": annotation') && n.includes('"maybe"')),
    'reported',
  );
  assert.equal(assignment(cluster('gateway-1', { 'gateway-1': { annotation: 'maybe' } })).node, 'gateway-1', 'not cordoned: an invalid value drains nothing');
});

test('every gateway node drained: they stay eligible and the policy stays active where it is', () => {
  const all = Object.fromEntries(GATEWAYS.map((g) => [g, { cordoned: true }]));
  const a = assignment(cluster('gateway-2', all));
  assert.equal(a.active, true);
  assert.equal(a.node, 'gateway-2');
  assert.deepEqual(resolveCluster(cluster('gateway-2', all)).eligible.get('default'), GATEWAYS);
});

test('sticky: undrain moves nothing back once status names the successor', () => {
  const successor = assignment(cluster('gateway-1', { 'gateway-1': { cordoned: true } })).node!;
  assert.equal(assignment(cluster(successor)).node, successor, 'uncordoned, gateway-1 takes nothing back');
  assert.deepEqual(resolveCluster(cluster(successor)).eligible.get('default'), GATEWAYS, 'but it is eligible again');
});

test('make-before-break on workers: they steer to the drained carrier while it holds the EIP and the successor does not', () => {
  const drained = cluster('gateway-1', { 'gateway-1': { cordoned: true } });
  const successor = assignment(drained).node!;
  const holding = (nodes: string[]) => ({ ...drained, probes: { unfit: [], dead: [], holders: new Map([[EIP, nodes]]) } });
  assert.equal(assignment(holding(['gateway-1'])).steerTo, 'gateway-1');
  assert.equal(assignment(holding(['gateway-1', successor])).steerTo, undefined, 'the successor holds it: workers switch');
});

test('a drained node says it is draining once it handed its EIPs over: a worker whose API view of the cordon is late then steers to the successor, not back to it', () => {
  const successor = rendezvousPick(EIP, ['gateway-2', 'gateway-3'])!;
  // the worker has not seen the cordon (nor status naming the successor); gateway-1 let the EIP go, the successor holds it
  const late = (drainingAnswer: boolean) => ({
    ...cluster('gateway-1'),
    probes: { unfit: drainingAnswer ? ['gateway-1'] : [], dead: [], holders: new Map([[EIP, [successor]]]) },
  });
  assert.equal(assignment(late(false)).node, 'gateway-1', 'answering fit, the old carrier is the owner again by the late view: the pods are steered to a node without the EIP');
  assert.equal(assignment(late(true)).node, successor, 'answering draining, the late worker follows the successor that holds the EIP');
  assert.equal(plan(late(true), successor).eips[0]?.ip, EIP, 'and the successor, late too, keeps it');
});

test('drainedAside: a drained gateway node while its gateway has another node that is not; not when every node is drained, not a worker, not for the annotation false', () => {
  assert.equal(drainedAside(cluster('gateway-1', { 'gateway-1': { cordoned: true } }), 'gateway-1'), true);
  assert.equal(drainedAside(cluster('gateway-1', { 'gateway-1': { annotation: 'true' } }), 'gateway-1'), true);
  assert.equal(drainedAside(cluster('gateway-1', { 'gateway-1': { cordoned: true } }), 'gateway-2'), false, 'not drained');
  assert.equal(drainedAside(cluster('gateway-1', { 'gateway-1': { cordoned: true, annotation: 'false' } }), 'gateway-1'), false, 'kept eligible');
  const all = Object.fromEntries(GATEWAYS.map((g) => [g, { cordoned: true }]));
  assert.equal(drainedAside(cluster('gateway-2', all), 'gateway-1'), false, 'every node drained: they all stay eligible, so none answers draining for it');
  const worker = cluster('gateway-1');
  const cordonedWorker = { ...worker, nodes: worker.nodes.map((n) => (n.name === 'worker-1' ? { ...n, drain: { drained: true, by: 'cordon' as const } } : n)) };
  assert.equal(drainedAside(cordonedWorker, 'worker-1'), false, 'a cordoned worker is no gateway node');
});
