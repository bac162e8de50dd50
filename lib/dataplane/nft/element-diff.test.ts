import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Family } from '../../api/ip.js';
import { EgressError } from '../../errors.js';
import type { NftSet, NftTablePlan } from '../../planner/node-plan.js';
import { canonicalElement, countElements, diffElements, diffObservedElements, diffPlanElements } from './element-diff.js';
import { keyText, plannedKey, sortedKeys } from './element-keys.js';
import type { ObservedSet } from './nft-types.js';

const sorted = (xs: string[]) => [...xs].sort();

describe('diffElements', () => {
  const cases: { name: string; from: string[]; to: string[]; add: string[]; remove: string[] }[] = [
    { name: 'equal lists', from: ['a', 'b', 'c'], to: ['a', 'b', 'c'], add: [], remove: [] },
    { name: 'one added in the middle', from: ['a', 'c'], to: ['a', 'b', 'c'], add: ['b'], remove: [] },
    { name: 'one removed at the end', from: ['a', 'b', 'c'], to: ['a', 'b'], add: [], remove: ['c'] },
    { name: 'one replaced', from: ['a', 'b', 'c'], to: ['a', 'x', 'c'], add: ['x'], remove: ['b'] },
    { name: 'reordered only', from: ['a', 'b', 'c'], to: ['c', 'a', 'b'], add: [], remove: [] },
    { name: 'from empty', from: [], to: ['a', 'b'], add: ['a', 'b'], remove: [] },
    { name: 'to empty', from: ['a', 'b'], to: [], add: [], remove: ['a', 'b'] },
    { name: 'disjoint', from: ['a', 'b'], to: ['c', 'd'], add: ['c', 'd'], remove: ['a', 'b'] },
    { name: 'shifted by one at the front', from: ['b', 'c', 'd'], to: ['a', 'b', 'c'], add: ['a'], remove: ['d'] },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const d = diffElements(c.from, c.to);
      assert.deepEqual({ add: sorted(d.add), remove: sorted(d.remove) }, { add: c.add, remove: c.remove });
    });
  }

  test('agrees with a plain Set difference on random lists', () => {
    let seed = 42;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let round = 0; round < 300; round++) {
      const universe = Array.from({ length: 40 }, (_, i) => `10.0.0.${i}`);
      const pick = () => universe.filter(() => rand(3) > 0);
      const from = pick();
      const to = rand(2) ? pick() : [...pick()].reverse();
      const d = diffElements(from, to);
      const expectAdd = to.filter((e) => !from.includes(e));
      const expectRemove = from.filter((e) => !to.includes(e));
      assert.deepEqual(sorted(d.add), sorted(expectAdd), `round ${round}`);
      assert.deepEqual(sorted(d.remove), sorted(expectRemove), `round ${round}`);
    }
  });

  // Its cost is measured by bench/dataplane ("incremental (1 endpoint)" at 100k), not here: a
  // time limit in a test fails on a loaded machine.
  test('a one-pod change in a 100k list', () => {
    const from = Array.from({ length: 100_000 }, (_, i) => `10.${64 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`);
    const to = [...from.slice(0, 50_000), '10.200.0.1', ...from.slice(50_001)];
    assert.deepEqual(diffElements(from, to), { add: ['10.200.0.1'], remove: [from[50_000]] });
  });
});

const set = (name: string, elements: string[], interval = false): NftSet => ({ name, type: 'ipv4_addr', interval, elements });
const table = (sets: NftSet[]): NftTablePlan => ({ family: 'inet', name: 'sluice', sets, chains: [] });

test('diffPlanElements lists only the sets that changed', () => {
  const from = table([set('a', ['10.0.0.1']), set('b', ['10.0.0.2']), set('c', [])]);
  const to = table([set('a', ['10.0.0.1']), set('b', ['10.0.0.3']), set('c', ['10.0.0.4'])]);
  const changes = diffPlanElements(from, to);
  assert.deepEqual(changes, [
    { set: 'b', add: ['10.0.0.3'], remove: ['10.0.0.2'] },
    { set: 'c', add: ['10.0.0.4'], remove: [] },
  ]);
  assert.deepEqual(countElements(changes), { added: 2, removed: 1 });
});

describe('canonicalElement', () => {
  const cases: [string, string][] = [
    ['10.0.0.1', '10.0.0.1'],
    ['10.0.0.0/24', '10.0.0.0/24'],
    ['10.0.0.0-10.0.0.255', '10.0.0.0/24'],
    ['10.1.0.0-10.1.0.5', '10.1.0.0-10.1.0.5'],
    ['fd00::01', 'fd00::1'],
    ['FD00:0:0::/64', 'fd00::/64'],
  ];
  for (const [input, expected] of cases) test(`${input} → ${expected}`, () => assert.equal(canonicalElement(input), expected));
  test('rejects what is not an address', () => assert.throws(() => canonicalElement('@set'), EgressError));
});

test('diffObservedElements matches kernel and plan notation, deletes in kernel notation', () => {
  const observed: ObservedSet[] = [
    { name: 'cluster4', type: 'ipv4_addr', flags: ['interval'], interval: true, elements: ['10.96.0.0-10.111.255.255', '10.0.0.0/25', '10.0.0.128/25'] },
    { name: 'pods4', type: 'ipv4_addr', flags: [], interval: false, elements: ['10.244.1.5', '10.244.1.6'] },
  ];
  const desired = table([set('cluster4', ['10.0.0.0/24', '10.96.0.0/12'], true), set('pods4', ['10.244.1.5', '10.244.1.7'])]);
  assert.deepEqual(diffObservedElements(observed, desired), [
    { set: 'cluster4', add: ['10.0.0.0/24'], remove: ['10.0.0.0/25', '10.0.0.128/25'] },
    { set: 'pods4', add: ['10.244.1.7'], remove: ['10.244.1.6'] },
  ]);
  const same = table([set('cluster4', ['10.0.0.0/25', '10.0.0.128/25', '10.96.0.0/12'], true), set('pods4', ['10.244.1.6', '10.244.1.5'])]);
  assert.deepEqual(diffObservedElements(observed, same), []);
});

test("learned sets are the DNS forwarder's: no diff ever adds to or removes from them", () => {
  const learned: NftSet = { name: 'f_x_n0_4', type: 'ipv4_addr', interval: false, elements: [], learned: true };
  const table: NftTablePlan = { family: 'inet', name: 'sluice', sets: [learned], chains: [] };
  const observed: ObservedSet[] = [{ name: 'f_x_n0_4', type: 'ipv4_addr', flags: ['timeout'], interval: false, elements: ['198.18.1.10', '198.18.1.11'] }];
  assert.deepEqual(diffObservedElements(observed, table), []);
  assert.deepEqual(diffPlanElements({ ...table, sets: [{ ...learned, elements: ['198.18.1.10'] }] }, table), []);
});

describe('diffObservedElements on compact keys (sets without intervals read over netlink)', () => {
  let seed = 5;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return Math.floor((seed / 2 ** 31) * n); // the high bits: the low ones of this generator repeat in short cycles
  };
  const v4 = (i: number) => `10.${64 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
  const v6 = (i: number) => `fd00:10:244::${i.toString(16)}`;
  /** The same kernel set twice: with keys (in hash order, as dumped) and as texts only (the listing's form). */
  function kernelSet(name: string, family: Family, addresses: readonly string[]): { withKeys: ObservedSet; textOnly: ObservedSet } {
    const keys = addresses.map((a) => plannedKey(a, family)!).sort(() => rand(3) - 1);
    const textOnly: ObservedSet = { name, type: `ipv${family}_addr`, flags: [], interval: false, elements: sortedKeys(keys, family).map(keyText) };
    return { textOnly, withKeys: { ...textOnly, keys: { family, keys } } };
  }
  const plannedSet = (name: string, family: Family, elements: string[]): NftSet => ({ name, type: family === 4 ? 'ipv4_addr' : 'ipv6_addr', interval: false, elements });

  test('gives what the text diff gives on random churn, both families, with notation the text diff canonicalizes', () => {
    for (let round = 0; round < 200; round++) {
      const sets: { withKeys: ObservedSet; textOnly: ObservedSet }[] = [];
      const planned: NftSet[] = [];
      for (const [family, address] of [
        [4, v4],
        [6, v6],
      ] as const) {
        const universe = Array.from({ length: 60 }, (_, i) => address(i * 977));
        const held = universe.filter(() => rand(4) > 0);
        let want = universe.filter(() => rand(4) > 0);
        if (rand(5) === 0) want = [...want, ...want.slice(0, 3)]; // listed twice
        if (family === 6 && rand(3) === 0) want = want.map((a) => a.toUpperCase().replace('::', ':0:0:0:')); // same addresses, other spelling
        if (family === 4 && rand(6) === 0) want = [...want, '10.0.0.0/24']; // a prefix in a set without intervals: the text diff decides
        sets.push(kernelSet(`all${family}`, family, held));
        planned.push(plannedSet(`all${family}`, family, want));
      }
      planned.push(set('cluster4', ['10.0.0.0/24', '10.96.0.0/12'], true));
      const intervals: ObservedSet = { name: 'cluster4', type: 'ipv4_addr', flags: ['interval'], interval: true, elements: ['10.96.0.0-10.111.255.255', '10.0.0.0/25'] };
      const fast = diffObservedElements([...sets.map((s) => s.withKeys), intervals], table(planned));
      const slow = diffObservedElements([...sets.map((s) => s.textOnly), intervals], table(planned));
      assert.deepEqual(fast, slow, `round ${round}`);
    }
  });

  test('finds a one-pod change in 100k keys, and an equal plan gives nothing', () => {
    const addresses = Array.from({ length: 100_000 }, (_, i) => v4(i));
    const { withKeys } = kernelSet('all4', 4, addresses);
    const want = [...addresses.slice(0, 50_000), '10.200.0.1', ...addresses.slice(50_001)].sort();
    assert.deepEqual(diffObservedElements([withKeys], table([plannedSet('all4', 4, want)])), [{ set: 'all4', add: ['10.200.0.1'], remove: [addresses[50_000]] }]);
    assert.deepEqual(diffObservedElements([withKeys], table([plannedSet('all4', 4, [...addresses].sort())])), []);
  });
});
