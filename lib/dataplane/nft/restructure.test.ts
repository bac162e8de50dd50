import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NftTablePlan } from '../../planner/node-plan.js';
import { accept, addressInSet, rule } from '../../planner/nft/statements.js';
import { restructure } from './restructure.js';
import { STRUCTURE_CHAIN } from './fingerprint.js';

const input = { name: 'egress_input', type: 'filter', hook: 'input', priority: { base: 'filter', offset: 0 } } as const;
const from: NftTablePlan = {
  family: 'inet',
  name: 'sluice',
  sets: [
    { name: 'pods4', type: 'ipv4_addr', interval: false, elements: ['10.244.1.5', '10.244.1.6'] },
    { name: 'cidrs4', type: 'ipv4_addr', interval: true, elements: ['198.18.0.0/24'] },
    { name: 'gone4', type: 'ipv4_addr', interval: false, elements: ['198.18.9.9'] },
  ],
  chains: [
    { ...input, rules: [rule([addressInSet(4, 'saddr', '==', 'pods4'), accept])] },
    { name: 'egress_mark', type: 'filter', hook: 'prerouting', priority: { base: 'mangle', offset: 0 }, rules: [] },
  ],
};

test('sets with the same head stay with an element diff; others are made again; every chain is flushed, those with another head or gone deleted', () => {
  const to: NftTablePlan = {
    ...from,
    sets: [
      { name: 'pods4', type: 'ipv4_addr', interval: false, elements: ['10.244.1.6', '10.244.1.7'] },
      { name: 'cidrs4', type: 'ipv4_addr', interval: false, elements: ['198.18.0.1'] },
      { name: 'new4', type: 'ipv4_addr', interval: false, elements: ['198.18.1.1'] },
    ],
    chains: [
      { ...input, rules: [] },
      { name: 'egress_mark', type: 'filter', hook: 'prerouting', priority: { base: 'mangle', offset: 1 }, rules: [] },
      { name: 'egress_snat', type: 'nat', hook: 'postrouting', priority: { base: 'srcnat', offset: 0 }, rules: [] },
    ],
  };
  const r = restructure(from, to)!;
  assert.deepEqual(r.flushChains, ['egress_input', 'egress_mark', STRUCTURE_CHAIN]);
  assert.deepEqual(r.deleteChains, ['egress_mark']);
  assert.deepEqual(
    r.addChains.map((c) => c.name),
    ['egress_mark', 'egress_snat'],
  );
  assert.deepEqual(r.deleteSets, ['cidrs4', 'gone4']);
  assert.deepEqual(
    r.addSets.map((s) => s.name),
    ['cidrs4', 'new4'],
  );
  assert.deepEqual(r.changes, [
    { set: 'pods4', add: ['10.244.1.7'], remove: ['10.244.1.5'] },
    { set: 'cidrs4', add: ['198.18.0.1'], remove: [] },
    { set: 'new4', add: ['198.18.1.1'], remove: [] },
  ]);
});

test('another table is not restructured', () => {
  assert.equal(restructure(from, { ...from, name: 'other' }), undefined);
});
