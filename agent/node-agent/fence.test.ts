import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Fence, type FenceInput } from './fence.js';

const HOLD = 5_000;
const at = (now: number, over: Partial<FenceInput> = {}): FenceInput => ({ isolated: false, apiAnswers: true, apiFreshSince: () => true, now, ...over });

test('a node that hears no peer but reaches the API server keeps serving (its peers may all be dead)', () => {
  const f = new Fence(HOLD);
  assert.equal(f.observe(at(0, { isolated: true, apiAnswers: true })), 'open');
  assert.equal(f.observe(at(100, { isolated: true, apiAnswers: undefined })), 'open', 'not asked yet: no fence on a guess');
});

test('a node that reaches the API server but hears no peer is not fenced; isolated and no API answer is', () => {
  const f = new Fence(HOLD);
  assert.equal(f.observe(at(0, { isolated: false, apiAnswers: false })), 'open', 'an API outage alone fences nobody');
  assert.equal(f.observe(at(10, { isolated: true, apiAnswers: false })), 'fenced');
});

test('after the fence: nothing is taken back before the hold-down has passed and the API view is fresh', () => {
  const f = new Fence(HOLD);
  f.observe(at(0, { isolated: true, apiAnswers: false }));
  assert.equal(f.observe(at(1_000, { isolated: true, apiAnswers: false })), 'fenced');
  assert.equal(f.observe(at(2_000, { apiAnswers: false })), 'rejoining', 'peers heard again');
  assert.equal(f.nextCheckAt(), 2_000 + HOLD);
  assert.equal(f.observe(at(2_000 + HOLD - 1)), 'rejoining', 'hold-down not over');
  let asked = -1;
  assert.equal(f.observe(at(2_000 + HOLD, { apiFreshSince: (since) => ((asked = since), false) })), 'rejoining', 'API view not fresh yet');
  assert.equal(asked, 2_000, 'fresh means listed after the rejoin');
  assert.equal(f.observe(at(2_000 + HOLD + 300)), 'open');
  assert.equal(f.nextCheckAt(), undefined);
});

test('a link that flaps restarts the hold-down; cut off again while rejoining fences again', () => {
  const f = new Fence(HOLD);
  f.observe(at(0, { isolated: true, apiAnswers: false }));
  f.observe(at(1_000));
  assert.equal(f.observe(at(3_000, { isolated: true, apiAnswers: true })), 'rejoining', 'isolated again, API answers: still rejoining');
  assert.equal(f.observe(at(3_500)), 'rejoining');
  assert.equal(f.observe(at(3_000 + HOLD - 1)), 'rejoining', 'the hold-down counts from the last isolation');
  assert.equal(f.observe(at(3_000 + HOLD)), 'open');
  f.observe(at(10_000, { isolated: true, apiAnswers: false }));
  f.observe(at(10_500));
  assert.equal(f.observe(at(11_000, { isolated: true, apiAnswers: false })), 'fenced');
});

test('displaced (a peer heard again holds an EIP this node holds, soon after it heard nobody): rejoining although the API server answers', () => {
  const f = new Fence(HOLD);
  assert.equal(f.observe(at(0, { hearsNobody: true, apiAnswers: true })), 'open', 'hearing nobody alone moves nothing (the peers may all be dead)');
  assert.equal(f.observe(at(1_000, { displaced: true })), 'rejoining');
  assert.equal(f.nextCheckAt(), 1_000 + HOLD);
  assert.equal(f.observe(at(1_500, { hearsNobody: true })), 'rejoining', 'the link flaps again');
  assert.equal(f.observe(at(1_500 + HOLD - 1)), 'rejoining', 'the hold-down counts from the last time it heard nobody');
  assert.equal(f.observe(at(1_500 + HOLD)), 'open');
});

test('rejoining waits while a peer it hears is still held down, for at most a second hold-down', () => {
  const f = new Fence(HOLD);
  f.observe(at(0, { displaced: true }));
  assert.equal(f.observe(at(HOLD, { holdingDown: true })), 'rejoining', 'that peer counts this node dead as long: it would contest the EIPs');
  assert.equal(f.observe(at(HOLD + 50)), 'open', 'once it counts that peer alive');
  const g = new Fence(HOLD);
  g.observe(at(0, { displaced: true }));
  assert.equal(g.observe(at(2 * HOLD - 1, { holdingDown: true })), 'rejoining');
  assert.equal(g.observe(at(2 * HOLD, { holdingDown: true })), 'open', 'a peer that keeps flapping does not keep this node aside for good');
});
