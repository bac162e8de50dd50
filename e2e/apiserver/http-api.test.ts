import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import type { JsonObject } from './json.js';
import { http, testdata, withApiServer } from './test-support.js';

const crd = parse(readFileSync(testdata('egresspolicy-crd.yaml'), 'utf8')) as JsonObject;
const AGGREGATED_ACCEPT =
  'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';
const TABLE_ACCEPT = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';
const POLICIES = '/apis/egress.sluice.dev/v1alpha1/namespaces/default/egresspolicies';

function policy(name: string): JsonObject {
  return { apiVersion: 'egress.sluice.dev/v1alpha1', kind: 'EgressPolicy', metadata: { name }, spec: { egressGatewayName: 'gw', appliedTo: { podSubnet: ['10.244.0.0/16'] } } };
}

describe('HTTP API', () => {
  test('version, health and content types', () =>
    withApiServer(async (server) => {
      const version = await http(`${server.url}/version?timeout=5s`);
      assert.equal(version.status, 200);
      assert.equal(version.headers.get('content-type'), 'application/json');
      assert.equal(version.body.minor, '32');
      assert.match(version.body.gitVersion, /^v\d+\.\d+\.\d+$/);
      assert.equal((await http(`${server.url}/readyz`)).body, 'ok');
      const missing = await http(`${server.url}/nope`);
      assert.equal(missing.status, 404);
      assert.equal(missing.body.kind, 'Status');
      assert.equal(missing.body.apiVersion, 'v1');
      assert.equal((await http(`${server.url}/openapi/v2`)).status, 404);
    }));

  test('aggregated discovery when asked, legacy otherwise, and CRDs appear and disappear at once', () =>
    withApiServer(async (server) => {
      const core = await http(`${server.url}/api`, { headers: { Accept: AGGREGATED_ACCEPT } });
      assert.equal(core.headers.get('content-type'), 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList');
      assert.deepEqual(
        core.body.items.map((item: JsonObject) => (item.metadata as JsonObject).name),
        [''],
      );
      const pods = core.body.items[0].versions[0].resources.find((resource: JsonObject) => resource.resource === 'pods');
      assert.deepEqual(pods.responseKind, { group: '', version: 'v1', kind: 'Pod' });
      assert.equal(pods.scope, 'Namespaced');
      assert.ok(pods.verbs.includes('watch'));
      assert.equal(pods.subresources[0].subresource, 'status');

      const legacy = await http(`${server.url}/api`);
      assert.equal(legacy.headers.get('content-type'), 'application/json');
      assert.equal(legacy.body.kind, 'APIVersions');
      assert.deepEqual(legacy.body.versions, ['v1']);

      server.store.create(crd);
      const groups = await http(`${server.url}/apis`, { headers: { Accept: AGGREGATED_ACCEPT } });
      const names = groups.body.items.map((item: JsonObject) => (item.metadata as JsonObject).name);
      assert.deepEqual(names, ['coordination.k8s.io', 'rbac.authorization.k8s.io', 'apps', 'policy', 'apiextensions.k8s.io', 'egress.sluice.dev']);
      const egress = groups.body.items[names.indexOf('egress.sluice.dev')].versions[0].resources[0];
      assert.equal(egress.resource, 'egresspolicies');
      assert.deepEqual(egress.shortNames, ['egp']);
      assert.equal(egress.singularResource, 'egresspolicy');

      const legacyGroups = await http(`${server.url}/apis`);
      assert.equal(legacyGroups.body.kind, 'APIGroupList');
      assert.deepEqual(legacyGroups.body.groups.find((g: JsonObject) => g.name === 'egress.sluice.dev').preferredVersion, {
        groupVersion: 'egress.sluice.dev/v1alpha1',
        version: 'v1alpha1',
      });
      const resources = await http(`${server.url}/apis/egress.sluice.dev/v1alpha1`);
      assert.deepEqual(
        resources.body.resources.map((resource: JsonObject) => resource.name),
        ['egresspolicies', 'egresspolicies/status'],
      );

      server.store.delete('apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'egresspolicies.egress.sluice.dev');
      assert.equal((await http(`${server.url}/apis/egress.sluice.dev/v1alpha1`)).status, 404);
      assert.equal((await http(`${server.url}${POLICIES}`)).status, 404);
    }));

  test('openapi v3 advertises fieldValidation on PATCH with the GVK, and no strategic merge patch', () =>
    withApiServer(async (server) => {
      server.store.create(crd);
      const root = await http(`${server.url}/openapi/v3`);
      assert.ok(root.body.paths['api/v1'].serverRelativeURL.startsWith('/openapi/v3/api/v1?hash='));
      const document = await http(`${server.url}${root.body.paths['apis/egress.sluice.dev/v1alpha1'].serverRelativeURL}`);
      const item = document.body.paths['/apis/egress.sluice.dev/v1alpha1/namespaces/{namespace}/egresspolicies/{name}'];
      assert.ok(item.patch.parameters.some((parameter: JsonObject) => parameter.name === 'fieldValidation' && parameter.in === 'query'));
      assert.deepEqual(item.patch['x-kubernetes-group-version-kind'], { group: 'egress.sluice.dev', version: 'v1alpha1', kind: 'EgressPolicy' });
      assert.equal(item.patch.requestBody, undefined);
      assert.ok(document.body.components.schemas['dev.sluice.egress.v1alpha1.EgressPolicy']);
      const core = await http(`${server.url}/openapi/v3/api/v1`);
      assert.ok(core.body.paths['/api/v1/namespaces/{name}'].patch);
      assert.equal(root.headers.get('cache-control'), null);
    }));

  test('create, get, list, table, partial metadata, update, patch and delete over HTTP', () =>
    withApiServer(async (server) => {
      server.store.create(crd);
      const created = await http(`${server.url}${POLICIES}?fieldManager=kubectl-client-side-apply&fieldValidation=Strict`, { method: 'POST', body: policy('one') });
      assert.equal(created.status, 201);
      assert.equal(created.body.metadata.namespace, 'default');
      await http(`${server.url}${POLICIES}`, { method: 'POST', body: policy('two') });

      const list = await http(`${server.url}/apis/egress.sluice.dev/v1alpha1/egresspolicies?limit=1`);
      assert.equal(list.body.kind, 'EgressPolicyList');
      assert.equal(list.body.items.length, 1);
      assert.ok(list.body.metadata.continue);
      assert.equal(list.body.metadata.resourceVersion, String(server.store.resourceVersion));
      const rest = await http(`${server.url}/apis/egress.sluice.dev/v1alpha1/egresspolicies?limit=1&continue=${list.body.metadata.continue}`);
      assert.deepEqual(
        rest.body.items.map((item: JsonObject) => (item.metadata as JsonObject).name),
        ['two'],
      );

      await http(`${server.url}${POLICIES}/one/status`, {
        method: 'PATCH',
        headers: { 'Content-Type': 'application/merge-patch+json' },
        body: { status: { eip: { ipv4: '198.18.0.10' }, node: 'node1' } },
      });
      const table = await http(`${server.url}/apis/egress.sluice.dev/v1alpha1/egresspolicies?limit=500`, { headers: { Accept: TABLE_ACCEPT } });
      assert.equal(table.body.kind, 'Table');
      assert.deepEqual(
        table.body.columnDefinitions.map((column: JsonObject) => column.name),
        ['Name', 'Gateway', 'Ipv4', 'Ipv6', 'EgressTunnel'],
      );
      assert.deepEqual(table.body.rows[0].cells, ['one', 'gw', '198.18.0.10', null, 'node1']);
      assert.equal(table.body.rows[0].object.kind, 'PartialObjectMetadata');
      assert.equal(table.body.rows[0].object.metadata.namespace, 'default');
      assert.ok(table.body.metadata.resourceVersion);

      const partial = await http(`${server.url}${POLICIES}/one`, { headers: { Accept: 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1' } });
      assert.deepEqual(Object.keys(partial.body), ['kind', 'apiVersion', 'metadata']);

      const current = (await http(`${server.url}${POLICIES}/one`)).body;
      const stale = { ...current, metadata: { ...current.metadata, resourceVersion: '1' } };
      const conflict = await http(`${server.url}${POLICIES}/one`, { method: 'PUT', body: stale });
      assert.equal(conflict.status, 409);
      assert.equal(conflict.body.reason, 'Conflict');
      const put = await http(`${server.url}${POLICIES}/one`, { method: 'PUT', body: { ...current, spec: { ...current.spec, priority: 4 } } });
      assert.equal(put.status, 200);
      assert.equal(put.body.metadata.generation, 2);

      const jsonPatch = await http(`${server.url}${POLICIES}/one`, {
        method: 'PATCH',
        headers: { 'Content-Type': 'application/json-patch+json' },
        body: [{ op: 'replace', path: '/spec/priority', value: 7 }],
      });
      assert.equal(jsonPatch.body.spec.priority, 7);
      const strategic = await http(`${server.url}${POLICIES}/one`, { method: 'PATCH', headers: { 'Content-Type': 'application/strategic-merge-patch+json' }, body: {} });
      assert.equal(strategic.status, 415, 'custom resources refuse strategic merge patches');
      const apply = await http(`${server.url}${POLICIES}/one?fieldManager=kubectl&force=false`, {
        method: 'PATCH',
        headers: { 'Content-Type': 'application/apply-patch+yaml' },
        body: {},
      });
      assert.equal(apply.status, 415);
      assert.equal(apply.body.reason, 'UnsupportedMediaType');

      const deleted = await http(`${server.url}${POLICIES}/one`, { method: 'DELETE', body: { propagationPolicy: 'Background' } });
      assert.equal(deleted.status, 200);
      assert.equal(deleted.body.status, 'Success');
      const gone = await http(`${server.url}${POLICIES}/one`);
      assert.equal(gone.status, 404);
      assert.deepEqual(gone.body.details, { name: 'one', group: 'egress.sluice.dev', kind: 'egresspolicies' });
    }));

  test('fieldValidation: Strict rejects unknown fields, Warn prunes them with a Warning header', () =>
    withApiServer(async (server) => {
      server.store.create(crd);
      const body = { ...policy('typo'), spec: { ...(policy('typo').spec as JsonObject), gatway: 'x' } };
      const strict = await http(`${server.url}${POLICIES}?fieldValidation=Strict`, { method: 'POST', body });
      assert.equal(strict.status, 400);
      assert.equal(strict.body.message, 'EgressPolicy in version "v1alpha1" cannot be handled as a EgressPolicy: strict decoding error: unknown field "spec.gatway"');
      const warn = await http(`${server.url}${POLICIES}`, { method: 'POST', body });
      assert.equal(warn.status, 201);
      assert.equal(warn.headers.get('warning'), '299 - "unknown field \\"spec.gatway\\""');
      assert.equal(warn.body.spec.gatway, undefined);
    }));

  test('namespaced POST into a missing namespace is 404, cluster-scoped kinds ignore the namespace', () =>
    withApiServer(async (server) => {
      const missing = await http(`${server.url}/api/v1/namespaces/nowhere/configmaps`, { method: 'POST', body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } } });
      assert.equal(missing.status, 404);
      assert.equal(missing.body.message, 'namespaces "nowhere" not found');
      const node = await http(`${server.url}/api/v1/nodes`, { method: 'POST', body: { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', namespace: 'x' } } });
      assert.equal(node.status, 201);
      assert.equal(node.body.metadata.namespace, undefined);
      const wrongKind = await http(`${server.url}/api/v1/nodes`, { method: 'POST', body: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'n2' } } });
      assert.equal(wrongKind.status, 400);
    }));

  test('label and field selectors on lists, and a strategic merge patch on a built-in kind', () =>
    withApiServer(async (server) => {
      for (const [name, node, app] of [
        ['a', 'n1', 'web'],
        ['b', 'n2', 'web'],
        ['c', 'n1', 'db'],
      ]) {
        server.store.create({
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name, namespace: 'default', labels: { app } },
          spec: { nodeName: node, containers: [{ name: 'main', image: 'x' }] },
        });
      }
      const names = async (query: string) => (await http(`${server.url}/api/v1/pods?${query}`)).body.items.map((item: JsonObject) => (item.metadata as JsonObject).name);
      assert.deepEqual(await names('labelSelector=app%3Dweb'), ['a', 'b']);
      assert.deepEqual(await names('fieldSelector=spec.nodeName%3Dn1'), ['a', 'c']);
      assert.deepEqual(await names('labelSelector=app%20in%20(web)&fieldSelector=spec.nodeName%3Dn1'), ['a']);
      assert.equal((await http(`${server.url}/api/v1/pods?fieldSelector=spec.containers%3Dx`)).status, 400);
      const patched = await http(`${server.url}/api/v1/namespaces/default/pods/a`, {
        method: 'PATCH',
        headers: { 'Content-Type': 'application/strategic-merge-patch+json' },
        body: { metadata: { labels: { tier: 'x' } }, spec: { containers: [{ name: 'main', image: 'y' }] } },
      });
      assert.equal(patched.status, 200);
      assert.deepEqual(patched.body.metadata.labels, { app: 'web', tier: 'x' });
      assert.deepEqual(patched.body.spec.containers, [{ name: 'main', image: 'y' }]);
    }));

  test('write requests are counted per resource and subresource; the request log records them', () =>
    withApiServer(async (server) => {
      const leases = '/apis/coordination.k8s.io/v1/namespaces/default/leases';
      await http(`${server.url}${leases}`, { method: 'POST', body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'l' } } });
      await http(`${server.url}${leases}/l`, { method: 'PATCH', headers: { 'Content-Type': 'application/merge-patch+json' }, body: { spec: { holderIdentity: 'a' } } });
      await http(`${server.url}${leases}/missing`, { method: 'DELETE' });
      await http(`${server.url}${leases}`);
      assert.equal(server.writes.count('leases.coordination.k8s.io'), 3);
      assert.equal(server.writes.count('leases.coordination.k8s.io', 'patch'), 1);
      assert.equal(server.writes.total(), 3);
      server.writes.reset();
      assert.equal(server.writes.total(), 0);
      const last = server.requestLog[server.requestLog.length - 1];
      assert.deepEqual([last.method, last.path, last.status], ['GET', leases, 200]);
      await http(`${server.url}${leases}/l`, { method: 'DELETE' });
      assert.deepEqual((await http(`${server.url}/debug/writes`)).body, { 'leases.coordination.k8s.io': { create: 0, update: 0, patch: 0, delete: 1 } });
    }));

  test('/debug/changes lists committed changes after a resourceVersion with the server time, filtered by resource', () =>
    withApiServer(async (server) => {
      const leases = '/apis/coordination.k8s.io/v1/namespaces/default/leases';
      const before = Date.now();
      const created = await http(`${server.url}${leases}`, { method: 'POST', body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'l' } } });
      const rv = Number(created.body.metadata.resourceVersion);
      await http(`${server.url}${leases}/l`, { method: 'PATCH', headers: { 'Content-Type': 'application/merge-patch+json' }, body: { spec: { holderIdentity: 'a' } } });
      await http(`${server.url}/api/v1/namespaces`, { method: 'POST', body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'other' } } });
      const after = Date.now();
      const all = (await http(`${server.url}/debug/changes?since=${rv - 1}`)).body.items;
      assert.deepEqual(
        all.map((e: any) => [e.type, e.resource, e.namespace, e.name]),
        [
          ['ADDED', 'leases.coordination.k8s.io', 'default', 'l'],
          ['MODIFIED', 'leases.coordination.k8s.io', 'default', 'l'],
          ['ADDED', 'namespaces', undefined, 'other'],
        ],
      );
      assert.ok(all.every((e: any) => e.at >= before - 1 && e.at <= after + 1 && e.resourceVersion > rv - 1));
      assert.ok(all[0].at <= all[1].at && all[1].at <= all[2].at);
      assert.equal(all[1].object.spec.holderIdentity, 'a');
      const leaseChanges = (await http(`${server.url}/debug/changes?since=${rv}&resource=leases.coordination.k8s.io`)).body.items;
      assert.deepEqual(
        leaseChanges.map((e: any) => e.type),
        ['MODIFIED'],
      );
    }));
});
