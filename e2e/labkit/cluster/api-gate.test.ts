import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import pino from 'pino';
import { startApiServer } from '../../apiserver/server.js';
import { startApiGate, type GateRecord } from './api-gate.js';
import { Rbac, serviceAccountUser } from './rbac.js';

const RBAC = new Rbac([
  { kind: 'ClusterRole', metadata: { name: 'nodes' }, rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] }] },
  { kind: 'ClusterRoleBinding', metadata: { name: 'nodes' }, roleRef: { kind: 'ClusterRole', name: 'nodes' }, subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: 'sys' }] },
]);

function request(port: number, method: string, path: string, body?: unknown): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers: { 'Content-Type': 'application/json', 'User-Agent': 'gate-test' } }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

test('the gate passes what RBAC allows (watches stream through), answers 403 for the rest, and logs every request', async () => {
  const server = await startApiServer({ logger: pino({ level: 'silent' }) });
  const records: GateRecord[] = [];
  const gate = await startApiGate({
    upstream: server.url,
    identities: [{ name: 'reader', host: '127.0.0.1', port: 0, users: [serviceAccountUser('sys', 'reader')] }],
    rbac: RBAC,
    onRequest: (r) => records.push(r),
  });
  const port = gate.ports.get('reader')!;
  try {
    assert.equal((await request(port, 'GET', '/api/v1/nodes')).status, 200);
    assert.equal((await request(port, 'GET', '/version')).status, 200, 'non-resource reads are open to every user');
    const denied = await request(port, 'POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } });
    assert.equal(denied.status, 403);
    assert.deepEqual(JSON.parse(denied.body), {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'Forbidden', code: 403,
      message: 'nodes is forbidden: User "system:serviceaccount:sys:reader" cannot create resource "nodes" in API group ""',
      details: { group: '', kind: 'nodes' },
    });
    assert.equal(server.store.find('v1', 'Node', 'n1'), undefined, 'nothing reached the API server');

    // a watch through the gate sees an object created directly on the server
    const event = await new Promise<string>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/api/v1/nodes?watch=true&resourceVersion=0' }, (res) => {
        res.setEncoding('utf8');
        let buf = '';
        res.on('data', (c: string) => {
          buf += c;
          if (buf.includes('\n')) {
            resolve(buf.split('\n')[0]!);
            req.destroy();
          }
        });
      });
      req.on('error', (err) => (err.message.includes('socket hang up') ? undefined : reject(err)));
      setTimeout(() => server.store.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n2' } }), 100);
    });
    assert.equal(JSON.parse(event).object.metadata.name, 'n2');

    // an API server that is down: the caller's connection fails, as it would without the gate
    await server.pause('refuse');
    await assert.rejects(request(port, 'GET', '/api/v1/nodes'));
    await server.resume();
    assert.equal((await request(port, 'GET', '/api/v1/nodes')).status, 200);

    const seen = records.map((r) => [r.method, r.attributes.kind === 'resource' ? `${r.attributes.verb} ${r.attributes.resource}` : r.attributes.path, r.allowed]);
    assert.deepEqual(seen.slice(0, 4), [['GET', 'list nodes', true], ['GET', '/version', true], ['POST', 'create nodes', false], ['GET', 'watch nodes', true]]);
  } finally {
    await gate.close();
    await server.close();
  }
});
