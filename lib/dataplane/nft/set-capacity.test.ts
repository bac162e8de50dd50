import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NftTablePlan } from '../../planner/node-plan.js';
import { overfullSet, setCapacity, tableCapacities } from './set-capacity.js';

const many = (n: number) => Array.from({ length: n }, (_, i) => `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`);

test('big hash sets get a power-of-two size with at least half again as much room', () => {
  assert.equal(setCapacity({ interval: false, elements: many(1023) }), undefined);
  assert.equal(setCapacity({ interval: false, elements: many(1024) }), 2048);
  assert.equal(setCapacity({ interval: false, elements: many(1366) }), 4096);
  assert.equal(setCapacity({ interval: false, elements: many(100_000) }), 262_144);
  assert.equal(setCapacity({ interval: true, elements: many(5000) }), undefined, 'interval sets stay unbounded');
});

test('overfullSet names the first set past its capacity', () => {
  const table: NftTablePlan = {
    family: 'inet',
    name: 'sluice',
    sets: [
      { name: 'a', type: 'ipv4_addr', interval: false, elements: many(3000) },
      { name: 'b', type: 'ipv4_addr', interval: false, elements: many(10) },
    ],
    chains: [],
  };
  const capacities = tableCapacities(table);
  assert.deepEqual([...capacities], [['a', 8192]]);
  assert.equal(overfullSet(table, capacities), undefined);
  assert.equal(overfullSet(table, new Map([['a', 2999]])), 'a');
  assert.equal(overfullSet(table, new Map([['b', 10]])), undefined);
});
