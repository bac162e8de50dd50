import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderSeries } from './report.js';
import type { Trial } from './series.js';

const trial = (outageMs: number, recovered = true): Trial => ({
  from: 'gateway-1',
  to: recovered ? 'gateway-2' : 'gateway-1',
  strays: [],
  recovered,
  outageMs,
  lost: Math.round(outageMs),
  senderMaxStallMs: 5,
  contestedMs: 0,
});

test('percentiles over the trials that moved; the others are named with their largest gap', () => {
  const text = renderSeries(
    [
      { name: 'hard fail', planned: 3, trials: [trial(300), trial(400), trial(500)] },
      { name: 'on a build without probes', planned: 20, trials: [trial(10_000, false), trial(10_050, false), trial(10_020, false)] },
    ],
    10_000,
  );
  const [header, hard, none] = text.split('\n');
  assert.match(header!, /p50 +p99 +max/);
  assert.match(hard!, /^hard fail +3\/3 +400 +498 +500 /);
  assert.match(none!, /3\/20 +- +- +- .*3 did not move to the other gateway within 10 s \(largest gap in those 10050 ms\)/);
});

test('the breakdown: medians of the trials that have one, series without one left out; the lines are read by peer and time', async () => {
  const { breakdownOf } = await import('./breakdown.js');
  const { renderBreakdown } = await import('./report.js');
  const worker = [
    { op: 'failover-trace', peer: 'gateway-2', holds: [], monoMs: 1005 },
    { op: 'failover-trace', startMonoMs: 900, nftMs: 5, monoMs: 950 },
    { op: 'failover-trace', peer: 'gateway-1', alive: false, sinceHeardMs: 290, monoMs: 1250 },
    { op: 'failover-trace', changedMonoMs: 1250, startMonoMs: 1260, nftMs: 20, monoMs: 1300 },
  ];
  const successor = [
    { op: 'failover-trace', peer: 'gateway-1', alive: false, sinceHeardMs: 280, monoMs: 1270 },
    { op: 'failover-trace', startMonoMs: 1280, nftMs: 20, monoMs: 1350 },
    { op: 'failover-trace', startMonoMs: 1360, nftMs: 20, taken: ['198.18.0.110'], monoMs: 1400 },
  ];
  const b = breakdownOf(1000, 'gateway-1', worker, successor);
  assert.deepEqual(b, { breakMs: 40, workerDetectMs: 290, workerSwitchMs: 320, successorDetectMs: 310, successorTakeoverMs: 440 });
  assert.deepEqual(breakdownOf(1000, 'gateway-1', [], successor), {}, 'no death seen by the worker: nothing to line up with');
  const text = renderBreakdown([
    {
      name: 'hard fail',
      planned: 2,
      trials: [
        { ...trial(300), breakdown: b },
        { ...trial(310), breakdown: { ...b, workerDetectMs: 310 } },
      ],
    },
    { name: 'planned', planned: 1, trials: [trial(10)] },
  ]);
  const [header, hard, ...rest] = text.split('\n');
  assert.match(header!, /break +W dead +W switched +S dead +S took EIP/);
  assert.match(hard!, /^hard fail +2 +40 +300 +320 +310 +440$/);
  assert.deepEqual(rest, []);
});
