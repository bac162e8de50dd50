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

test('replaceBatch adds, deletes and defines the table, with set sizes and the fingerprint rule', () => {
  const fp = 'ab'.repeat(32);
  const batch = replaceBatch(table, fp, new Map([['pods4', 2048]]));
  const lines = batch.text.split('\n');
  assert.deepEqual(lines.slice(0, 3), ['add table inet sluice', 'delete table inet sluice', 'table inet sluice {']);
  assert.match(batch.text, /\tset pods4 \{\n\t\ttype ipv4_addr\n\t\tsize 2048\n\t\telements = \{ 10\.244\.1\.5 \}/);
  assert.match(batch.text, new RegExp(`\tchain structure \\{\n\t\treturn comment "sluice-structure-v2 sha256:${fp}"\n\t\\}\n\\}\n$`));
  assert.equal(batch.commands, 3);
  const json = JSON.parse(batch.json ?? 'null') as { nftables: Record<string, Record<string, Record<string, unknown>>>[] };
  assert.deepEqual(
    json.nftables.slice(0, 3).map((c) => Object.keys(c)[0]),
    ['add', 'delete', 'add'],
  );
  const set = json.nftables.find((c) => c.add?.set)?.add?.set;
  assert.deepEqual(set, { family: 'inet', table: 'sluice', name: 'pods4', type: 'ipv4_addr', size: 2048, elem: ['10.244.1.5'] });
  const rules = json.nftables.filter((c) => c.add?.rule).map((c) => [c.add!.rule!.chain, c.add!.rule!.comment]);
  assert.deepEqual(rules, [['egress_input', 'p'], ['structure', `sluice-structure-v2 sha256:${fp}`]]);
});

test('replaceBatch has no JSON form when a rule is outside the JSON vocabulary', () => {
  const odd: NftTablePlan = { ...table, chains: [{ ...table.chains[0]!, rules: ['meta skuid 0 accept'] }] };
  const batch = replaceBatch(odd, 'ab'.repeat(32), new Map());
  assert.equal(batch.json, undefined);
  assert.match(batch.text, /meta skuid 0 accept/);
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
