import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { startApiServer } from '../../e2e/apiserver/server.js';
import { KubeClient } from './rest-client.js';
import { kubeConfigForServer } from './kubeconfig.js';
import { isNotFound, KubeApiError } from './api-error.js';
import { isEgressError } from '../errors.js';
import { sleep, waitFor } from './testing/wait.js';

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

test('a read on a pooled connection the server dropped is sent again once on a fresh one; a write is not', async () => {
  // answers the first request of each connection, then drops the connection when a second arrives
  // (what a server that closed an idle keep-alive connection looks like to a busy client)
  const net = await import('node:net');
  let connections = 0;
  const server = net.createServer((socket) => {
    connections++;
    let served = 0;
    socket.on('data', (chunk) => {
      if (!chunk.toString('latin1').includes('\r\n\r\n')) return;
      if (served++ > 0) return void socket.destroy();
      const body = '{"kind":"NodeList","items":[],"metadata":{"resourceVersion":"1"}}';
      socket.write(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: keep-alive\r\n\r\n${body}`);
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = new KubeClient(kubeConfigForServer(`http://127.0.0.1:${(server.address() as { port: number }).port}`), { timeoutMs: 2000 });
  try {
    await client.list('/api/v1/nodes');
    await client.list('/api/v1/nodes');
    assert.equal(connections, 2, 'the second read went out again on a new connection');
    await assert.rejects(client.create('/api/v1/namespaces', { metadata: { name: 'x' } }), /socket hang up|ECONNRESET/);
    assert.equal(connections, 2, 'the write was not sent again');
  } finally {
    client.close();
    await new Promise((resolve) => server.close(resolve));
  }
});

test('answering again: told once per outage, at the first request that gets an answer (an error status counts), never for one the caller aborted', async () => {
  const server = await startApiServer({ logger: pino({ level: 'silent' }) });
  const client = new KubeClient(kubeConfigForServer(server.url), { timeoutMs: 300 });
  let told = 0;
  const off = client.onAnsweringAgain(() => told++);
  try {
    await client.list('/api/v1/nodes');
    assert.equal(told, 0, 'no outage yet');
    const aborted = new AbortController();
    await server.pause('hang');
    const pending = client.list('/api/v1/nodes', {}, aborted.signal);
    aborted.abort();
    await assert.rejects(pending);
    await server.resume();
    await client.list('/api/v1/nodes');
    assert.equal(told, 0, 'an aborted request is no outage');

    await server.pause('refuse');
    for (let i = 0; i < 3; i++) await assert.rejects(client.list('/api/v1/nodes'));
    await server.resume();
    await assert.rejects(client.get('/api/v1/nodes/missing'), isNotFound);
    assert.equal(told, 1, 'the 404 is an answer');
    await client.list('/api/v1/nodes');
    assert.equal(told, 1, 'once per outage');
    off();
    await server.pause('refuse');
    await assert.rejects(client.list('/api/v1/nodes'));
    await server.resume();
    await client.list('/api/v1/nodes');
    assert.equal(told, 1, 'removed listeners are not told');
  } finally {
    client.close();
    await server.close();
  }
});

test('while requests get no answer and someone listens, the client asks whether the API server is back, and stops once it answers', async () => {
  const server = await startApiServer({ logger: pino({ level: 'silent' }) });
  const client = new KubeClient(kubeConfigForServer(server.url), { timeoutMs: 300, recheckMs: 100 });
  const checks = () => server.requestLog.filter((r) => r.path === '/version').length;
  let told = 0;
  try {
    await server.pause('refuse');
    await assert.rejects(client.list('/api/v1/nodes'));
    await sleep(400);
    await server.resume();
    assert.equal(checks(), 0, 'nobody listens: no check');

    const off = client.onAnsweringAgain(() => told++);
    await server.pause('hang');
    await assert.rejects(client.list('/api/v1/nodes'));
    await sleep(700);
    await server.resume();
    await waitFor('told without another request of ours', () => told === 1, 2000);
    const after = checks();
    assert.ok(after >= 1, 'the check that got the answer');
    await sleep(400);
    assert.equal(checks(), after, 'no check once it answers');
    off();
  } finally {
    client.close();
    await server.close();
  }
});
