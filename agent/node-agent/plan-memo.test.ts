import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PlanMemo } from './plan-memo.js';

test('a plan is reused for the very snapshot it was computed from, never for an equal-looking new one', () => {
  const memo = new PlanMemo<{ v: number }, string>();
  const first = { v: 1 };
  assert.equal(memo.get(first), undefined);
  memo.set(first, '', 'plan 1');
  assert.equal(memo.get(first), 'plan 1');
  assert.equal(memo.get({ v: 1 }), undefined, 'a new snapshot is planned again, even when it looks the same');
  const second = { v: 2 };
  memo.set(second, '', 'plan 2');
  assert.equal(memo.get(first), undefined, 'only the last one is kept');
  assert.equal(memo.get(second), 'plan 2');
});

test('the same snapshot with other probe facts is planned again; with the same facts it is not', () => {
  const memo = new PlanMemo<{ v: number }, string>();
  const snapshot = { v: 1 };
  memo.set(snapshot, '[["gateway-1"],[]]', 'gateway-1 dead');
  assert.equal(memo.get(snapshot, '[["gateway-1"],[]]'), 'gateway-1 dead');
  assert.equal(memo.get(snapshot, '[[],[]]'), undefined, 'gateway-1 alive again: plan again');
  assert.equal(memo.get(snapshot), undefined, 'no facts is not the same as some facts');
});
