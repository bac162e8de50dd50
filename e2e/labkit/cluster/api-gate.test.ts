import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import pino from 'pino';
import { startApiServer } from '../../apiserver/server.js';
import { startApiGate, type GateRecord } from './api-gate.js';
import { Rbac, serviceAccountUser } from './rbac.js';

const RBAC = new Rbac([
  { kind: 'ClusterRole', metadata: { name: 'nodes' }, rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] }] },
  {
    kind: 'ClusterRoleBinding',
    metadata: { name: 'nodes' },
    roleRef: { kind: 'ClusterRole', name: 'nodes' },
    subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: 'sys' }],
  },
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
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      reason: 'Forbidden',
      code: 403,
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
    assert.deepEqual(seen.slice(0, 4), [
      ['GET', 'list nodes', true],
      ['GET', '/version', true],
      ['POST', 'create nodes', false],
      ['GET', 'watch nodes', true],
    ]);
  } finally {
    await gate.close();
    await server.close();
  }
});

test('conflictGroups: the first update of each resource per identity is answered 409 Conflict without reaching the server; the retry passes', async () => {
  const server = await startApiServer({ logger: pino({ level: 'silent' }) });
  const rbac = new Rbac([
    { kind: 'ClusterRole', metadata: { name: 'ns' }, rules: [{ apiGroups: [''], resources: ['namespaces', 'namespaces/status'], verbs: ['get', 'update'] }] },
    {
      kind: 'ClusterRoleBinding',
      metadata: { name: 'ns' },
      roleRef: { kind: 'ClusterRole', name: 'ns' },
      subjects: [{ kind: 'ServiceAccount', name: 'writer', namespace: 'sys' }],
    },
  ]);
  const records: GateRecord[] = [];
  const gate = await startApiGate({
    upstream: server.url,
    identities: [{ name: 'writer', host: '127.0.0.1', port: 0, users: [serviceAccountUser('sys', 'writer')] }],
    rbac,
    conflictGroups: [''],
    onRequest: (r) => records.push(r),
  });
  const port = gate.ports.get('writer')!;
  try {
    server.store.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a' } });
    const put = async (path: string) => {
      const current = JSON.parse((await request(port, 'GET', path)).body) as { metadata: { labels?: Record<string, string> } };
      return request(port, 'PUT', path, { ...current, metadata: { ...current.metadata, labels: { x: String(Date.now()) } } });
    };
    const first = await put('/api/v1/namespaces/a');
    assert.equal(first.status, 409);
    assert.deepEqual(JSON.parse(first.body), {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      reason: 'Conflict',
      code: 409,
      message: 'Operation cannot be fulfilled on namespaces "a": the object has been modified; please apply your changes to the latest version and try again',
      details: { name: 'a', group: '', kind: 'namespaces' },
    });
    assert.equal(server.writes.count('namespaces', 'update'), 0, 'the refused update never reached the server');
    assert.equal((await put('/api/v1/namespaces/a')).status, 200, 'the retry passes');
    assert.equal((await put('/api/v1/namespaces/a/status')).status, 409, 'a subresource gets its own first conflict');
    assert.deepEqual(
      records.filter((r) => r.conflict).map((r) => r.path),
      ['/api/v1/namespaces/a', '/api/v1/namespaces/a/status'],
    );
  } finally {
    await gate.close();
    await server.close();
  }
});
