import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Metrics } from '../../lib/metrics/metrics.js';
import type { NftTablePlan } from '../../lib/planner/node-plan.js';
import type { ApplyReport, Subsystem } from '../../lib/dataplane/dataplane-types.js';
import { FULL_NFT_CHECK_EVERY, RESYNC_REASON, Resync } from './resync.js';

const TABLE: NftTablePlan = { family: 'inet', name: 'sluice', sets: [], chains: [] };

function report(writes: Partial<Record<Subsystem, number>>, ok = true): ApplyReport {
  const names: Subsystem[] = ['sysctls', 'links', 'routes', 'nft', 'addresses', 'announcer'];
  const subsystems = Object.fromEntries(names.map((n) => [n, { writes: writes[n] ?? 0, errors: [], skipped: [], durationMs: 1 }])) as unknown as ApplyReport['subsystems'];
  const total = Object.values(writes).reduce((a, b) => a + (b ?? 0), 0);
  return { subsystems, missingSysctls: [], announced: [], withdrawn: [], held: [], writes: total, ok, complete: ok, failedApplies: ok ? 0 : 1, durationMs: 5 };
}

test('a resync diffs nft against the kernel only when the probe saw drift, or in full every Nth time; it counts what it repaired', async () => {
  let intact = true;
  let forgotten = 0;
  const nft = { forget: () => void forgotten++ };
  const resync = new Resync(
    0,
    () => undefined,
    () => (intact ? { intact: true } : { intact: false, why: 'table inet sluice is missing or empty' }),
  );
  const metrics = new Metrics();
  assert.equal(resync.begin(new Set(['EgressPolicy upsert']), TABLE, nft), undefined, 'a cluster change is not a resync');

  const first = resync.begin(new Set([RESYNC_REASON]), TABLE, nft)!;
  assert.deepEqual(first.nft, { intact: true });
  assert.equal(forgotten, 0, 'an intact table is trusted: no listing of every element');
  first.done(report({}), metrics);

  intact = false;
  const second = resync.begin(new Set([RESYNC_REASON]), TABLE, nft)!;
  assert.equal(forgotten, 1, 'drift: the next apply diffs against the kernel');
  second.done(report({ nft: 7, routes: 2 }), metrics);

  intact = true;
  for (let i = 3; i < FULL_NFT_CHECK_EVERY; i++) resync.begin(new Set([RESYNC_REASON]), TABLE, nft)!.done(report({}), metrics);
  assert.equal(forgotten, 1);
  const full = resync.begin(new Set([RESYNC_REASON]), TABLE, nft)!;
  assert.equal(full.nft, 'full');
  assert.equal(forgotten, 2);
  full.done(report({}, false), metrics);

  // coinciding with a cluster change, its writes are the change's
  resync.begin(new Set([RESYNC_REASON, 'EgressPolicy upsert']), TABLE, nft)!.done(report({ nft: 3 }), metrics);

  const text = await metrics.text();
  assert.match(text, new RegExp(`^sluice_resyncs_total\\{result="ok"\\} ${FULL_NFT_CHECK_EVERY}$`, 'm'));
  assert.match(text, /^sluice_resyncs_total\{result="error"\} 1$/m);
  assert.match(text, /^sluice_resync_kernel_writes_total\{subsystem="nft"\} 7$/m);
  assert.match(text, /^sluice_resync_kernel_writes_total\{subsystem="routes"\} 2$/m);
  resync.stop();
});

test('the resync timer triggers at the interval; 0 turns it off', async () => {
  let on = 0;
  let off = 0;
  const running = new Resync(20, () => void on++);
  const stopped = new Resync(0, () => void off++);
  const deadline = Date.now() + 5000;
  while (on < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  running.stop();
  stopped.stop();
  const seen = on;
  await new Promise((r) => setTimeout(r, 60));
  assert.ok(seen >= 3, `fired ${seen} times`);
  assert.equal(on, seen, 'stop() stops it');
  assert.equal(off, 0);
});

test('a resync reads links, routes and addresses again only when the kernel counted a change since the last clean full read', () => {
  let generation: number | undefined;
  const kernel = { generation: () => generation };
  const nft = { forget: () => undefined };
  const resync = new Resync(
    0,
    () => undefined,
    () => ({ intact: true }),
    kernel,
  );
  const metrics = new Metrics();
  const run = (ok = true, reasons = [RESYNC_REASON]) => {
    const r = resync.begin(new Set(reasons), TABLE, nft)!;
    r.done(report({}, ok), metrics);
    return r.full;
  };
  assert.equal(run(), true, 'nobody watching the kernel: everything is read');
  generation = 1;
  assert.equal(run(), true, 'the first resync with a watcher reads everything');
  assert.equal(run(), false, 'nothing changed since: nothing is read');
  generation = 2;
  assert.equal(run(false), true, 'a change: read again');
  assert.equal(run(), true, 'the read did not apply cleanly: read again');
  assert.equal(run(), false);
  resync.repairNext();
  assert.equal(run(), true, 'a repair asked for reads everything whatever the counter says');
  generation = undefined;
  assert.equal(run(), true, 'the watcher stopped: read again');
  generation = 3;
  run();
  for (let i = 0; i < 2 * FULL_NFT_CHECK_EVERY; i++) run();
  const runs: boolean[] = [];
  for (let i = 0; i < FULL_NFT_CHECK_EVERY; i++) runs.push(run());
  assert.equal(runs.filter(Boolean).length, 1, `every ${FULL_NFT_CHECK_EVERY}th resync reads everything anyway (neighbours and FDB are not counted)`);
  const failedPartial = resync.begin(new Set([RESYNC_REASON]), TABLE, nft)!;
  failedPartial.done(report({}, false), metrics);
  assert.equal(run(), true, 'after a failed apply, everything is read');
  resync.stop();
});
