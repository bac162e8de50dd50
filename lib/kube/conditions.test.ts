import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kubeTime, mergeConditions } from './conditions.js';
import { normalize, sameContent } from './normalize.js';

test('lastTransitionTime moves only when status changes', () => {
  const old = [{ type: 'Ready', status: 'True' as const, reason: 'Ready', message: 'a', lastTransitionTime: '2026-01-01T00:00:00Z' }];
  const same = mergeConditions(old, [{ type: 'Ready', status: 'True', reason: 'Ready', message: 'b' }], '2026-02-02T00:00:00Z');
  assert.equal(same[0]!.lastTransitionTime, '2026-01-01T00:00:00Z');
  const flipped = mergeConditions(old, [{ type: 'Ready', status: 'False', reason: 'NoReadyGatewayNode', message: 'x' }], '2026-02-02T00:00:00Z');
  assert.equal(flipped[0]!.lastTransitionTime, '2026-02-02T00:00:00Z');
  assert.deepEqual(
    mergeConditions(
      [],
      [
        { type: 'b', status: 'True', reason: 'r', message: '' },
        { type: 'a', status: 'True', reason: 'r', message: '' },
      ],
      't',
    ).map((c) => c.type),
    ['a', 'b'],
  );
});

test('normalized comparison ignores key order and empty values', () => {
  assert.ok(sameContent({ a: 1, b: [], c: {}, d: null, e: undefined }, { a: 1 }));
  assert.ok(sameContent({ x: { b: 1, a: 2 } }, { x: { a: 2, b: 1 } }));
  assert.ok(!sameContent({ x: [1, 2] }, { x: [2, 1] }));
  assert.equal(normalize([]), undefined);
  assert.match(kubeTime(Date.UTC(2026, 0, 2, 3, 4, 5, 678)), /^2026-01-02T03:04:05Z$/);
});
