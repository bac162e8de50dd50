import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Handoff, type HandoffInput } from './handoff.js';

const TIMEOUT = 2_000;
const A = '198.18.0.110';
const B = '198.18.0.111';
const holds = (held: Record<string, string[]>) => (node: string, ip: string) => (held[node] ?? []).includes(ip);
const input = (now: number, over: Partial<HandoffInput> = {}): HandoffInput => ({
  held: [A, B],
  next: [],
  successorOf: () => 'gateway-2',
  heldBy: holds({}),
  urgent: false,
  now,
  ...over,
});

test('a plan that drops nothing is applied at once', () => {
  const h = new Handoff(TIMEOUT);
  assert.deepEqual(h.decide(input(0, { next: [A, B] })), { release: true, dropped: [], timedOut: false });
  assert.deepEqual(h.decide(input(0, { held: [], next: [A] })), { release: true, dropped: [], timedOut: false }, 'taking over never waits');
});

test('egress IPs given to another node are kept until that node holds each of them', () => {
  const h = new Handoff(TIMEOUT);
  assert.deepEqual(h.decide(input(0)), { release: false, waitingFor: [A, B], until: TIMEOUT, leaving: true });
  assert.equal(h.waiting, true);
  assert.deepEqual(h.decide(input(150, { heldBy: holds({ 'gateway-2': [A] }) })), { release: false, waitingFor: [B], until: TIMEOUT, leaving: true }, 'the wait keeps its start');
  assert.deepEqual(h.decide(input(200, { heldBy: holds({ 'gateway-3': [B], 'gateway-2': [A] }) })).release, false, 'held by a node that is not the successor does not count');
  assert.deepEqual(h.decide(input(300, { heldBy: holds({ 'gateway-2': [A, B] }) })), { release: true, dropped: [A, B], timedOut: false });
  assert.equal(h.waiting, false);
});

test('an EIP nobody carries in the new plan (policy deleted, no node can carry it) is withdrawn at once', () => {
  const h = new Handoff(TIMEOUT);
  assert.deepEqual(h.decide(input(0, { successorOf: () => undefined })), { release: true, dropped: [A, B], timedOut: false });
  assert.deepEqual(h.decide(input(0, { successorOf: (ip) => (ip === A ? 'gateway-2' : undefined) })), { release: false, waitingFor: [A], until: TIMEOUT, leaving: true });
});

test('the wait is bounded: at the timeout they are withdrawn anyway', () => {
  const h = new Handoff(TIMEOUT);
  h.decide(input(1_000));
  assert.equal(h.decide(input(1_000 + TIMEOUT - 1)).release, false);
  assert.deepEqual(h.decide(input(1_000 + TIMEOUT)), { release: true, dropped: [A, B], timedOut: true });
  assert.deepEqual(h.decide(input(5_000)), { release: false, waitingFor: [A, B], until: 5_000 + TIMEOUT, leaving: true }, 'a later drop waits afresh');
});

test('a fenced node withdraws at once; a plan that keeps the IPs again ends the wait', () => {
  const h = new Handoff(TIMEOUT);
  assert.deepEqual(h.decide(input(0, { urgent: true })), { release: true, dropped: [A, B], timedOut: false });
  h.decide(input(0));
  assert.deepEqual(h.decide(input(10, { next: [A, B] })), { release: true, dropped: [], timedOut: false });
  assert.equal(h.waiting, false);
});

test('with a linger, the node keeps carrying for it after the successor holds the EIPs (the workers switch meanwhile)', () => {
  const LINGER = 250;
  const h = new Handoff(TIMEOUT, LINGER);
  const both = holds({ 'gateway-2': [A, B] });
  assert.equal(h.decide(input(0)).release, false);
  assert.deepEqual(h.decide(input(100, { heldBy: both })), { release: false, waitingFor: [], until: 100 + LINGER, leaving: true }, 'held: linger from now');
  assert.equal(h.decide(input(100 + LINGER - 1, { heldBy: both })).release, false);
  assert.deepEqual(h.decide(input(100 + LINGER, { heldBy: both })), { release: true, dropped: [A, B], timedOut: false });
  assert.deepEqual(
    new Handoff(TIMEOUT, LINGER).decide(input(0, { successorOf: () => undefined })),
    { release: true, dropped: [A, B], timedOut: false },
    'nobody to hand to: at once',
  );
  const bounded = new Handoff(TIMEOUT, LINGER);
  bounded.decide(input(0));
  assert.deepEqual(
    bounded.decide(input(TIMEOUT - 10, { heldBy: both })),
    { release: false, waitingFor: [], until: TIMEOUT, leaving: true },
    'the linger never outlasts the timeout',
  );
});

test('a node that gives away every egress IP it holds answers as draining meanwhile (as on SIGTERM); one that keeps some does not', () => {
  const all = new Handoff(TIMEOUT);
  const leaving = all.decide(input(0));
  assert.equal(leaving.release === false && leaving.leaving, true, 'the new plan holds nothing here: leaving');
  const some = new Handoff(TIMEOUT);
  const staying = some.decide(input(0, { next: [B] }));
  assert.equal(staying.release === false && staying.leaving, false, 'it keeps B: its other EIPs must not move');
});
