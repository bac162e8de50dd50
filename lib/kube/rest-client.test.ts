import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { startApiServer } from '../../e2e/apiserver/server.js';
import { KubeClient } from './rest-client.js';
import { kubeConfigForServer } from './kubeconfig.js';
import { isNotFound, KubeApiError } from './api-error.js';
import { isEgressError } from '../errors.js';

test('API errors carry the Status reason; a hung server times out', async () => {
  const server = await startApiServer({ logger: pino({ level: 'silent' }) });
  const client = new KubeClient(kubeConfigForServer(server.url), { timeoutMs: 300 });
  try {
    await assert.rejects(client.get('/api/v1/nodes/missing'), (err: unknown) => {
      assert.ok(err instanceof KubeApiError && isNotFound(err) && err.reason === 'NotFound' && err.code === 'EGW_ERR_KUBE');
      return true;
    });
    const created = await client.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x' } });
    assert.equal((created.metadata as any).name, 'x');
    assert.equal(client.counts.get, 1);
    assert.equal(client.writes, 1);
    await server.pause('hang');
    const t0 = Date.now();
    await assert.rejects(client.list('/api/v1/nodes'), (err: unknown) => isEgressError(err) && /within 300 ms/.test(err.message));
    assert.ok(Date.now() - t0 < 2000);
    await server.resume();
    assert.ok(Array.isArray((await client.list('/api/v1/nodes')).items));
  } finally {
    client.close();
    await server.close();
  }
});
