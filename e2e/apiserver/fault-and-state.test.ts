import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { pino } from 'pino';
import { parse } from 'yaml';
import type { JsonObject } from './json.js';
import { startApiServer } from './server.js';
import { http, readWatch, testdata, withApiServer, withTimeout } from './test-support.js';

const quiet = pino({ level: 'silent' });
const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));

async function refused(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(2000) });
    return false;
  } catch (error) {
    return /ECONNREFUSED|ECONNRESET|fetch failed/.test(String((error as Error).cause ?? error));
  }
}

async function withTempDir<T>(run: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'fake-apiserver-state-'));
  try {
    return await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('fault hooks', () => {
  test('pause() refuses connections and drops watches; resume() comes back on the same port with every object', () =>
    withApiServer(async (server) => {
      server.store.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kept', namespace: 'default' } });
      const watch = await readWatch(`${server.url}/api/v1/configmaps?watch=true`, () => false, { onOpen: () => server.pause() });
      assert.equal(watch.ended, true);
      assert.ok(watch.error, 'the watch connection is cut, not ended cleanly');
      assert.equal(server.watcherCount(), 0);
      assert.equal(server.paused, true);
      assert.equal(await refused(`${server.url}/version`), true);
      server.store.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'while-down', namespace: 'default' } });
      await server.resume();
      const list = await http(`${server.url}/api/v1/namespaces/default/configmaps`);
      assert.deepEqual(
        list.body.items.map((item: JsonObject) => (item.metadata as JsonObject).name),
        ['kept', 'while-down'],
      );
    }));

  test('pause("hang") accepts connections but never answers until resume()', () =>
    withApiServer(async (server) => {
      await server.pause('hang');
      const hanging = fetch(`${server.url}/version`, { signal: AbortSignal.timeout(300) }).then(
        () => 'answered',
        (error: Error) => error.name,
      );
      assert.equal(await hanging, 'TimeoutError');
      await server.resume();
      assert.equal((await http(`${server.url}/version`)).status, 200);
    }));
});

describe('--state persistence', () => {
  test('objects and the resourceVersion survive a restart; older watches then get 410', () =>
    withTempDir(async (dir) => {
      const stateFile = join(dir, 'state.json');
      const first = await startApiServer({ logger: quiet, stateFile });
      let lastVersion: number;
      try {
        first.store.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', labels: { a: 'b' } } });
        first.store.create(parse(await readFile(testdata('egresspolicy-crd.yaml'), 'utf8')) as JsonObject);
        first.store.create({
          apiVersion: 'egress.sluice.dev/v1alpha1',
          kind: 'EgressPolicy',
          metadata: { name: 'p', namespace: 'default' },
          spec: { egressGatewayName: 'gw', appliedTo: { podSubnet: [] } },
        });
        lastVersion = first.store.resourceVersion;
      } finally {
        await first.close();
      }
      const second = await startApiServer({ logger: quiet, stateFile });
      try {
        assert.equal(second.store.resourceVersion, lastVersion);
        assert.equal((second.store.get('v1', 'Node', 'n1').metadata as JsonObject).resourceVersion !== undefined, true);
        assert.equal((second.store.get('egress.sluice.dev/v1alpha1', 'EgressPolicy', 'p', 'default').spec as JsonObject).egressGatewayName, 'gw');
        const created = second.store.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n2' } });
        assert.equal((created.metadata as JsonObject).resourceVersion, String(lastVersion + 1));
        const { events } = await readWatch(`${second.url}/api/v1/nodes?watch=true&resourceVersion=${lastVersion - 2}`, () => false);
        assert.equal(events[0].object.code, 410);
      } finally {
        await second.close();
      }
    }));
});

describe('standalone main', () => {
  test('prints its URL, writes a kubeconfig, goes down on SIGUSR1, up on SIGUSR2, saves state on SIGTERM', () =>
    withTempDir(async (dir) => {
      const kubeconfig = join(dir, 'kubeconfig');
      const stateFile = join(dir, 'state.json');
      const child = execa('node', [MAIN, '--host', '127.0.0.1', '--port', '0', '--kubeconfig', kubeconfig, '--state', stateFile], {
        reject: false,
        buffer: false,
        env: { APISERVER_LOG_LEVEL: 'silent' },
      });
      try {
        const lines = createInterface({ input: child.stdout! });
        const [url] = (await withTimeout(once(lines, 'line'), 10_000, 'server URL on stdout')) as [string];
        assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
        assert.match(await readFile(kubeconfig, 'utf8'), new RegExp(`server: ${url}`));
        assert.equal((await http(`${url}/version`)).status, 200);
        await http(`${url}/api/v1/nodes`, { method: 'POST', body: { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } } });

        child.kill('SIGUSR1');
        await withTimeout(
          waitUntil(() => refused(`${url}/version`)),
          5000,
          'server down after SIGUSR1',
        );
        child.kill('SIGUSR2');
        await withTimeout(
          waitUntil(async () => (await http(`${url}/version`).catch(() => ({ status: 0 }))).status === 200),
          5000,
          'server up after SIGUSR2',
        );
        assert.equal((await http(`${url}/api/v1/nodes/n1`)).status, 200);
      } finally {
        child.kill('SIGTERM');
        const result = await withTimeout(child, 10_000, 'exit after SIGTERM');
        assert.equal(result.exitCode, 0);
      }
      const state = JSON.parse(await readFile(stateFile, 'utf8'));
      assert.ok(state.objects.some((object: JsonObject) => object.kind === 'Node'));
    }));
});

async function waitUntil(condition: () => Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 50));
}
