import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Collector } from './apply-collector.js';

test('each subsystem reports the time of its own steps, failed ones included', async () => {
  const c = new Collector();
  await c.step('routes', 'route adds', async () => {
    await sleep(60);
    return { writes: 2, errors: [] };
  });
  await c.run('nft', 'load', async () => {
    await sleep(15);
    throw new Error('refused');
  });
  const r = c.reports();
  assert.ok(r.routes.durationMs >= 55, `routes ${r.routes.durationMs} ms`);
  assert.ok(r.nft.durationMs >= 10 && r.nft.durationMs < r.routes.durationMs, `nft ${r.nft.durationMs} ms`);
  assert.equal(r.links.durationMs, 0, 'a subsystem with no step took no time');
  assert.equal(r.routes.writes, 2);
  assert.equal(r.nft.errors.length, 1);
});
