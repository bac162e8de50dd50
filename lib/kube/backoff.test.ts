import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff } from './backoff.js';

test('backoff doubles to its cap and resets', () => {
  const b = new Backoff(500, 30_000);
  assert.deepEqual(
    Array.from({ length: 9 }, () => b.next()),
    [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000],
  );
  b.reset();
  assert.equal(b.next(), 500);
  const jittered = new Backoff(1000, 60_000, 0.2, () => 1);
  assert.equal(jittered.next(), 1200);
});
