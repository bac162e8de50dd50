import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NftTablePlan } from '../../planner/node-plan.js';
import { addressInSet, counter, ret, rule } from '../../planner/nft/statements.js';
import { structureFingerprint } from './fingerprint.js';
import { diffNft } from './nft-diff.js';
import type { ObservedNft } from './nft-types.js';

const plan: NftTablePlan = {
  family: 'inet',
  name: 'sluice',
  sets: [{ name: 'cluster4', type: 'ipv4_addr', interval: true, elements: ['10.96.0.0/12'] }],
  chains: [
    {
      name: 'egress_mark',
      type: 'filter',
      hook: 'prerouting',
      priority: { base: 'mangle', offset: 0 },
      rules: [rule([addressInSet(4, 'daddr', '==', 'cluster4'), ret]), rule([counter])],
    },
  ],
};

const matching: ObservedNft = {
  family: 'inet',
  name: 'sluice',
  present: true,
  fingerprint: structureFingerprint(plan),
  sets: [{ name: 'cluster4', type: 'ipv4_addr', flags: ['interval'], interval: true, elements: ['10.96.0.0/12'] }],
  chains: [{ name: 'egress_mark', type: 'filter', hook: 'prerouting', rules: [{ handle: 1 }, { handle: 2 }] }],
};

test('a table that matches the plan has no differences', () => {
  assert.deepEqual(diffNft(plan, matching), []);
});

test('hand edits that keep our comment are still reported', () => {
  const ruleDeleted = { ...matching, chains: [{ ...matching.chains[0]!, rules: [{ handle: 1 }] }] };
  assert.deepEqual(
    diffNft(plan, ruleDeleted).map((l) => l.text),
    ['changed nft chain egress_mark: 1 rule(s), the plan has 2'],
  );
  const chainAdded = { ...matching, chains: [...matching.chains, { name: 'mine', rules: [] }] };
  assert.deepEqual(
    diffNft(plan, chainAdded).map((l) => l.text),
    ['extra nft chain mine'],
  );
  const setGone = { ...matching, sets: [] };
  assert.deepEqual(
    diffNft(plan, setGone).map((l) => [l.change, l.text]),
    [
      ['missing', 'missing nft set cluster4'],
      ['missing', 'missing in set cluster4: 10.96.0.0/12'],
    ],
  );
});
