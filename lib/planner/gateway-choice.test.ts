/**
 * A gateway SNATs a tunnelled packet by the policy the worker chose, or not at all. The worker
 * marks by the first active policy that matches the pod and destination; a gateway that carries a
 * lower-ranked policy selecting the same pod must not take the packet by that policy while the
 * worker and it disagree on where the higher-ranked one is carried (an EIP moving): the
 * connection would keep that policy's address.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plan } from './plan.js';
import type { NodePlan } from './node-plan.js';
import { ruleText } from './nft/render.js';
import { baseCluster, pod, policy, snapshotOf } from './testing/cluster.js';

const visitor = pod('default', 'visitor', 'worker-1', ['10.244.1.5'], { app: 'visitor' });
const other = pod('default', 'other', 'worker-1', ['10.244.1.6'], { app: 'other' });
const both = { podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['visitor', 'other'] }] } };

/** `valid` (carried by `validOn`) outranks `dst` (destSubnet, on gateway-1) and `rr` (on gateway-2). */
function docs(validOn: string, pods = [visitor, other]) {
  return [
    ...baseCluster(),
    ...pods,
    policy(
      'default',
      'valid',
      { egressGatewayName: 'default', priority: 1000, appliedTo: { podSelector: { matchLabels: { app: 'visitor' } } } },
      { status: { eip: { ipv4: '198.18.0.110' }, node: validOn } },
    ),
    policy(
      'default',
      'dst',
      {
        egressGatewayName: 'default',
        priority: 500,
        egressIP: { ipv4: '198.18.0.111' },
        destSubnet: ['203.0.113.0/24'],
        appliedTo: { podSelector: { matchLabels: { app: 'visitor' } } },
      },
      { status: { eip: { ipv4: '198.18.0.111' }, node: 'gateway-1' } },
    ),
    policy(
      'default',
      'rr',
      { egressGatewayName: 'default', egressIP: { allocatorPolicy: 'rr' }, appliedTo: both },
      { status: { eip: { ipv4: '198.18.0.101' }, node: 'gateway-2' } },
    ),
  ];
}

const markRules = (p: NodePlan) => p.nft.chains.find((c) => c.name === 'egress_mark')!.rules.map(ruleText);
const prefixOf = (p: NodePlan, name: string) => p.policies.find((x) => x.key === `default/${name}`)!.setPrefix;
const elements = (p: NodePlan, set: string) => p.nft.sets.find((s) => s.name === set)?.elements;

test('a gateway does not take the pods of a higher-ranked policy carried elsewhere by its own lower-ranked one', () => {
  const g2 = plan(snapshotOf(docs('gateway-1')), 'gateway-2');
  assert.deepEqual(
    g2.policies.map((p) => [p.key, p.node, p.role]),
    [
      ['default/valid', 'gateway-1', 'none'],
      ['default/dst', 'gateway-1', 'none'],
      ['default/rr', 'gateway-2', 'gateway'],
    ],
  );
  const rules = markRules(g2);
  const [rr, dst] = [prefixOf(g2, 'rr'), prefixOf(g2, 'dst')];
  const take = rules.findIndex((r) => r.includes(`@${rr}_all4`) && r.includes('gateway default/rr'));
  const stopAbove = rules.findIndex((r) => r === `iifname "egress.vxlan" ct direction original ip saddr @${rr}_abv4 accept`);
  const stopDst = rules.findIndex((r) => r === `iifname "egress.vxlan" ct direction original ip saddr @${dst}_oth4 ip daddr @${dst}_dst4 accept`);
  assert.ok(take > 0 && stopAbove >= 0 && stopDst >= 0, rules.join('\n'));
  assert.ok(stopDst < stopAbove && stopAbove < take, `stops come first, each at its rank:\n${rules.join('\n')}`);
  assert.deepEqual(elements(g2, `${rr}_abv4`), ['10.244.1.5'], 'the visitor: valid selects it, and valid is on gateway-1');
  assert.deepEqual(elements(g2, `${dst}_oth4`), ['10.244.1.5']);
  assert.deepEqual(elements(g2, `${rr}_all4`), ['10.244.1.5', '10.244.1.6'], 'rr still relays the pod only it selects');
  assert.equal(rules.filter((r) => r.includes(`@${prefixOf(g2, 'valid')}_`)).length, 0, 'a policy without destination conditions needs no rule of its own');
});

test('where the higher-ranked policy is carried too, it takes its pods there; the node it left stops them', () => {
  const g2 = plan(snapshotOf(docs('gateway-2')), 'gateway-2');
  const rules = markRules(g2);
  assert.ok(!rules.some((r) => r.includes('_abv4')), rules.join('\n'));
  assert.ok(rules.some((r) => r.includes('gateway default/valid')));
  // ... and gateway-1, which carries dst below valid, now stops the visitor instead
  const g1 = plan(snapshotOf(docs('gateway-2')), 'gateway-1');
  assert.deepEqual(elements(g1, `${prefixOf(g1, 'dst')}_abv4`), ['10.244.1.5']);
});

test('which stop rules exist depends on the policies, never on pods: churn only changes set elements', () => {
  const structure = (p: NodePlan) => JSON.stringify({ chains: p.nft.chains, sets: p.nft.sets.map((s) => s.name) });
  const g2 = plan(snapshotOf(docs('gateway-1')), 'gateway-2');
  const g2Alone = plan(snapshotOf(docs('gateway-1', [other])), 'gateway-2');
  assert.equal(structure(g2Alone), structure(g2));
  assert.deepEqual(elements(g2Alone, `${prefixOf(g2Alone, 'rr')}_abv4`), []);
});

test('a worker marks exactly as before: stop rules are a gateway matter', () => {
  const w = plan(snapshotOf(docs('gateway-1')), 'worker-1');
  assert.ok(!markRules(w).some((r) => r.includes('_abv') || r.includes('_oth')));
});

test('carried and elsewhere policies taking turns on the same pods: each stop lands before the next carried policy that takes them', () => {
  // ranks by priority: up1 (gateway-1), mine1 (gateway-2), up2 (gateway-1), mine2 (gateway-2); all select the visitor, mine2 also `other`
  const ranked = (name: string, priority: number, ip: string, on: string, appliedTo: object = { podSelector: { matchLabels: { app: 'visitor' } } }) =>
    policy('default', name, { egressGatewayName: 'default', priority, egressIP: { ipv4: ip }, appliedTo }, { status: { eip: { ipv4: ip }, node: on } });
  const g2 = plan(
    snapshotOf([
      ...baseCluster(),
      visitor,
      other,
      ranked('up1', 400, '198.18.0.112', 'gateway-1'),
      ranked('mine1', 300, '198.18.0.113', 'gateway-2'),
      ranked('up2', 200, '198.18.0.114', 'gateway-1', both),
      ranked('mine2', 100, '198.18.0.115', 'gateway-2', both),
    ]),
    'gateway-2',
  );
  assert.deepEqual(
    g2.policies.map((p) => [p.key, p.role]),
    [
      ['default/up1', 'none'],
      ['default/mine1', 'gateway'],
      ['default/up2', 'none'],
      ['default/mine2', 'gateway'],
    ],
  );
  assert.deepEqual(elements(g2, `${prefixOf(g2, 'mine1')}_abv4`), ['10.244.1.5'], 'up1 selects the visitor: stopped before mine1');
  assert.deepEqual(elements(g2, `${prefixOf(g2, 'mine2')}_abv4`), ['10.244.1.5', '10.244.1.6'], 'up2 selects both: stopped before mine2, also the visitor mine1 lists above it');
});
