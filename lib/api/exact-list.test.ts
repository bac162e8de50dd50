import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { exactList } from './exact-list.js';

setFlagsFromString('--expose-gc');
const fullGc = runInNewContext('gc') as () => void;

function heapUsed(): number {
  fullGc();
  fullGc();
  return getHeapStatistics().used_heap_size;
}

/** Bytes per list the heap holds for `count` lists of one address each, as `make` builds them. */
function bytesPerList(count: number, make: (ip: string) => readonly string[]): number {
  const before = heapUsed();
  const kept = Array.from({ length: count }, (_, i) => make(`10.0.${i >> 8}.${i & 255}`));
  const after = heapUsed();
  assert.equal(kept.length, count);
  return (after - before) / count;
}

const pushed = (ip: string) => {
  const list: string[] = [];
  list.push(ip);
  return list;
};

test('the same items, in order, in a list of its own', () => {
  const items = ['10.0.0.2', '10.0.0.1', '10.0.0.3'];
  const list = exactList(items);
  assert.deepEqual(list, items);
  assert.notEqual(list, items);
});

test('every empty list is one frozen array', () => {
  assert.equal(exactList([]), exactList(['x'].slice(1)));
  assert.ok(Object.isFrozen(exactList([])));
  assert.throws(() => (exactList<string>([]) as string[]).push('x'), TypeError);
});

test('a list built by push is kept without the capacity its growth left', () => {
  // Deterministic sizes, not timings: a pushed list of one holds 17 slots, an exact one 1 (the
  // addresses themselves are counted in both).
  const count = 20_000;
  const grown = bytesPerList(count, pushed);
  const exact = bytesPerList(count, (ip) => exactList(pushed(ip)));
  assert.ok(exact < grown - 100, `${exact.toFixed(0)} bytes per exact list, ${grown.toFixed(0)} per pushed one`);
});
