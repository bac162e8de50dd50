import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { startApiServer } from '../../e2e/apiserver/server.js';
import { kubeConfigForServer } from './kubeconfig.js';
import { LeaderElector } from './leader-election.js';
import { KubeClient } from './rest-client.js';
import { startRelay } from './testing/relay.js';
import { bounded, sleep, waitFor } from './testing/wait.js';

const LEASE = { leaseDurationMs: 1000, renewIntervalMs: 150, renewDeadlineMs: 700 };

interface Candidate {
  elector: LeaderElector;
  log: { event: 'start' | 'stop'; at: number; signal?: AbortSignal }[];
}

function candidate(url: string, identity: string): Candidate {
  const log: Candidate['log'] = [];
  const elector = new LeaderElector({
    client: new KubeClient(kubeConfigForServer(url)),
    namespace: 'default',
    identity,
    ...LEASE,
    onStartedLeading: (signal) => void log.push({ event: 'start', at: Date.now(), signal }),
    onStoppedLeading: () => void log.push({ event: 'stop', at: Date.now() }),
  });
  return { elector, log };
}

test('a single candidate takes the Lease and renews it with microsecond times', async () => {
  const server = await startApiServer({ logger: pino({ level: 'silent' }) });
  const a = candidate(server.url, 'a');
  try {
    a.elector.start();
    await waitFor('leader', () => a.elector.isLeader, 3000);
    const lease = server.store.get('coordination.k8s.io/v1', 'Lease', 'sluice-controller', 'default') as any;
    assert.equal(lease.spec.holderIdentity, 'a');
    assert.equal(lease.spec.leaseDurationSeconds, 1);
    assert.match(lease.spec.renewTime, /\.\d{6}Z$/);
    const first = lease.spec.renewTime;
    await waitFor('a renewal', () => (server.store.get('coordination.k8s.io/v1', 'Lease', 'sluice-controller', 'default') as any).spec.renewTime !== first, 2000);
  } finally {
    await a.elector.stop();
    await server.close();
  }
});

test('two candidates: one leads; a graceful stop hands over at once', async (t) => {
  const server = await startApiServer({ logger: pino({ level: 'silent' }) });
  const a = candidate(server.url, 'a');
  const b = candidate(server.url, 'b');
  try {
    a.elector.start();
    await waitFor('a leads', () => a.elector.isLeader, 3000);
    b.elector.start();
    await sleep(600);
    assert.equal(b.elector.isLeader, false, 'b waits while a renews');
    const stoppedAt = Date.now();
    await bounded(a.elector.stop(), 2000, 'a stops');
    await waitFor('b leads', () => b.elector.isLeader, 2000);
    const handover = b.log[0]!.at - stoppedAt;
    t.diagnostic(`graceful handover: ${handover} ms`);
    assert.ok(handover < 2 * LEASE.renewIntervalMs + 200, `released Lease taken within a renew period or two (${handover} ms)`);
    assert.ok(a.log.find((e) => e.event === 'stop')!.at <= b.log[0]!.at, 'no overlap');
    const lease = server.store.get('coordination.k8s.io/v1', 'Lease', 'sluice-controller', 'default') as any;
    assert.equal(lease.spec.leaseTransitions, 1);
  } finally {
    await a.elector.stop();
    await b.elector.stop();
    await server.close();
  }
});

test('a partitioned leader stops at its renew deadline, before the other takes over on expiry', async (t) => {
  const server = await startApiServer({ logger: pino({ level: 'silent' }) });
  const relay = await startRelay(server.url);
  const a = candidate(relay.url, 'a');
  const b = candidate(server.url, 'b');
  try {
    a.elector.start();
    await waitFor('a leads', () => a.elector.isLeader, 3000);
    b.elector.start();
    await sleep(300);
    const cutAt = Date.now();
    relay.cut();
    await waitFor('a steps down', () => !a.elector.isLeader, 2000);
    const aStop = a.log.find((e) => e.event === 'stop')!.at;
    assert.ok(a.log[0]!.signal!.aborted, 'controller work of a is aborted');
    assert.ok(aStop - cutAt <= LEASE.renewDeadlineMs + 100, `a stopped ${aStop - cutAt} ms after the cut`);
    await waitFor('b leads', () => b.elector.isLeader, 3000);
    const takeover = b.log[0]!.at - cutAt;
    t.diagnostic(
      `old leader stopped ${aStop - cutAt} ms after the cut; new leader started ${takeover} ms after it (lease ${LEASE.leaseDurationMs} ms, renew ${LEASE.renewIntervalMs} ms)`,
    );
    assert.ok(aStop < b.log[0]!.at, 'the old leader stopped before the new one started');
    assert.ok(takeover <= LEASE.leaseDurationMs + 2 * LEASE.renewIntervalMs + 150, `takeover ${takeover} ms after the cut`);
  } finally {
    relay.restore();
    await a.elector.stop();
    await b.elector.stop();
    await relay.close();
    await server.close();
  }
});

test('a leader that missed its renew deadline still releases the Lease on stop: the successor need not wait for it to expire', async (t) => {
  const server = await startApiServer({ logger: pino({ level: 'silent' }) });
  const relay = await startRelay(server.url);
  const lasting = { ...LEASE, leaseDurationMs: 5000, renewDeadlineMs: 700 };
  const a = new LeaderElector({
    client: new KubeClient(kubeConfigForServer(relay.url)),
    namespace: 'default',
    identity: 'a',
    ...lasting,
    onStartedLeading: () => undefined,
    onStoppedLeading: () => undefined,
  });
  const b = candidate(server.url, 'b');
  try {
    a.start();
    await waitFor('a leads', () => a.isLeader, 3000);
    relay.cut();
    await waitFor('a steps down', () => !a.isLeader, 2000);
    relay.restore();
    const stoppedAt = Date.now();
    await bounded(a.stop(), 3000, 'a stops');
    const lease = server.store.get('coordination.k8s.io/v1', 'Lease', 'sluice-controller', 'default') as any;
    assert.equal(lease.spec.holderIdentity, '', 'released, though a no longer led');
    b.elector.start();
    await waitFor('b leads', () => b.elector.isLeader, 2000);
    const handover = b.log[0]!.at - stoppedAt;
    t.diagnostic(`handover after a missed deadline: ${handover} ms (the Lease lasts ${lasting.leaseDurationMs} ms)`);
    assert.ok(handover < lasting.leaseDurationMs / 2, `taken long before it would expire (${handover} ms)`);
  } finally {
    relay.restore();
    await a.stop();
    await b.elector.stop();
    await relay.close();
    await server.close();
  }
});

test('leadership listeners hear each change as isLeader changes, and only then', async () => {
  const server = await startApiServer({ logger: pino({ level: 'silent' }) });
  const a = candidate(server.url, 'a');
  const b = candidate(server.url, 'b');
  const heard: string[] = [];
  const listen = (c: Candidate, id: string) =>
    c.elector.onLeadershipChange((leading) => {
      assert.equal(c.elector.isLeader, leading, 'told as isLeader changes');
      heard.push(`${id} ${leading ? 'leads' : 'stepped down'}`);
    });
  listen(a, 'a');
  const unlistenB = listen(b, 'b');
  try {
    a.elector.start();
    await waitFor('a leads', () => a.elector.isLeader, 3000);
    b.elector.start();
    await sleep(4 * LEASE.renewIntervalMs);
    assert.deepEqual(heard, ['a leads'], 'renewals are not changes');
    await bounded(a.elector.stop(), 2000, 'a stops');
    await waitFor('b leads', () => b.elector.isLeader, 2000);
    assert.deepEqual(heard, ['a leads', 'a stepped down', 'b leads']);
    unlistenB();
    await bounded(b.elector.stop(), 2000, 'b stops');
    assert.deepEqual(heard, ['a leads', 'a stepped down', 'b leads'], 'a removed listener hears nothing');
  } finally {
    await a.elector.stop();
    await b.elector.stop();
    await server.close();
  }
});

/**
 * A Lease endpoint whose answers a test steers: the Lease as the server holds it, and the write
 * answers to force (a 409 another writer would cause).
 */
async function leaseServer() {
  const http = await import('node:http');
  const state: { lease: any; version: number; createAnswer?: 'AlreadyExists'; replaceAnswer?: 'Conflict'; requests: string[] } = { lease: undefined, version: 1, requests: [] };
  const status = (res: import('node:http').ServerResponse, code: number, reason: string) => {
    res.writeHead(code, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, code, message: reason }));
  };
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      state.requests.push(`${req.method} ${req.url}`);
      const answer = (lease: any) => {
        state.lease = { ...lease, metadata: { ...lease.metadata, resourceVersion: String(++state.version) } };
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(state.lease));
      };
      if (req.method === 'GET') return state.lease ? answer(state.lease) : status(res, 404, 'NotFound');
      if (req.method === 'POST') return state.createAnswer ? status(res, 409, state.createAnswer) : answer(JSON.parse(body));
      if (req.method === 'PUT') return state.replaceAnswer ? status(res, 409, state.replaceAnswer) : answer(JSON.parse(body));
      status(res, 405, 'MethodNotAllowed');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return { url, state, close: () => new Promise((resolve) => server.close(resolve)) };
}

const heldBy = (holder: string) => ({
  apiVersion: 'coordination.k8s.io/v1',
  kind: 'Lease',
  metadata: { name: 'sluice-controller', namespace: 'default' },
  spec: { holderIdentity: holder, leaseDurationSeconds: 30, renewTime: new Date().toISOString(), leaseTransitions: 4 },
});

test('the Lease through the REST client: created when missing, renewed by replace, its path and times as the API expects', async () => {
  const server = await leaseServer();
  const a = candidate(server.url, 'a');
  try {
    a.elector.start();
    await waitFor('a leads', () => a.elector.isLeader, 3000);
    assert.deepEqual(server.state.requests.slice(0, 2), [
      'GET /apis/coordination.k8s.io/v1/namespaces/default/leases/sluice-controller',
      'POST /apis/coordination.k8s.io/v1/namespaces/default/leases',
    ]);
    await waitFor('a renewal', () => server.state.requests.includes('PUT /apis/coordination.k8s.io/v1/namespaces/default/leases/sluice-controller'), 2000);
    assert.equal(server.state.lease.spec.holderIdentity, 'a');
    assert.equal(server.state.lease.spec.leaseTransitions, 0, 'a renewal is no transition');
    assert.match(server.state.lease.spec.renewTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  } finally {
    await a.elector.stop();
    await server.close();
  }
});

test("a create that loses to another candidate (409 AlreadyExists) does not lead; the Lease it then reads is the other's", async () => {
  const server = await leaseServer();
  server.state.createAnswer = 'AlreadyExists';
  const a = candidate(server.url, 'a');
  try {
    a.elector.start();
    await waitFor('the create refused', () => server.state.requests.some((r) => r.startsWith('POST')), 2000);
    server.state.lease = heldBy('b');
    await sleep(3 * LEASE.renewIntervalMs);
    assert.equal(a.elector.isLeader, false);
    assert.equal(a.log.length, 0, 'never started leading');
    assert.ok(!server.state.requests.some((r) => r.startsWith('PUT')), 'a Lease held and renewed by another is not written');
  } finally {
    await a.elector.stop();
    await server.close();
  }
});

test('a renewal that loses the write race (409 Conflict) steps the leader down at once, without waiting for its deadline', async () => {
  const server = await leaseServer();
  const a = candidate(server.url, 'a');
  try {
    a.elector.start();
    await waitFor('a leads', () => a.elector.isLeader, 3000);
    server.state.replaceAnswer = 'Conflict';
    const refusedAt = Date.now();
    await waitFor('a steps down', () => !a.elector.isLeader, 2000);
    assert.ok(Date.now() - refusedAt < LEASE.renewDeadlineMs, 'before the renew deadline');
    assert.ok(a.log[0]!.signal!.aborted, 'its work is aborted');
    // the other writer's Lease: a stays a follower while it is renewed
    server.state.replaceAnswer = undefined;
    server.state.lease = heldBy('b');
    await sleep(3 * LEASE.renewIntervalMs);
    assert.equal(a.elector.isLeader, false);
    assert.equal(server.state.lease.spec.holderIdentity, 'b');
  } finally {
    await a.elector.stop();
    await server.close();
  }
});

test('a leader that stepped down in an API outage takes the Lease again as soon as its client gets an answer, not at its next renewal', async () => {
  const server = await startApiServer({ logger: pino({ level: 'silent' }) });
  const client = new KubeClient(kubeConfigForServer(server.url));
  // renewals 2.5 s apart: the step-down (3 s without one) comes 2 s before the next attempt
  const elector = new LeaderElector({
    client,
    namespace: 'default',
    identity: 'a',
    leaseDurationMs: 6000,
    renewIntervalMs: 2500,
    renewDeadlineMs: 3000,
    onStartedLeading: () => undefined,
    onStoppedLeading: () => undefined,
  });
  try {
    elector.start();
    await waitFor('leader', () => elector.isLeader, 3000);
    await server.pause('refuse');
    await waitFor('stepped down', () => !elector.isLeader, 5000);
    await assert.rejects(client.get('/version'), 'a request without an answer');
    await server.resume();
    const t0 = Date.now();
    await client.get('/version');
    await waitFor('leading again', () => elector.isLeader, 3000);
    assert.ok(Date.now() - t0 < 1000, `leading again ${Date.now() - t0} ms after the API server answered`);
    assert.equal(elector.acquisitions, 2);
  } finally {
    await elector.stop();
    client.close();
    await server.close();
  }
});
