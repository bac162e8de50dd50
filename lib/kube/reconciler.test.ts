import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Reconciler } from './reconciler.js';
import { bounded, sleep, waitFor } from './testing/wait.js';

test('a burst of triggers coalesces into one run with every reason', async () => {
  const seen: string[][] = [];
  const r = new Reconciler({ name: 't', minIntervalMs: 30, run: async ({ reasons }) => void seen.push([...reasons].sort()) });
  try {
    for (let i = 0; i < 100; i++) r.trigger(i % 2 ? 'pod' : 'node');
    await bounded(
      waitFor('a run', () => seen.length === 1),
      2000,
      'run',
    );
    await sleep(80);
    assert.deepEqual(seen, [['node', 'pod']]);
  } finally {
    await r.stop();
  }
});

test('a trigger after a quiet spell runs at once; the next ones wait out the interval', async () => {
  const starts: number[] = [];
  const r = new Reconciler({ name: 't', minIntervalMs: 300, run: async () => void starts.push(Date.now()) });
  try {
    const t0 = Date.now();
    r.trigger('first');
    await waitFor('first run', () => starts.length === 1, 2000);
    r.trigger('second');
    await waitFor('second run', () => starts.length === 2, 2000);
    assert.ok(starts[0]! - t0 < 150, `the first run waited ${starts[0]! - t0} ms`);
    assert.ok(starts[1]! - starts[0]! >= 290, `runs ${starts[1]! - starts[0]!} ms apart`);
  } finally {
    await r.stop();
  }
});

test('runs never overlap, and triggers during a run cause exactly one more run', async () => {
  let active = 0;
  let maxActive = 0;
  let runs = 0;
  const r = new Reconciler({
    name: 't',
    minIntervalMs: 5,
    run: async () => {
      active++;
      maxActive = Math.max(maxActive, active);
      await sleep(40);
      active--;
      runs++;
    },
  });
  try {
    r.trigger('a');
    await waitFor('first run started', () => active === 1, 2000);
    for (let i = 0; i < 20; i++) r.trigger(`during-${i}`);
    await bounded(r.idle(), 2000, 'idle');
    assert.equal(maxActive, 1);
    assert.equal(runs, 2);
  } finally {
    await r.stop();
  }
});

test('a failing run is retried with growing delays and triggers wait for the retry', async () => {
  const starts: number[] = [];
  let fail = 3;
  const r = new Reconciler({
    name: 't',
    minIntervalMs: 1,
    retryInitialMs: 40,
    retryMaxMs: 1000,
    run: async () => {
      starts.push(Date.now());
      if (fail-- > 0) throw new Error('boom');
    },
  });
  try {
    r.trigger('x');
    await waitFor('first failure', () => starts.length === 1, 2000);
    r.trigger('during backoff');
    await bounded(
      waitFor('recovery', () => starts.length === 4 && r.isIdle, 3000),
      4000,
      'recovery',
    );
    const gaps = starts.slice(1).map((t, i) => t - starts[i]!);
    assert.ok(gaps[0]! >= 35 && gaps[1]! >= 75 && gaps[2]! >= 155, `backoff 40/80/160 ms, got ${gaps}`);
    assert.equal(r.failures, 3);
  } finally {
    await r.stop();
  }
});

test('an urgent trigger does not wait for the retry of a failed run', async () => {
  const starts: { at: number; reasons: string[] }[] = [];
  const r = new Reconciler({
    name: 't',
    minIntervalMs: 10,
    retryInitialMs: 5_000,
    run: async ({ reasons }) => {
      starts.push({ at: Date.now(), reasons: [...reasons].sort() });
      if (starts.length === 1) throw new Error('apply failed');
    },
  });
  try {
    r.trigger('first');
    await waitFor('the failed run', () => starts.length === 1, 2000);
    await sleep(20);
    r.trigger('pod');
    await sleep(100);
    assert.equal(starts.length, 1, 'an ordinary trigger waits for the retry');
    const t0 = Date.now();
    r.trigger('liveness', { urgent: true });
    await waitFor('the urgent run', () => starts.length === 2, 2000);
    assert.ok(starts[1]!.at - t0 < 1_000, `the urgent run waited ${starts[1]!.at - t0} ms`);
    assert.deepEqual(starts[1]!.reasons, ['first', 'liveness', 'pod', 'retry'], 'it carries everything pending');
  } finally {
    await r.stop();
  }
});

test('stop aborts the running pass and waits for it', async () => {
  let aborted = false;
  const r = new Reconciler({
    name: 't',
    minIntervalMs: 1,
    run: ({ signal }) =>
      new Promise<void>((resolve) => {
        signal.addEventListener('abort', () => {
          aborted = true;
          resolve();
        });
      }),
  });
  r.trigger('x');
  await waitFor('running', () => !r.isIdle && r.runs === 0, 1000);
  await sleep(20);
  await bounded(r.stop(), 1000, 'stop');
  assert.ok(aborted);
  r.trigger('after stop');
  await sleep(20);
  assert.equal(r.runs, 1);
});

test('retryNow: a retry waiting out its backoff runs at once with its reasons, once per call; without a failure it does nothing', async () => {
  const runs: string[][] = [];
  let fail = true;
  const r = new Reconciler({
    name: 't',
    minIntervalMs: 5,
    retryInitialMs: 5000,
    run: async ({ reasons }) => {
      runs.push([...reasons].sort());
      if (fail) throw new Error('API down');
    },
  });
  try {
    r.retryNow();
    await sleep(50);
    assert.equal(runs.length, 0, 'nothing to retry');
    r.trigger('applied');
    await waitFor('the failed run', () => r.failures === 1, 2000);
    r.retryNow();
    await waitFor('the retry, long before its 5 s', () => r.failures === 2, 1000);
    await sleep(100);
    assert.equal(runs.length, 2, 'one retry per call: the next one backs off');
    fail = false;
    r.retryNow();
    await bounded(r.idle(), 1000, 'idle');
    assert.deepEqual(runs, [['applied'], ['applied', 'retry'], ['applied', 'retry']]);
    r.retryNow();
    await sleep(50);
    assert.equal(runs.length, 3, 'nothing left to retry');
  } finally {
    await r.stop();
  }
});
