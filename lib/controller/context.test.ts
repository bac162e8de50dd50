import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forEachItem, PassReport, type ControllerContext } from './context.js';
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
