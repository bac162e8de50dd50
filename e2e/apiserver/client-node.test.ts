/** @kubernetes/client-node 1.4 against the fake server: informers (including a 410 relist) and Leases. */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { parse } from 'yaml';
import type { ApiServer } from './server.js';
import { testdata, withApiServer, withTimeout } from './test-support.js';

function clientFor(server: ApiServer): k8s.KubeConfig {
  const config = new k8s.KubeConfig();
  config.loadFromString(server.kubeconfigYaml());
  return config;
}

describe('@kubernetes/client-node', () => {
  test('an informer lists, watches, and relists after 410 Expired', () =>
    withApiServer(async (server) => {
      const config = clientFor(server);
      const core = config.makeApiClient(k8s.CoreV1Api);
      server.store.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'first', namespace: 'default' } });
      const path = '/api/v1/namespaces/default/configmaps';
      const informer = k8s.makeInformer(config, path, () => core.listNamespacedConfigMap({ namespace: 'default' }));
      const added: string[] = [];
      const updated: string[] = [];
      const deleted: string[] = [];
      const errors: unknown[] = [];
      informer.on('add', (object) => added.push(object.metadata?.name ?? ''));
      informer.on('update', (object) => updated.push(object.metadata?.name ?? ''));
      informer.on('delete', (object) => deleted.push(object.metadata?.name ?? ''));
      informer.on('error', (error) => errors.push(error));
      try {
        await withTimeout(informer.start(), 5000, 'informer start');
        assert.deepEqual(added, ['first']);
        await withTimeout(
          waitUntil(() => server.watcherCount() === 1),
          5000,
          'informer watch',
        );

        await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'second' }, data: { a: '1' } } });
        await core.patchNamespacedConfigMap({ name: 'second', namespace: 'default', body: [{ op: 'replace', path: '/data/a', value: '2' }] });
        await core.deleteNamespacedConfigMap({ name: 'first', namespace: 'default' });
        await withTimeout(
          waitUntil(() => deleted.includes('first') && updated.includes('second')),
          5000,
          'watch events',
        );
        assert.equal(informer.get('second', 'default')?.data?.a, '2');

        const listsBefore = server.requestLog.filter((entry) => entry.path === path).length;
        server.endWatches();
        server.store.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'missed', namespace: 'default' } });
        server.expireWatchHistory();
        await withTimeout(
          waitUntil(() => added.includes('missed')),
          5000,
          'relist after 410',
        );
        const lists = server.requestLog.filter((entry) => entry.path === path).length;
        assert.equal(lists, listsBefore + 1, 'the informer listed again');
        assert.ok(server.requestLog.some((entry) => entry.path.startsWith(`${path}?watch=true`) && entry.status === 200));
        assert.deepEqual(errors, []);
      } finally {
        await informer.stop();
      }
    }));

  test('Leases: create with MicroTime, replace, 409 on a stale resourceVersion, 404 on a missing one', () =>
    withApiServer(async (server) => {
      const coordination = clientFor(server).makeApiClient(k8s.CoordinationV1Api);
      const now = new k8s.V1MicroTime();
      const lease = await coordination.createNamespacedLease({
        namespace: 'default',
        body: { metadata: { name: 'leader' }, spec: { holderIdentity: 'node-a', leaseDurationSeconds: 15, acquireTime: now, renewTime: now } },
      });
      assert.equal(lease.spec?.holderIdentity, 'node-a');
      assert.match(String(lease.spec?.renewTime), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);

      const renewed = await coordination.replaceNamespacedLease({
        name: 'leader',
        namespace: 'default',
        body: { ...lease, spec: { ...lease.spec, renewTime: new k8s.V1MicroTime() } },
      });
      assert.notEqual(renewed.metadata?.resourceVersion, lease.metadata?.resourceVersion);
      assert.equal(server.writes.count('leases.coordination.k8s.io', 'update'), 1);

      await assert.rejects(
        coordination.replaceNamespacedLease({ name: 'leader', namespace: 'default', body: { ...lease, spec: { ...lease.spec, holderIdentity: 'node-b' } } }),
        (error: unknown) => error instanceof k8s.ApiException && error.code === 409,
      );
      await assert.rejects(coordination.readNamespacedLease({ name: 'nobody', namespace: 'default' }), (error: unknown) => error instanceof k8s.ApiException && error.code === 404);
    }));

  test('custom objects: create, json-patch the status subresource (the client default), list', () =>
    withApiServer(async (server) => {
      const config = clientFor(server);
      const extensions = config.makeApiClient(k8s.ApiextensionsV1Api);
      await extensions.createCustomResourceDefinition({ body: parse(await readFile(testdata('egresspolicy-crd.yaml'), 'utf8')) });
      const custom = config.makeApiClient(k8s.CustomObjectsApi);
      const target = { group: 'egress.sluice.dev', version: 'v1alpha1', namespace: 'default', plural: 'egresspolicies' };
      await custom.createNamespacedCustomObject({
        ...target,
        body: { apiVersion: 'egress.sluice.dev/v1alpha1', kind: 'EgressPolicy', metadata: { name: 'p' }, spec: { egressGatewayName: 'gw', appliedTo: { podSubnet: [] } } },
      });
      const patched = await custom.patchNamespacedCustomObjectStatus({ ...target, name: 'p', body: [{ op: 'add', path: '/status', value: { node: 'n1' } }] });
      assert.deepEqual(patched.status, { node: 'n1' });
      const list = await custom.listNamespacedCustomObject(target);
      assert.equal(list.items.length, 1);
      assert.equal(list.items[0].status.node, 'n1');
    }));
});

async function waitUntil(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 20));
}
