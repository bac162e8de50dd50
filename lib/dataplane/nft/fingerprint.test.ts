import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NftTablePlan } from '../../planner/node-plan.js';
import { accept, addressInSet, ret, rule } from '../../planner/nft/statements.js';
import { fingerprintComment, fingerprintFromComment, structureFingerprint } from './fingerprint.js';

const base: NftTablePlan = {
  family: 'inet',
  name: 'sluice',
  sets: [
    { name: 'cluster4', type: 'ipv4_addr', interval: true, elements: ['10.96.0.0/12'] },
    { name: 'p_all4', type: 'ipv4_addr', interval: false, elements: ['10.244.1.5'] },
  ],
  chains: [{ name: 'egress_mark', type: 'filter', hook: 'prerouting', priority: { base: 'mangle', offset: 0 }, rules: [rule([addressInSet(4, 'daddr', '==', 'cluster4'), ret])] }],
};

test('the fingerprint ignores set elements', () => {
  const churned = { ...base, sets: base.sets.map((s) => ({ ...s, elements: [...s.elements, '10.244.9.9'] })) };
  assert.equal(structureFingerprint(churned), structureFingerprint(base));
});

test('the fingerprint changes with anything structural', () => {
  const variants: [string, NftTablePlan][] = [
    ['rule', { ...base, chains: [{ ...base.chains[0]!, rules: [rule([addressInSet(4, 'daddr', '==', 'cluster4'), accept])] }] }],
    ['rule comment', { ...base, chains: [{ ...base.chains[0]!, rules: [rule([addressInSet(4, 'daddr', '==', 'cluster4'), ret], 'x')] }] }],
    ['chain priority', { ...base, chains: [{ ...base.chains[0]!, priority: { base: 'mangle', offset: 1 } }] }],
    ['set type', { ...base, sets: [{ ...base.sets[0]!, type: 'ipv6_addr' }, base.sets[1]!] }],
    ['interval flag', { ...base, sets: [base.sets[0]!, { ...base.sets[1]!, interval: true }] }],
    ['set added', { ...base, sets: [...base.sets, { name: 'x', type: 'ipv4_addr', interval: false, elements: [] }] }],
    ['chain hook', { ...base, chains: [{ ...base.chains[0]!, hook: 'input' }] }],
    ['table name', { ...base, name: 'other' }],
  ];
  const fp = structureFingerprint(base);
  for (const [what, variant] of variants) assert.notEqual(structureFingerprint(variant), fp, what);
});

test('the comment round-trips and fits nft comment limits', () => {
  const fp = structureFingerprint(base);
  const comment = fingerprintComment(fp);
  assert.ok(Buffer.byteLength(comment) <= 128, comment);
  assert.equal(fingerprintFromComment(comment), fp);
  assert.equal(fingerprintFromComment('hand-made table'), undefined);
  assert.equal(fingerprintFromComment(undefined), undefined);
});

test('the fingerprint is the same for a table planned again and for one read back from its JSON', async () => {
  const { plan } = await import('../../planner/plan.js');
  const { everyRuleCluster, snapshotOf } = await import('../../planner/testing/cluster.js');
  for (const node of ['worker-1', 'gateway-1']) {
    const table = plan(snapshotOf(everyRuleCluster()), node).nft;
    const again = plan(snapshotOf([...everyRuleCluster()].reverse()), node).nft;
    assert.equal(structureFingerprint(again), structureFingerprint(table), `${node}: planned twice`);
    assert.equal(structureFingerprint(JSON.parse(JSON.stringify(table)) as NftTablePlan), structureFingerprint(table), `${node}: through JSON`);
  }
});

test('a table fingerprinted by the previous format (v2) is not recognised, so it is replaced once', () => {
  assert.equal(fingerprintFromComment(`sluice-structure-v2 sha256:${'ab'.repeat(32)}`), undefined);
  assert.match(fingerprintComment(structureFingerprint(base)), /^sluice-structure-v3 sha256:/);
});

test('a fingerprinted table cannot change behind its fingerprint; its elements can', () => {
  const table: NftTablePlan = structuredClone(base);
  const fp = structureFingerprint(table);
  const chain = table.chains[0]!;
  assert.throws(() => (chain.rules as unknown[]).push(rule([accept])), TypeError);
  assert.throws(() => ((chain as { hook: string }).hook = 'input'), TypeError);
  assert.throws(() => ((table.sets[0] as { type: string }).type = 'ipv6_addr'), TypeError);
  (table.sets[1]!.elements as string[]).push('10.244.9.9');
  assert.equal(structureFingerprint(table), fp);
});
