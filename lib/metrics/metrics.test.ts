import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Metrics } from './metrics.js';
import { startMetricsServer } from './server.js';

test('metrics and health endpoints answer', async () => {
  const m = new Metrics();
  m.applied('nft', 0.003, 2, true);
  m.applied('routes', 0.01, 0, false);
  m.eips(1, 0);
  m.ruleCounters([{ policy: 'default/test', rule: 'worker', packets: 5, bytes: 300 }]);
  let ready = false;
  const srv = await startMetricsServer(m, { healthy: () => true, ready: () => ready, status: () => ({ node: 'n1' }) }, '127.0.0.1', 0);
  try {
    const base = `http://127.0.0.1:${srv.port}`;
    const text = await (await fetch(`${base}/metrics`)).text();
    assert.match(text, /sluice_kernel_writes_total\{subsystem="nft"\} 2/);
    assert.match(text, /sluice_apply_ok\{subsystem="routes"\} 0/);
    assert.match(text, /sluice_policy_packets\{policy="default\/test",rule="worker"\} 5/);
    assert.equal((await fetch(`${base}/readyz`)).status, 503);
    ready = true;
    assert.equal((await fetch(`${base}/readyz`)).status, 200);
    assert.deepEqual(await (await fetch(`${base}/status`)).json(), { node: 'n1' });
  } finally {
    await srv.close();
  }
});
