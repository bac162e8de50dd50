import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Endpoint } from '../api/model.js';
import { layoutSlices, type SliceContent } from './slice-layout.js';

function ep(i: number, ip = `10.244.0.${i % 250}`): Endpoint {
  return { namespace: 'default', pod: `pod-${String(i).padStart(4, '0')}`, node: 'w1', ipv4: [ip], ipv6: [] };
}

function namer(): () => string {
  let n = 0;
  return () => `new-${n++}`;
}

function apply(existing: SliceContent[], layout: ReturnType<typeof layoutSlices>): SliceContent[] {
  const updated = new Map(layout.update.map((s) => [s.name, s]));
  return [...existing.filter((s) => !layout.remove.includes(s.name)).map((s) => updated.get(s.name) ?? s), ...layout.create];
}

test('a new policy gets ceil(n/100) slices; one that selects no pod gets none', () => {
  const layout = layoutSlices(
    Array.from({ length: 250 }, (_, i) => ep(i)),
    [],
    namer(),
  );
  assert.deepEqual(
    layout.create.map((s) => s.endpoints.length),
    [100, 100, 50],
  );
  assert.equal(layout.update.length + layout.remove.length, 0);
  const empty = layoutSlices([], [], namer());
  assert.deepEqual([empty.create, empty.update, empty.remove], [[], [], []]);
});

test('one pod joining, leaving or changing IP touches exactly one slice', () => {
  const all = Array.from({ length: 250 }, (_, i) => ep(i));
  let slices = apply([], layoutSlices(all, [], namer()));
  const cases: [string, Endpoint[]][] = [
    ['join', [...all, ep(900)]],
    ['leave', all.filter((e) => e.pod !== 'pod-0042')],
    ['new IP', all.map((e) => (e.pod === 'pod-0150' ? ep(150, '10.244.9.9') : e))],
  ];
  for (const [name, desired] of cases) {
    const layout = layoutSlices(desired, slices, namer());
    assert.equal(layout.create.length + layout.update.length + layout.remove.length, 1, name);
  }
  const unchanged = layoutSlices(all, slices, namer());
  assert.equal(unchanged.create.length + unchanged.update.length + unchanged.remove.length, 0, 'no change, no write');
  slices = apply(slices, layoutSlices([...all, ep(900)], slices, namer()));
  assert.equal(slices.flatMap((s) => s.endpoints).length, 251);
});

test('endpoints stay where they are; duplicates and overfull slices are repaired', () => {
  const existing: SliceContent[] = [
    { name: 'a', endpoints: [ep(1), ep(2), ep(3)] },
    { name: 'b', endpoints: [ep(3), ep(4)] },
  ];
  const layout = layoutSlices([ep(1), ep(2), ep(3), ep(4)], existing, namer());
  assert.deepEqual(
    layout.update.map((s) => [s.name, s.endpoints.map((e) => e.pod)]),
    [['b', ['pod-0004']]],
  );
  const over = layoutSlices(
    Array.from({ length: 5 }, (_, i) => ep(i)),
    [{ name: 'a', endpoints: Array.from({ length: 5 }, (_, i) => ep(i)) }],
    namer(),
    3,
  );
  const result = apply([{ name: 'a', endpoints: [] }], over);
  assert.ok(result.every((s) => s.endpoints.length <= 3));
  assert.equal(result.flatMap((s) => s.endpoints).length, 5);
});

test('emptied slices are removed, the last one too', () => {
  const existing: SliceContent[] = [
    { name: 'a', endpoints: [ep(1)] },
    { name: 'b', endpoints: [ep(2)] },
  ];
  const some = layoutSlices([ep(2)], existing, namer());
  assert.deepEqual(some.remove, ['a']);
  assert.equal(some.update.length, 0);
  const none = layoutSlices([], existing, namer());
  assert.deepEqual(none.remove, ['a', 'b']);
  assert.equal(none.update.length + none.create.length, 0);
  const back = layoutSlices([ep(3)], [], namer());
  assert.deepEqual(
    back.create.map((s) => s.endpoints.map((e) => e.pod)),
    [['pod-0003']],
    'the next pod brings a slice back',
  );
});

test('new endpoints fill slices that are written anyway before untouched ones', () => {
  const existing: SliceContent[] = [
    { name: 'a', endpoints: [ep(1), ep(2)] },
    { name: 'b', endpoints: [ep(3)] },
  ];
  const layout = layoutSlices([ep(1), ep(3), ep(5)], existing, namer());
  assert.deepEqual(
    layout.update.map((s) => [s.name, s.endpoints.map((e) => e.pod)]),
    [['a', ['pod-0001', 'pod-0005']]],
  );
});
