import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { startApiServer, type ApiServer } from '../../e2e/apiserver/server.js';
import { KubeClient, type JsonObject } from './rest-client.js';
import { kubeConfigForServer } from './kubeconfig.js';
import { ClusterStore } from '../cluster/store.js';
import { ResilientInformer, type InformerTiming } from './informer.js';
import { bounded, sleep, waitFor } from './testing/wait.js';
import { node as nodeDoc } from '../planner/testing/cluster.js';
import type { JsonObject as ServerObject } from '../../e2e/apiserver/json.js';

const node = (name: string, index: number) => nodeDoc(name, index) as ServerObject;

const TIMING: InformerTiming = { backoffInitialMs: 50, backoffMaxMs: 400, watch: { timeoutSeconds: 60, connectTimeoutMs: 500, idleGraceMs: 1000 } };

type SetupOptions = { labelSelector?: string; badRequestIsEmpty?: boolean; pageSize?: number; transform?: (o: JsonObject) => JsonObject };

async function setup(timing: Partial<InformerTiming> = {}, options: SetupOptions = {}) {
  const server = await startApiServer({ logger: pino({ level: 'silent' }) });
  const client = new KubeClient(kubeConfigForServer(server.url), { timeoutMs: 1000 });
  const store = new ClusterStore();
  const informer = new ResilientInformer({
    name: 'nodes',
    client,
    path: '/api/v1/nodes',
    ...options,
    handlers: {
      upsert: (o) => void store.upsert('nodes', 'Node', o),
      remove: (o) => store.remove('nodes', 'Node', o),
      resync: (objects) => store.resync('nodes', 'Node', objects),
    },
    timing: { ...TIMING, ...timing },
  });
  return { server, client, store, informer };
}

const names = (store: ClusterStore) =>
  store
    .values('Node')
    .map((n) => n.name)
    .join(',');

function lists(server: ApiServer): number {
  return server.requestLog.filter((r) => r.method === 'GET' && r.path.startsWith('/api/v1/nodes') && !r.path.includes('watch=')).length;
}

test('an informer lists, then follows adds, updates and deletes', async () => {
  const { server, store, informer } = await setup();
  try {
    server.store.create(node('n1', 1));
    informer.start();
    await bounded(informer.whenSynced, 3000, 'sync');
    assert.equal(names(store), 'n1');
    server.store.create(node('n2', 2));
    await waitFor('n2 added', () => names(store) === 'n1,n2');
    const n1 = server.store.get('v1', 'Node', 'n1');
    server.store.update({ ...n1, metadata: { ...(n1.metadata as object), labels: { egress: 'true' } } });
    await waitFor('label seen', () => store.get('Node', 'n1')?.value?.labels.egress === 'true');
    server.store.delete('v1', 'Node', 'n1');
    await waitFor('n1 deleted', () => names(store) === 'n2');
    assert.equal(informer.restarts, 0);
  } finally {
    await informer.stop();
    await server.close();
  }
});

test('a 410 on resuming the watch makes the informer list again, without an error restart', async () => {
  const { server, store, informer } = await setup({ watch: { ...TIMING.watch, timeoutSeconds: 1 } });
  try {
    server.store.create(node('n1', 1));
    informer.start();
    await bounded(informer.whenSynced, 3000, 'sync');
    const before = lists(server);
    // move the global resourceVersion past the informer's and forget the history
    server.store.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bump' } });
    server.expireWatchHistory();
    await waitFor('a relist after the server ended the watch', () => lists(server) > before, 4000);
    server.store.create(node('n2', 2));
    await waitFor('watching again after the relist', () => names(store) === 'n1,n2', 3000);
    assert.equal(informer.restarts, 0, '410 is handled by relisting, not by the error path');
  } finally {
    await informer.stop();
    await server.close();
  }
});

for (const mode of ['refuse', 'hang'] as const) {
  test(`the API server pausing (${mode}) mid-watch: the informer restarts with backoff and catches up`, async () => {
    const { server, store, informer } = await setup();
    try {
      server.store.create(node('n1', 1));
      server.store.create(node('n2', 2));
      informer.start();
      await bounded(informer.whenSynced, 3000, 'sync');
      await server.pause(mode);
      // changes the informer cannot see while the server is away, including a delete
      server.store.delete('v1', 'Node', 'n1');
      server.store.create(node('n3', 3));
      await waitFor('at least one failed restart', () => informer.restarts >= 2, 4000);
      await server.resume();
      await waitFor('caught up after resume', () => names(store) === 'n2,n3', 5000);
      server.store.create(node('n4', 4));
      await waitFor('watching again', () => names(store) === 'n2,n3,n4', 3000);
    } finally {
      await informer.stop();
      await server.close();
    }
  });
}

test('stop() ends the watch and no handler runs afterwards', async () => {
  const { server, store, informer } = await setup();
  try {
    informer.start();
    await bounded(informer.whenSynced, 3000, 'sync');
    await informer.stop();
    server.store.create(node('late', 9));
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(names(store), '');
    assert.equal(informer.restarts, 0);
  } finally {
    await informer.stop();
    await server.close();
  }
});

test('a selector the server refuses (400) is synced as selecting nothing when asked to, and never otherwise', async () => {
  for (const badRequestIsEmpty of [true, false]) {
    const { server, store, informer } = await setup({}, { labelSelector: 'a b=x', badRequestIsEmpty });
    try {
      server.store.create(node('n1', 1));
      informer.start();
      await waitFor('a refused list', () => informer.restarts >= 2, 3000);
      assert.equal(informer.synced, badRequestIsEmpty, `badRequestIsEmpty ${badRequestIsEmpty}`);
      assert.equal(names(store), '');
    } finally {
      await informer.stop();
      await server.close();
    }
  }
});

test("a list in pages: changes made between pages reach the store through the watch from the list's revision", async () => {
  let pages = 0;
  let server!: ApiServer;
  const afterFirstPage = (o: JsonObject) => {
    // runs while the first page is kept, before the second is asked for
    if ((o.metadata as { name: string }).name === 'n1' && pages++ === 0) {
      server.store.delete('v1', 'Node', 'n4');
      server.store.create(node('n9', 9));
      const n3 = server.store.get('v1', 'Node', 'n3');
      server.store.update({ ...n3, metadata: { ...(n3.metadata as object), labels: { egress: 'true' } } });
    }
    return o;
  };
  const made = await setup({}, { pageSize: 2, transform: afterFirstPage });
  server = made.server;
  const { store, informer } = made;
  try {
    for (let i = 1; i <= 5; i++) server.store.create(node(`n${i}`, i));
    const listedAt = String(server.store.resourceVersion);
    informer.start();
    await bounded(informer.whenSynced, 3000, 'sync');
    const requests = server.requestLog.filter((r) => r.path.startsWith('/api/v1/nodes')).map((r) => new URL(r.path, 'http://x').searchParams);
    const listed = requests.filter((q) => !q.has('watch'));
    assert.deepEqual(
      listed.map((q) => q.get('limit')),
      ['2', '2', '2'],
      'three pages of two',
    );
    await waitFor('the changes between pages', () => names(store) === 'n1,n2,n3,n5,n9' && store.get('Node', 'n3')?.value?.labels.egress === 'true');
    assert.equal(informer.restarts, 0);
    server.endWatches(); // a watch is logged when the server ends it
    const watch = await waitFor('the watch logged', () => server.requestLog.map((r) => new URL(r.path, 'http://x').searchParams).find((q) => q.has('watch')));
    assert.equal(watch.get('resourceVersion'), listedAt, 'the watch starts at the revision the pages were read at');
  } finally {
    await informer.stop();
    await server.close();
  }
});

test('streams the server ends are resumed from the last revision seen: updates, deletes and a relist after a 410 all arrive', async () => {
  {
    const { server, store, informer } = await setup({ watch: { ...TIMING.watch, timeoutSeconds: 1 } });
    try {
      server.store.create(node('n1', 1));
      server.store.create(node('n2', 2));
      informer.start();
      await bounded(informer.whenSynced, 3000, 'sync');
      const listed = lists(server);
      const n1 = server.store.get('v1', 'Node', 'n1');
      server.store.update({ ...n1, metadata: { ...(n1.metadata as object), labels: { egress: 'true' } } });
      server.store.create(node('n3', 3));
      await waitFor('label and n3 seen', () => store.get('Node', 'n1')?.value?.labels.egress === 'true' && names(store) === 'n1,n2,n3');
      await sleep(1500);
      assert.equal(lists(server), listed, 'a stream the server ended (timeoutSeconds 1) is watched again, not listed again');
      server.store.delete('v1', 'Node', 'n3');
      await waitFor('n3 deleted', () => names(store) === 'n1,n2');
      // a relist (410): the list replaces what the store holds from this informer
      const before = lists(server);
      server.store.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bump' } });
      server.expireWatchHistory();
      await waitFor('a relist', () => lists(server) > before, 4000);
      server.store.delete('v1', 'Node', 'n2');
      server.store.create(node('n4', 4));
      await waitFor('following again after the relist', () => names(store) === 'n1,n4', 3000);
      assert.equal(informer.restarts, 0);
      assert.equal(store.get('Node', 'n1')?.value?.labels.egress, 'true');
    } finally {
      await informer.stop();
      await server.close();
    }
  }
});

test('an informer waiting out its backoff lists at once when the client gets an answer again, once', async () => {
  // the first restart waits 4 s: without the signal, nothing could arrive within the bound below
  const { server, client, store, informer } = await setup({ backoffInitialMs: 4000, backoffMaxMs: 8000 });
  try {
    server.store.create(node('n1', 1));
    informer.start();
    await bounded(informer.whenSynced, 3000, 'sync');
    await server.pause('refuse');
    await waitFor('the watch cut, a restart pending', () => informer.restarts === 1, 3000);
    server.store.create(node('n2', 2));
    await assert.rejects(client.get('/version'), 'a request without an answer');
    await server.resume();
    const listed = lists(server);
    const t0 = Date.now();
    await client.get('/version');
    await waitFor('the change seen', () => names(store) === 'n1,n2', 3000);
    assert.ok(Date.now() - t0 < 1500, `seen ${Date.now() - t0} ms after the API server answered again`);
    await sleep(200);
    assert.equal(lists(server) - listed, 1, 'one list');
  } finally {
    await informer.stop();
    client.close();
    await server.close();
  }
});
