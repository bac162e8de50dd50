import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SelfState } from './self-report.js';

const HOLD = 5_000;

test('healthy is the last apply; before the first one the node plans itself fit and says so to its peers (one view on both sides)', () => {
  const s = new SelfState(HOLD);
  assert.deepEqual(s.report('open', 0), { healthy: true, draining: false, holds: [] });
  assert.equal(s.fit('open', 0), true);
  s.applied(true, ['198.18.0.111', '198.18.0.110'], 10);
  assert.deepEqual(s.report('open', 10), { healthy: true, draining: false, holds: ['198.18.0.110', '198.18.0.111'] });
});

test('a failed apply: unhealthy, and after the next good one it stays aside for the hold-down', () => {
  const s = new SelfState(HOLD);
  s.applied(true, [], 0);
  s.applied(false, [], 1_000);
  assert.equal(s.report('open', 1_000).healthy, false);
  assert.equal(s.fit('open', 1_000), false, 'it plans itself out, as its peers do');
  s.applied(true, [], 2_000);
  assert.deepEqual(s.report('open', 2_000), { healthy: true, draining: true, holds: [] });
  assert.equal(s.fit('open', 2_000), false);
  assert.equal(s.nextChangeAt(2_000), 1_000 + HOLD);
  assert.equal(s.fit('open', 1_000 + HOLD), true);
  assert.equal(s.nextChangeAt(1_000 + HOLD), undefined);
});

test('stopping, fenced or rejoining: draining, so nobody counts on it', () => {
  const s = new SelfState(HOLD);
  s.applied(true, ['198.18.0.110'], 0);
  assert.equal(s.report('fenced', 0).draining, true);
  assert.equal(s.report('rejoining', 0).draining, true);
  assert.equal(s.fit('rejoining', 0), false);
  s.stop();
  assert.deepEqual(s.report('open', 0), { healthy: true, draining: true, holds: ['198.18.0.110'] });
});

test('after the start: aside for the hold-down when asked (its peers hold it down too), not otherwise', () => {
  const held = new SelfState(HOLD, { startedAt: 1_000, holdAtStart: true });
  held.applied(true, [], 1_100);
  assert.deepEqual(held.report('open', 1_100), { healthy: true, draining: true, holds: [] });
  assert.equal(held.fit('open', 1_100), false);
  assert.equal(held.nextChangeAt(1_100), 1_000 + HOLD);
  assert.equal(held.fit('open', 1_000 + HOLD), true);
  const lone = new SelfState(HOLD, { startedAt: 1_000, holdAtStart: false });
  assert.equal(lone.fit('open', 1_100), true, 'a node no other can replace carries at once');
});

test('handing every egress IP over: draining until the handoff ends, then fit again', () => {
  const s = new SelfState(HOLD);
  s.applied(true, ['198.18.0.110'], 0);
  s.leaving(true);
  assert.deepEqual(s.report('open', 0), { healthy: true, draining: true, holds: ['198.18.0.110'] });
  assert.equal(s.fit('open', 0), false);
  s.leaving(false);
  assert.equal(s.report('open', 0).draining, false);
  assert.equal(s.fit('open', 0), true);
});
