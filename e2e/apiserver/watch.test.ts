import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import type { JsonObject } from './json.js';
import { http, readWatch, testdata, withApiServer, withTimeout, type WatchEvent } from './test-support.js';

const crd = parse(readFileSync(testdata('egresspolicy-crd.yaml'), 'utf8')) as JsonObject;
const PODS = '/api/v1/namespaces/default/pods';

function pod(name: string, labels: Record<string, string> = {}): JsonObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels }, spec: { containers: [] } };
}

const summary = (events: WatchEvent[]) => events.map((event) => `${event.type} ${event.object.metadata?.name ?? event.object.kind}`);

describe('watch', () => {
  test('resourceVersion "" and "0" replay current objects as ADDED, then stream live events', () =>
    withApiServer(async (server) => {
      server.store.create(pod('a'));
      for (const [resourceVersion, live] of [
        ['', 'live1'],
        ['0', 'live2'],
      ]) {
        const { events } = await readWatch(
          `${server.url}${PODS}?watch=true&resourceVersion=${resourceVersion}`,
          (seen) => seen.some((event) => event.object.metadata.name === live),
          { onOpen: () => void server.store.create(pod(live)) },
        );
        const expected = live === 'live1' ? ['ADDED a', 'ADDED live1'] : ['ADDED a', 'ADDED live1', 'ADDED live2'];
        assert.deepEqual(summary(events), expected);
      }
    }));

  test('headers arrive before any event (client-node waits for them)', () =>
    withApiServer(async (server) => {
      const response = await withTimeout(fetch(`${server.url}${PODS}?watch=true&resourceVersion=${server.store.resourceVersion}`), 2000, 'watch headers');
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('content-type'), 'application/json');
      await response.body?.cancel();
    }));

  test('a resourceVersion resumes from history, so changes between list and watch are not lost', () =>
    withApiServer(async (server) => {
      const list = await http(`${server.url}${PODS}`);
      server.store.create(pod('between'));
      server.store.patch('v1', 'Pod', 'between', { metadata: { labels: { x: 'y' } } }, { namespace: 'default' });
      server.store.delete('v1', 'Pod', 'between', 'default');
      const { events } = await readWatch(`${server.url}${PODS}?watch=1&resourceVersion=${list.body.metadata.resourceVersion}`, (seen) => seen.length >= 3);
      assert.deepEqual(summary(events), ['ADDED between', 'MODIFIED between', 'DELETED between']);
      const versions = events.map((event) => Number(event.object.metadata.resourceVersion));
      assert.deepEqual(
        [...versions].sort((a, b) => a - b),
        versions,
      );
    }));

  test('an expired resourceVersion gets an ERROR 410 Expired event and the stream closes', () =>
    withApiServer(
      async (server) => {
        const start = server.store.resourceVersion;
        for (const name of ['a', 'b', 'c', 'd']) server.store.create(pod(name));
        const { events, ended } = await readWatch(`${server.url}${PODS}?watch=true&resourceVersion=${start}`, () => false);
        assert.equal(ended, true);
        assert.equal(events.length, 1);
        assert.equal(events[0].type, 'ERROR');
        assert.deepEqual([events[0].object.kind, events[0].object.code, events[0].object.reason], ['Status', 410, 'Expired']);

        const recent = server.store.resourceVersion;
        server.expireWatchHistory();
        const afterExpiry = await readWatch(`${server.url}${PODS}?watch=true&resourceVersion=${recent - 1}`, () => false);
        assert.equal(afterExpiry.events[0].type, 'ERROR');
      },
      { watchHistoryLimit: 2 },
    ));

  test('label selectors turn matching changes into ADDED and DELETED; fieldSelector metadata.name narrows', () =>
    withApiServer(async (server) => {
      server.store.create(pod('a', { app: 'web' }));
      server.store.create(pod('b', { app: 'db' }));
      const labelled = readWatch(`${server.url}${PODS}?watch=true&labelSelector=app%3Dweb`, (seen) => seen.length >= 3, {
        onOpen: () => {
          server.store.patch('v1', 'Pod', 'b', { metadata: { labels: { app: 'web' } } }, { namespace: 'default' });
          server.store.patch('v1', 'Pod', 'a', { metadata: { labels: { app: 'db' } } }, { namespace: 'default' });
        },
      });
      assert.deepEqual(summary((await labelled).events), ['ADDED a', 'ADDED b', 'DELETED a']);

      const named = await readWatch(`${server.url}${PODS}?fieldSelector=metadata.name%3Db&resourceVersion=0&watch=true`, (seen) => seen.length >= 2, {
        onOpen: () => {
          server.store.patch('v1', 'Pod', 'a', { metadata: { labels: { x: '1' } } }, { namespace: 'default' });
          server.store.patch('v1', 'Pod', 'b', { metadata: { labels: { x: '1' } } }, { namespace: 'default' });
        },
      });
      assert.deepEqual(summary(named.events), ['ADDED b', 'MODIFIED b']);
    }));

  test('bookmarks when allowed, timeoutSeconds ends the stream', () =>
    withApiServer(
      async (server) => {
        const { events } = await readWatch(`${server.url}${PODS}?watch=true&resourceVersion=${server.store.resourceVersion}&allowWatchBookmarks=true`, (seen) => seen.length >= 1);
        assert.equal(events[0].type, 'BOOKMARK');
        assert.equal(events[0].object.kind, 'Pod');
        assert.equal(events[0].object.metadata.resourceVersion, String(server.store.resourceVersion));
        const started = Date.now();
        const timed = await readWatch(`${server.url}${PODS}?watch=true&timeoutSeconds=1`, () => false, { timeoutMs: 4000 });
        assert.equal(timed.ended, true);
        assert.ok(Date.now() - started < 3000);
      },
      { bookmarkIntervalMs: 100 },
    ));

  test('Table watches (kubectl get -w) send one-row tables, column definitions first only', () =>
    withApiServer(async (server) => {
      server.store.create(crd);
      const accept = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json';
      const { events } = await readWatch(
        `${server.url}/apis/egress.sluice.dev/v1alpha1/egresspolicies?resourceVersion=${server.store.resourceVersion}&watch=true`,
        (seen) => seen.length >= 2,
        {
          headers: { Accept: accept },
          onOpen: () => {
            server.store.create({
              apiVersion: 'egress.sluice.dev/v1alpha1',
              kind: 'EgressPolicy',
              metadata: { name: 'p', namespace: 'default' },
              spec: { egressGatewayName: 'gw', appliedTo: { podSubnet: [] } },
            });
            server.store.patch('egress.sluice.dev/v1alpha1', 'EgressPolicy', 'p', { status: { node: 'n1' } }, { namespace: 'default', subresource: 'status' });
          },
        },
      );
      assert.deepEqual(
        events.map((event) => event.type),
        ['ADDED', 'MODIFIED'],
      );
      assert.equal(events[0].object.kind, 'Table');
      assert.equal(events[0].object.columnDefinitions.length, 5);
      assert.equal(events[1].object.columnDefinitions, null);
      assert.deepEqual(events[1].object.rows[0].cells, ['p', 'gw', null, null, 'n1']);
      assert.equal(events[1].object.rows[0].object.metadata.namespace, 'default');
    }));

  test('deleting a CRD ends the watches on its kind', () =>
    withApiServer(async (server) => {
      server.store.create(crd);
      const watching = readWatch(`${server.url}/apis/egress.sluice.dev/v1alpha1/egresspolicies?watch=true`, () => false, {
        onOpen: () => {
          setTimeout(() => server.store.delete('apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'egresspolicies.egress.sluice.dev'), 50);
        },
      });
      assert.equal((await watching).ended, true);
      assert.equal(server.watcherCount(), 0);
    }));
});
