import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ApiServer } from './server.js';
import { http, withApiServer } from './test-support.js';

const CONFIGMAPS = '/api/v1/configmaps';

function seed(server: ApiServer, namespace: string, names: string[], labels: Record<string, string> = {}): void {
  if (!server.store.find('v1', 'Namespace', namespace)) server.store.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  for (const name of names) server.store.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace, labels }, data: { v: '1' } });
}

const names = (list: { items: { metadata: { namespace: string; name: string } }[] }) => list.items.map((i) => `${i.metadata.namespace}/${i.metadata.name}`);

/** Follows continue tokens to the end; returns every page's body. */
async function allPages(server: ApiServer, path: string, query: string): Promise<any[]> {
  const pages: any[] = [];
  let token = '';
  do {
    const res = await http(`${server.url}${path}?${query}${token ? `&continue=${encodeURIComponent(token)}` : ''}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    pages.push(res.body);
    token = res.body.metadata.continue ?? '';
  } while (token && pages.length < 100);
  return pages;
}

describe('paged lists (limit and continue)', () => {
  test("every page is read at the first page's resourceVersion: changes between pages do not show, nothing shifts", () =>
    withApiServer(async (server) => {
      seed(server, 'a', ['c1', 'c2', 'c3', 'c4', 'c5']);
      const first = await http(`${server.url}${CONFIGMAPS}?limit=2`);
      assert.deepEqual(names(first.body), ['a/c1', 'a/c2']);
      assert.equal(first.body.metadata.remainingItemCount, 3);
      const listedAt = first.body.metadata.resourceVersion;
      assert.equal(listedAt, String(server.store.resourceVersion));

      server.store.delete('v1', 'ConfigMap', 'c1', 'a'); // before the cursor: would shift an offset-based page
      server.store.delete('v1', 'ConfigMap', 'c4', 'a');
      seed(server, 'a', ['c35']);
      server.store.patch('v1', 'ConfigMap', 'c3', { data: { v: '2' } }, { namespace: 'a' });

      const second = await http(`${server.url}${CONFIGMAPS}?limit=2&continue=${first.body.metadata.continue}`);
      assert.equal(second.status, 200);
      assert.deepEqual(names(second.body), ['a/c3', 'a/c4'], 'c4 was deleted after the list began; c35 was created after it');
      assert.equal(second.body.items[0].data.v, '1', 'c3 as it was when the list began');
      assert.equal(second.body.metadata.resourceVersion, listedAt);
      const third = await http(`${server.url}${CONFIGMAPS}?limit=2&continue=${second.body.metadata.continue}`);
      assert.deepEqual(names(third.body), ['a/c5']);
      assert.equal(third.body.metadata.resourceVersion, listedAt);
      assert.equal(third.body.metadata.continue, undefined);

      const fresh = await allPages(server, CONFIGMAPS, 'limit=2');
      assert.deepEqual(fresh.flatMap(names), ['a/c2', 'a/c3', 'a/c35', 'a/c5']);
      assert.ok(fresh.every((page) => page.metadata.resourceVersion === String(server.store.resourceVersion)));
    }));

  test('the token is the real encoding: resourceVersion and the key after the last item', () =>
    withApiServer(async (server) => {
      seed(server, 'a', ['x', 'y']);
      const first = await http(`${server.url}${CONFIGMAPS}?limit=1`);
      const token = JSON.parse(Buffer.from(first.body.metadata.continue, 'base64url').toString('utf8'));
      assert.deepEqual(token, { v: 'meta.k8s.io/v1', rv: Number(first.body.metadata.resourceVersion), start: 'a/x\u0000' });
    }));

  test('a namespaced list pages inside its namespace only', () =>
    withApiServer(async (server) => {
      seed(server, 'a', ['m1', 'm2']);
      seed(server, 'b', ['m1', 'm2', 'm3']);
      seed(server, 'b-c', ['m1']);
      seed(server, 'c', ['m1']);
      const pages = await allPages(server, '/api/v1/namespaces/b/configmaps', 'limit=2');
      assert.deepEqual(pages.flatMap(names), ['b/m1', 'b/m2', 'b/m3']);
      assert.equal(pages.length, 2);
      assert.equal(pages[0].metadata.remainingItemCount, 1);
      assert.deepEqual(
        (await allPages(server, CONFIGMAPS, 'limit=3')).flatMap(names),
        ['a/m1', 'a/m2', 'b-c/m1', 'b/m1', 'b/m2', 'b/m3', 'c/m1'],
        'etcd key order: "b-c/" sorts before "b/"',
      );
    }));

  test('with a selector a page holds at most limit matches and no remainingItemCount; the last page may be empty', () =>
    withApiServer(async (server) => {
      seed(server, 'a', ['p1', 'p2', 'p3'], { app: 'web' });
      seed(server, 'a', ['q1', 'q2'], { app: 'db' });
      const pages = await allPages(server, CONFIGMAPS, `limit=3&labelSelector=${encodeURIComponent('app=web')}`);
      assert.deepEqual(pages.flatMap(names), ['a/p1', 'a/p2', 'a/p3']);
      assert.equal(pages[0].metadata.remainingItemCount, undefined);
      assert.deepEqual(names(pages.at(-1)), [], 'keys after the last match still give a token, as etcd does');
      const matches = await allPages(server, CONFIGMAPS, `limit=1&labelSelector=${encodeURIComponent('app=db')}`);
      assert.deepEqual(matches.flatMap(names), ['a/q1', 'a/q2']);
    }));

  test('a compacted token is 410 Expired with a token for the inconsistent remainder, read at the latest revision', () =>
    withApiServer(async (server) => {
      seed(server, 'a', ['c1', 'c2', 'c3']);
      const first = await http(`${server.url}${CONFIGMAPS}?limit=1`);
      server.store.delete('v1', 'ConfigMap', 'c2', 'a');
      server.expireWatchHistory();
      const gone = await http(`${server.url}${CONFIGMAPS}?limit=1&continue=${first.body.metadata.continue}`);
      assert.equal(gone.status, 410);
      assert.equal(gone.body.kind, 'Status');
      assert.equal(gone.body.reason, 'Expired');
      assert.match(gone.body.message, /continue parameter is too old/);
      const rest = await allPages(server, CONFIGMAPS, `limit=1`.concat(`&continue=${gone.body.metadata.continue}`));
      assert.deepEqual(rest.flatMap(names), ['a/c3'], 'the remainder at the latest revision: c2 is gone');
      assert.equal(rest[0].metadata.resourceVersion, String(server.store.resourceVersion));
    }));

  test('a token expires after continueTtlMs (etcd compaction)', () =>
    withApiServer(
      async (server) => {
        seed(server, 'a', ['c1', 'c2']);
        const first = await http(`${server.url}${CONFIGMAPS}?limit=1`);
        await new Promise((resolve) => setTimeout(resolve, 80));
        assert.equal((await http(`${server.url}${CONFIGMAPS}?limit=1&continue=${first.body.metadata.continue}`)).status, 410);
      },
      { continueTtlMs: 30 },
    ));

  test('bad tokens and a resourceVersion with a token are 400', () =>
    withApiServer(async (server) => {
      seed(server, 'a', ['c1', 'c2']);
      const first = await http(`${server.url}${CONFIGMAPS}?limit=1`);
      for (const token of [
        'nonsense',
        Buffer.from('{"v":"meta.k8s.io/v1","rv":0,"start":"a"}').toString('base64url'),
        Buffer.from('{"v":"x","rv":5,"start":"a"}').toString('base64url'),
      ]) {
        const res = await http(`${server.url}${CONFIGMAPS}?limit=1&continue=${token}`);
        assert.equal(res.status, 400, token);
        assert.match(res.body.message, /^invalid continue token: continue key is not valid/);
      }
      const both = await http(`${server.url}${CONFIGMAPS}?limit=1&resourceVersion=5&continue=${first.body.metadata.continue}`);
      assert.equal(both.status, 400);
      assert.equal(both.body.message, 'specifying resource version is not allowed when using continue');
      assert.equal((await http(`${server.url}${CONFIGMAPS}?limit=abc`)).status, 400);
    }));
});
