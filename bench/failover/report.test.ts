import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderSeries } from './report.js';
import type { Trial } from './series.js';

const trial = (outageMs: number, recovered = true): Trial => ({ from: 'gateway-1', to: recovered ? 'gateway-2' : 'gateway-1', strays: [], recovered, outageMs, lost: Math.round(outageMs), senderMaxStallMs: 5, contestedMs: 0 });

test('percentiles over the trials that moved; the others are named with their largest gap', () => {
  const text = renderSeries([
    { name: 'hard fail', planned: 3, trials: [trial(300), trial(400), trial(500)] },
    { name: 'on a build without probes', planned: 20, trials: [trial(10_000, false), trial(10_050, false), trial(10_020, false)] },
  ], 10_000);
  const [header, hard, none] = text.split('\n');
  assert.match(header!, /p50 +p99 +max/);
  assert.match(hard!, /^hard fail +3\/3 +400 +498 +500 /);
  assert.match(none!, /3\/20 +- +- +- .*3 did not move to the other gateway within 10 s \(largest gap in those 10050 ms\)/);
});
