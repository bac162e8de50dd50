import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EgressError } from '../../errors.js';
import type { NftTablePlan } from '../../planner/node-plan.js';
import { accept, addressInSet, counter, rule } from '../../planner/nft/statements.js';
import { elementBatch, replaceBatch } from './nft-commands.js';

const table: NftTablePlan = {
  family: 'inet',
  name: 'sluice',
  sets: [
    { name: 'pods4', type: 'ipv4_addr', interval: false, elements: ['10.244.1.5'] },
    { name: 'nets4', type: 'ipv4_addr', interval: true, elements: [] },
  ],
  chains: [
    {
      name: 'egress_input',
      type: 'filter',
      hook: 'input',
      priority: { base: 'filter', offset: 0 },
      rules: [rule([addressInSet(4, 'saddr', '==', 'pods4'), counter, accept], 'p')],
    },
  ],
};

type Commands = { nftables: Record<string, Record<string, Record<string, unknown>>>[] };

test('replaceBatch adds, deletes and defines the table, with set sizes and the fingerprint rule, in JSON and text', () => {
  const fp = 'ab'.repeat(32);
  const batch = replaceBatch(table, fp, new Map([['pods4', 2048]]));
  assert.equal(batch.commands, 3);
  const json = JSON.parse(batch.json) as Commands;
  assert.deepEqual(
    json.nftables.slice(0, 3).map((c) => Object.keys(c)[0]),
    ['add', 'delete', 'add'],
  );
  const set = json.nftables.find((c) => c.add?.set)?.add?.set;
  assert.deepEqual(set, { family: 'inet', table: 'sluice', name: 'pods4', type: 'ipv4_addr', size: 2048, elem: ['10.244.1.5'] });
  const rules = json.nftables.filter((c) => c.add?.rule).map((c) => [c.add!.rule!.chain, c.add!.rule!.comment]);
  assert.deepEqual(rules, [
    ['egress_input', 'p'],
    ['structure', `sluice-structure-v3 sha256:${fp}`],
  ]);

  const text = batch.text();
  assert.deepEqual(text.split('\n').slice(0, 3), ['add table inet sluice', 'delete table inet sluice', 'table inet sluice {']);
  assert.match(text, /\tset pods4 \{\n\t\ttype ipv4_addr\n\t\tsize 2048\n\t\telements = \{ 10\.244\.1\.5 \}/);
  assert.match(text, /\t\tip saddr @pods4 counter accept comment "p"\n/);
  assert.match(text, new RegExp(`\tchain structure \\{\n\t\treturn comment "sluice-structure-v3 sha256:${fp}"\n\t\\}\n\\}\n$`));
});

test('a value that would change the meaning of the batch is refused before anything is rendered', () => {
  const refused = (t: NftTablePlan) =>
    assert.throws(
      () => replaceBatch(t, 'ab'.repeat(32), new Map()),
      (err: unknown) => err instanceof EgressError && err.code === 'EGW_ERR_NFT_VALUE',
    );
  const hostileRule = JSON.parse(JSON.stringify(rule([addressInSet(4, 'saddr', '==', 'pods4'), accept]))) as { statements: { right: { name: string } }[] };
  hostileRule.statements[0]!.right.name = 'pods4 accept; add table ip evil';
  refused({ ...table, chains: [{ ...table.chains[0]!, rules: [hostileRule as never] }] });
  refused({ ...table, sets: [{ ...table.sets[0]!, elements: ['10.244.1.5 }; add table ip evil { '] }] });
  refused({ ...table, sets: [{ ...table.sets[0]!, elements: ['example.com'] }] });
  refused({ ...table, name: 'sluice; flush ruleset' });
  refused({ ...table, chains: [{ ...table.chains[0]!, hook: 'ingress' as never }] });
});

test('elementBatch deletes before it adds, one command per set and direction, intervals as prefixes and ranges', () => {
  const batch = elementBatch(table, [
    { set: 'nets4', add: ['10.0.0.0/24'], remove: ['10.0.0.0/25', '10.0.0.128-10.0.0.255'] },
    { set: 'pods4', add: ['10.0.0.9'], remove: [] },
  ]);
  assert.equal(batch.commands, 3);
  assert.deepEqual(JSON.parse(batch.json), {
    nftables: [
      { delete: { element: { family: 'inet', table: 'sluice', name: 'nets4', elem: [{ prefix: { addr: '10.0.0.0', len: 25 } }, { range: ['10.0.0.128', '10.0.0.255'] }] } } },
      { add: { element: { family: 'inet', table: 'sluice', name: 'nets4', elem: [{ prefix: { addr: '10.0.0.0', len: 24 } }] } } },
      { add: { element: { family: 'inet', table: 'sluice', name: 'pods4', elem: ['10.0.0.9'] } } },
    ],
  });
  assert.equal(
    batch.text(),
    'delete element inet sluice nets4 { 10.0.0.0/25, 10.0.0.128-10.0.0.255 }\nadd element inet sluice nets4 { 10.0.0.0/24 }\nadd element inet sluice pods4 { 10.0.0.9 }\n',
  );
  assert.equal(elementBatch(table, []).commands, 0);
  assert.throws(() => elementBatch(table, [{ set: 'pods4', add: ['10.0.0.0/24'], remove: [] }]), { code: 'EGW_ERR_NFT_VALUE' }, 'a prefix in a hash set');
  assert.throws(() => elementBatch(table, [{ set: 'other', add: ['10.0.0.1'], remove: [] }]), { code: 'EGW_ERR_NFT_VALUE' }, 'a set the table does not have');
});
