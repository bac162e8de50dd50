import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forEachItem, ITEMS_IN_FLIGHT, PassReport, type ControllerContext } from './context.js';
import { silentLogger } from '../kube/logger.js';

test('a pass whose items write nothing still lets timers run (the Lease renewal must not wait for the whole pass)', async () => {
  const ctx = { signal: new AbortController().signal, logger: silentLogger() } as unknown as ControllerContext;
  let timerFiredAfter: number | undefined;
  let done = 0;
  setTimeout(() => (timerFiredAfter = done), 0);
  const items = Array.from({ length: 400 }, (_, i) => i);
  await forEachItem(ctx, new PassReport(), 'test', items, String, async () => {
    // one item's work, then nothing to write: the await resolves in a microtask
    const until = performance.now() + 1;
    while (performance.now() < until);
    done++;
  });
  assert.equal(done, items.length);
  assert.ok(timerFiredAfter !== undefined && timerFiredAfter < items.length, `the timer ran during the pass (after ${timerFiredAfter} of ${items.length} items)`);
});

/** Work items that wait until the test answers them, as writes wait on the API server. */
function heldItems() {
  const waiting: (() => void)[] = [];
  let inFlight = 0;
  let most = 0;
  const started: number[] = [];
  const work = async (i: number) => {
    started.push(i);
    inFlight++;
    most = Math.max(most, inFlight);
    try {
      await new Promise<void>((resolve) => waiting.push(resolve));
    } finally {
      inFlight--;
    }
  };
  /** Answers the oldest waiting item once `expected` items wait (a worker may first give the loop back), or after many turns of the loop. */
  const answerOne = async (expected = 1) => {
    for (let turn = 0; turn < 1000 && waiting.length < expected; turn++) await new Promise<void>((resolve) => setImmediate(resolve));
    waiting.shift()?.();
  };
  return { work, answerOne, started, waiting, stats: () => ({ inFlight, most }) };
}

function testContext(signal = new AbortController().signal) {
  return { signal, logger: silentLogger() } as unknown as ControllerContext;
}

test('items run several at once, never more than the limit, and every item runs once', async () => {
  const held = heldItems();
  const items = Array.from({ length: 50 }, (_, i) => i);
  const pass = forEachItem(testContext(), new PassReport(), 'test', items, String, held.work, 4);
  let passDone = false;
  void pass.then(() => (passDone = true));
  for (let answered = 0; !passDone; answered++) await held.answerOne(Math.min(4, items.length - answered));
  await pass;
  assert.equal(held.stats().most, 4, 'four items were in flight at once');
  assert.deepEqual(
    [...held.started].sort((a, b) => a - b),
    items,
  );
  assert.deepEqual(held.started, items, 'items start in order');
});

test('by default a pass keeps ITEMS_IN_FLIGHT items in flight', async () => {
  const held = heldItems();
  const pass = forEachItem(
    testContext(),
    new PassReport(),
    'test',
    Array.from({ length: 3 * ITEMS_IN_FLIGHT }, (_, i) => i),
    String,
    held.work,
  );
  let passDone = false;
  void pass.then(() => (passDone = true));
  for (let answered = 0; !passDone; answered++) await held.answerOne(Math.min(ITEMS_IN_FLIGHT, 3 * ITEMS_IN_FLIGHT - answered));
  assert.ok(ITEMS_IN_FLIGHT > 1);
  assert.equal(held.stats().most, ITEMS_IN_FLIGHT);
});

test('an abort mid-pass starts no further item and is rethrown once the items in flight settled', async () => {
  const held = heldItems();
  const leadership = new AbortController();
  const items = Array.from({ length: 40 }, (_, i) => i);
  const report = new PassReport();
  const pass = forEachItem(testContext(leadership.signal), report, 'test', items, String, held.work, 4);
  const outcome = pass.then(
    () => 'finished',
    (err: unknown) => err,
  );
  for (let i = 0; i < 6; i++) await held.answerOne(4);
  await new Promise<void>((resolve) => setImmediate(resolve));
  const startedBeforeAbort = held.started.length;
  leadership.abort(new Error('lost the Lease'));
  let settled = false;
  void outcome.then(() => (settled = true));
  // the items in flight answer after the abort (writes already sent); the pass waits for them
  while (held.waiting.length) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    assert.equal(settled, false, 'the pass does not return while items are in flight');
    await held.answerOne();
  }
  const result = await outcome;
  assert.ok(result instanceof Error && result.message === 'lost the Lease', `the abort is rethrown (${String(result)})`);
  assert.equal(held.started.length, startedBeforeAbort, 'no item started after the abort');
  assert.ok(startedBeforeAbort < items.length);
  assert.equal(held.stats().inFlight, 0, 'nothing is left in flight when the pass returns');
  assert.equal(report.errors.length, 0, 'an abort is no item failure');
});

test('a failing item among concurrent ones is collected and the others still run', async () => {
  const done: number[] = [];
  const report = new PassReport();
  const items = Array.from({ length: 20 }, (_, i) => i);
  await forEachItem(
    testContext(),
    report,
    'test',
    items,
    String,
    async (i) => {
      await new Promise<void>((resolve) => setTimeout(resolve, i % 3));
      if (i === 7) throw new Error('connection reset');
      done.push(i);
    },
    8,
  );
  assert.deepEqual(
    done.sort((a, b) => a - b),
    items.filter((i) => i !== 7),
  );
  assert.deepEqual(
    report.errors.map((e) => (e as Error).message),
    ['connection reset'],
  );
});
