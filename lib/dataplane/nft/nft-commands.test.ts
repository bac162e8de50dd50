import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NftTablePlan } from '../../planner/node-plan.js';
import { elementBatch, replaceBatch } from './nft-commands.js';

const table: NftTablePlan = {
  family: 'inet',
  name: 'sluice',
  sets: [{ name: 'pods4', type: 'ipv4_addr', interval: false, elements: ['10.244.1.5'] }],
  chains: [{ name: 'egress_input', type: 'filter', hook: 'input', priority: 'filter', rules: ['ip saddr @pods4 counter accept comment "p"'] }],
};

test('replaceBatch adds, deletes and defines the table, with the fingerprint as its comment', () => {
  const batch = replaceBatch(table, 'ab'.repeat(32));
  const lines = batch.text.split('\n');
  assert.deepEqual(lines.slice(0, 4), [
    'add table inet sluice',
    'delete table inet sluice',
    'table inet sluice {',
    `\tcomment "sluice-structure-v1 sha256:${'ab'.repeat(32)}"`,
  ]);
  assert.match(batch.text, /\tset pods4 \{\n\t\ttype ipv4_addr\n\t\telements = \{ 10\.244\.1\.5 \}/);
  assert.equal(batch.commands, 3);
});

test('elementBatch deletes before it adds, one command per set and direction', () => {
  const batch = elementBatch(table, [
    { set: 'a', add: ['10.0.0.0/24'], remove: ['10.0.0.0/25', '10.0.0.128/25'] },
    { set: 'b', add: ['10.0.0.9'], remove: [] },
  ]);
  assert.equal(
    batch.text,
    'delete element inet sluice a { 10.0.0.0/25, 10.0.0.128/25 }\nadd element inet sluice a { 10.0.0.0/24 }\nadd element inet sluice b { 10.0.0.9 }\n',
  );
  assert.equal(batch.commands, 3);
  assert.equal(elementBatch(table, []).commands, 0);
});
