/** Drained nodes (cordon or annotation) are not eligible while another node is; nothing moves back when they return. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Snapshot } from './snapshot.js';
import { plan } from './plan.js';
import { resolveCluster } from './resolve.js';
import { rendezvousPick } from './hrw.js';
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
