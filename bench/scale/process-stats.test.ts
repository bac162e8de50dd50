import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpuSecondsOfStat, histogramTotals, statusField, usageBetween, descendantsOf, sampleProcessTree } from './process-stats.js';

test('CPU seconds come from utime, stime and the waited-for children, even when the command name has spaces and parentheses', () => {
  const stat = '4242 (node (x) y) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 50 70 30 20 0 11 0 12345 1000000 20000 18446744073709551615';
  assert.equal(cpuSecondsOfStat(stat), 4);
});

test('status fields in kB become MiB; counts stay counts', () => {
  const status = 'Name:\tnode\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\nvoluntary_ctxt_switches:\t17\n';
  assert.equal(statusField(status, 'VmRSS'), 100);
  assert.equal(statusField(status, 'VmHWM'), 200);
  assert.equal(statusField(status, 'voluntary_ctxt_switches'), 17);
  assert.throws(() => statusField(status, 'VmSwap'), /no VmSwap/);
});

test('usage over a window is a share of one core', () => {
  const u = usageBetween({ at: 0, cpuSeconds: 1, rssMiB: 1, peakRssMiB: 1, contextSwitches: 10 }, { at: 10_000, cpuSeconds: 1.5, rssMiB: 2, peakRssMiB: 3, contextSwitches: 30 });
  assert.equal(u.corePercent, 5);
  assert.equal(u.wakeupsPerSecond, 2);
  assert.equal(u.peakRssMiB, 3);
});

test('histogram totals: one label value, or the unlabelled series', () => {
  const text = [
    'sluice_apply_duration_seconds_bucket{le="0.01",subsystem="nft"} 2',
    'sluice_apply_duration_seconds_sum{subsystem="nft"} 0.5',
    'sluice_apply_duration_seconds_count{subsystem="nft"} 4',
    'sluice_apply_duration_seconds_sum{subsystem="routes"} 9',
    'sluice_apply_duration_seconds_count{subsystem="routes"} 9',
    'sluice_plan_duration_seconds_sum 0.25',
    'sluice_plan_duration_seconds_count 5',
  ].join('\n');
  assert.deepEqual(histogramTotals(text, 'sluice_apply_duration_seconds', { key: 'subsystem', value: 'nft' }), { sum: 0.5, count: 4 });
  assert.deepEqual(histogramTotals(text, 'sluice_plan_duration_seconds'), { sum: 0.25, count: 5 });
});

test('a process tree counts its living descendants (a child of a child too)', async () => {
  const { spawn } = await import('node:child_process');
  // a shell that keeps a sleep of its own: two generations
  const child = spawn('sh', ['-c', 'sleep 30 & wait'], { stdio: 'ignore' });
  try {
    await new Promise((r) => setTimeout(r, 300));
    const tree = await descendantsOf(process.pid);
    assert.ok(tree.includes(child.pid!), 'the child');
    assert.ok(tree.length >= 2, `a grandchild too: ${tree.join(',')}`);
    const sample = await sampleProcessTree(process.pid);
    assert.ok(sample.processes >= 3);
  } finally {
    child.kill('SIGKILL');
  }
});
