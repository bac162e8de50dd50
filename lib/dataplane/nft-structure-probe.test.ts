import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NftTablePlan } from '../planner/node-plan.js';
import { fingerprintComment, STRUCTURE_CHAIN, structureFingerprint } from './nft/fingerprint.js';
import { probeNftStructure } from './nft-structure-probe.js';

const table = {
  family: 'inet',
  name: 'sluice',
  sets: [],
  chains: [
    { name: 'egress_mark', type: 'filter', hook: 'prerouting', priority: -150, rules: [{}, {}] },
    { name: 'guard', type: 'filter', hook: 'input', priority: 0, rules: [{}] },
  ],
} as unknown as NftTablePlan;
const structure = { chain: STRUCTURE_CHAIN, comment: fingerprintComment(structureFingerprint(table)) };
const rules = (...chains: string[]) => [structure, ...chains.map((chain) => ({ chain }))];

test('the nft probe: intact, missing, another structure, a rule deleted or added, an unknown chain, an unreadable kernel', () => {
  assert.deepEqual(
    probeNftStructure(table, () => rules('egress_mark', 'egress_mark', 'guard')),
    { intact: true },
  );
  assert.deepEqual(
    probeNftStructure(table, () => []),
    { intact: false, why: 'table inet sluice is missing or empty' },
  );
  assert.equal(
    probeNftStructure(table, () => [{ chain: STRUCTURE_CHAIN, comment: fingerprintComment('0'.repeat(64)) }, ...rules('egress_mark', 'egress_mark', 'guard').slice(1)]).intact,
    false,
  );
  assert.deepEqual(
    probeNftStructure(table, () => rules('egress_mark', 'guard')),
    { intact: false, why: 'chain egress_mark has 1 rules, the plan 2' },
  );
  assert.deepEqual(
    probeNftStructure(table, () => rules('egress_mark', 'egress_mark', 'guard', 'guard')),
    { intact: false, why: 'chain guard has 2 rules, the plan 1' },
  );
  assert.deepEqual(
    probeNftStructure(table, () => rules('egress_mark', 'egress_mark', 'guard', 'extra')),
    { intact: false, why: 'chains not in the plan: extra' },
  );
  assert.match(
    (
      probeNftStructure(table, () => {
        throw new Error('EPERM');
      }) as { why: string }
    ).why,
    /EPERM/,
  );
});
