import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { startApiServer, type ApiServer } from '../../e2e/apiserver/server.js';
import { KubeClient, type JsonObject } from './rest-client.js';
import { kubeConfigForServer } from './kubeconfig.js';
import { listAllPages } from './paged-list.js';
import { isKubeStatus } from './api-error.js';
import { node as nodeDoc } from '../planner/testing/cluster.js';
import type { JsonObject as ServerObject } from '../../e2e/apiserver/json.js';

const NODES = '/api/v1/nodes';

async function withServer(run: (server: ApiServer, client: KubeClient) => Promise<void>): Promise<void> {
  const server = await startApiServer({ logger: pino({ level: 'silent' }) });
  const client = new KubeClient(kubeConfigForServer(server.url), { timeoutMs: 2000 });
  try {
    for (let i = 1; i <= 7; i++) server.store.create(nodeDoc(`n${i}`, i) as ServerObject);
    await run(server, client);
  } finally {
    client.close();
    await server.close();
  }
}

const nameOf = (o: JsonObject) => (o.metadata as { name: string }).name;
const listRequests = (server: ApiServer) => server.requestLog.filter((r) => r.method === 'GET' && r.path.startsWith(NODES)).map((r) => r.path);

test('a list is read page by page, and its resourceVersion is the revision all pages were read at', () =>
  withServer(async (server, client) => {
    const listedAt = String(server.store.resourceVersion);
    let pagesSeen = 0;
    const list = await listAllPages(client, NODES, {
      pageSize: 3,
      keep: (items) => {
        // changes between pages: a real server still answers from the first page's revision
        if (pagesSeen++ === 0) {
          server.store.delete('v1', 'Node', 'n5');
          server.store.create(nodeDoc('n0', 9) as ServerObject);
        }
        return items.map(nameOf);
      },
    });
    assert.deepEqual(list.items, ['n1', 'n2', 'n3', 'n4', 'n5', 'n6', 'n7']);
    assert.equal(list.resourceVersion, listedAt);
    assert.equal(list.pages, 3);
    assert.deepEqual(
      listRequests(server).map((p) => new URL(p, 'http://x').searchParams.get('limit')),
      ['3', '3', '3'],
    );
  }));

test('an expired continue token (410) begins the list again, never follows the inconsistent remainder', () =>
  withServer(async (server, client) => {
    let pagesSeen = 0;
    const list = await listAllPages(client, NODES, {
      pageSize: 3,
      keep: (items) => {
        if (pagesSeen++ === 0) {
          server.store.delete('v1', 'Node', 'n1');
          server.expireWatchHistory();
        }
        return items.map(nameOf);
      },
    });
    assert.deepEqual(list.items, ['n2', 'n3', 'n4', 'n5', 'n6', 'n7'], 'only the fresh list: nothing of the first attempt is kept');
    assert.equal(list.freshStarts, 1);
    assert.equal(list.resourceVersion, String(server.store.resourceVersion));
    const continues = listRequests(server).filter((p) => p.includes('continue='));
    assert.equal(continues.length, 2, 'one refused continue, then one for the fresh list (two pages)');
  }));

test('a token that keeps expiring gives up with the 410 after a few fresh starts', () =>
  withServer(async (server, client) => {
    let pages = 0;
    await assert.rejects(
      listAllPages(client, NODES, {
        pageSize: 3,
        keep: (items) => {
          pages++;
          server.expireWatchHistory();
          return [...items];
        },
      }),
      (err) => isKubeStatus(err, 410),
    );
    assert.equal(pages, 3);
  }));

test('a selector is sent with every page; an empty last page ends the list', () =>
  withServer(async (server, client) => {
    for (const name of ['n2', 'n4']) server.store.patch('v1', 'Node', name, { metadata: { labels: { egress: 'yes' } } });
    const list = await listAllPages(client, NODES, { pageSize: 1, labelSelector: 'egress=yes', keep: (items) => items.map(nameOf) });
    assert.deepEqual(list.items, ['n2', 'n4']);
    assert.ok(listRequests(server).every((p) => p.includes('labelSelector=egress%3Dyes')));
  }));

test('stopping between pages ends the list', () =>
  withServer(async (_server, client) => {
    let live = true;
    await assert.rejects(
      listAllPages(client, NODES, {
        pageSize: 3,
        live: () => live,
        keep: (items) => {
          live = false;
          return [...items];
        },
      }),
      /stopped/,
    );
  }));
