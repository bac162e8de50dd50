import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { ApiError } from './api-error.js';
import type { JsonObject } from './json.js';
import { testdata, withApiServer } from './test-support.js';
import type { ApiServer } from './server.js';

const crd = parse(readFileSync(testdata('egresspolicy-crd.yaml'), 'utf8')) as JsonObject;
const EP = 'egress.sluice.dev/v1alpha1';

function policy(name: string, spec: JsonObject = {}): JsonObject {
  return {
    apiVersion: EP,
    kind: 'EgressPolicy',
    metadata: { name, namespace: 'default' },
    spec: { egressGatewayName: 'default', appliedTo: { podSubnet: ['10.244.1.0/24'] }, ...spec },
  };
}

function meta(object: JsonObject): JsonObject {
  return object.metadata as JsonObject;
}

function rejectsWith(action: () => unknown, status: number, reason: string, message?: RegExp): void {
  assert.throws(action, (error: unknown) => {
    assert.ok(error instanceof ApiError, `expected an ApiError, got ${String(error)}`);
    assert.equal(error.httpStatus, status);
    assert.equal(error.reason, reason);
    if (message) assert.match(error.message, message);
    return true;
  });
}

async function withPolicies(run: (server: ApiServer) => Promise<void>): Promise<void> {
  await withApiServer(async (server) => {
    server.store.create(crd);
    await run(server);
  });
}

describe('object store semantics', () => {
  test('create fills uid, creationTimestamp, generation and a global monotonic resourceVersion', () =>
    withPolicies(async (server) => {
      const first = server.store.create(policy('a'));
      const lease = server.store.create({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'l', namespace: 'default' } });
      const second = server.store.create(policy('b'));
      assert.match(String(meta(first).uid), /^[0-9a-f-]{36}$/);
      assert.match(String(meta(first).creationTimestamp), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      assert.equal(meta(first).generation, 1);
      const versions = [first, lease, second].map((object) => Number(meta(object).resourceVersion));
      assert.deepEqual(versions, [versions[0], versions[0] + 1, versions[0] + 2]);
      assert.equal(server.store.resourceVersion, versions[2]);
      assert.equal((first.spec as JsonObject).priority, 0, 'schema defaults are applied');
    }));

  test('AlreadyExists, NotFound and a missing namespace', () =>
    withPolicies(async (server) => {
      server.store.create(policy('a'));
      rejectsWith(() => server.store.create(policy('a')), 409, 'AlreadyExists', /^egresspolicies\.egress\.sluice\.dev "a" already exists$/);
      rejectsWith(() => server.store.get(EP, 'EgressPolicy', 'nope', 'default'), 404, 'NotFound', /^egresspolicies\.egress\.sluice\.dev "nope" not found$/);
      const elsewhere = policy('a');
      meta(elsewhere).namespace = 'missing';
      rejectsWith(() => server.store.create(elsewhere), 404, 'NotFound', /^namespaces "missing" not found$/);
    }));

  test('generateName picks a fresh name', () =>
    withPolicies(async (server) => {
      const object = policy('');
      delete meta(object).name;
      meta(object).generateName = 'gen-';
      const created = server.store.create(object);
      assert.match(String(meta(created).name), /^gen-[a-z0-9]{5}$/);
    }));

  test('optimistic concurrency: stale resourceVersion is 409, custom resources need one, leases do not', () =>
    withPolicies(async (server) => {
      const created = server.store.create(policy('a'));
      const updated = server.store.update({ ...created, spec: { ...(created.spec as JsonObject), priority: 5 } });
      rejectsWith(() => server.store.update({ ...created, spec: { ...(created.spec as JsonObject), priority: 6 } }), 409, 'Conflict', /the object has been modified/);
      const withoutVersion = { ...updated, metadata: { ...meta(updated), resourceVersion: undefined } } as unknown as JsonObject;
      delete meta(withoutVersion).resourceVersion;
      rejectsWith(() => server.store.update(withoutVersion), 422, 'Invalid', /metadata\.resourceVersion: Invalid value: 0: must be specified for an update/);
      const lease = server.store.create({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'l', namespace: 'default' }, spec: {} });
      delete meta(lease).resourceVersion;
      server.store.update({ ...lease, spec: { holderIdentity: 'me' } });
      rejectsWith(
        () => server.store.patch(EP, 'EgressPolicy', 'a', { metadata: { resourceVersion: meta(created).resourceVersion }, spec: { priority: 1 } }, { namespace: 'default' }),
        409,
        'Conflict',
      );
    }));

  test('generation moves on spec changes only; a no-op update keeps the resourceVersion', () =>
    withPolicies(async (server) => {
      const created = server.store.create(policy('a'));
      const labelled = server.store.patch(EP, 'EgressPolicy', 'a', { metadata: { labels: { x: 'y' } } }, { namespace: 'default' });
      assert.equal(meta(labelled).generation, 1);
      const withStatus = server.store.patch(EP, 'EgressPolicy', 'a', { status: { node: 'node1' } }, { namespace: 'default', subresource: 'status' });
      assert.equal(meta(withStatus).generation, 1);
      const respecced = server.store.patch(EP, 'EgressPolicy', 'a', { spec: { priority: 3 } }, { namespace: 'default' });
      assert.equal(meta(respecced).generation, 2);
      const again = server.store.update(respecced);
      assert.equal(meta(again).resourceVersion, meta(respecced).resourceVersion);
      assert.notEqual(meta(created).resourceVersion, meta(respecced).resourceVersion);
    }));

  test('status subresource: main writes keep status, status writes change only status', () =>
    withPolicies(async (server) => {
      const created = server.store.create({ ...policy('a'), status: { node: 'ignored-on-create' } });
      assert.equal(created.status, undefined);
      const statusWrite = server.store.updateStatus({ ...created, spec: { egressGatewayName: 'changed' }, status: { node: 'node1' } });
      assert.deepEqual(statusWrite.status, { node: 'node1' });
      assert.equal((statusWrite.spec as JsonObject).egressGatewayName, 'default');
      const mainWrite = server.store.update({ ...statusWrite, spec: { ...(statusWrite.spec as JsonObject), priority: 9 }, status: { node: 'other' } });
      assert.deepEqual(mainWrite.status, { node: 'node1' });
      assert.equal((mainWrite.spec as JsonObject).priority, 9);
    }));

  test('create-time status rules of built-in kinds: pods reset, nodes keep theirs', () =>
    withApiServer(async (server) => {
      const pod = server.store.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' }, spec: { containers: [] }, status: { podIP: '10.0.0.1' } });
      assert.deepEqual(pod.status, { phase: 'Pending', qosClass: 'BestEffort' });
      const node = server.store.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n' }, status: { addresses: [{ type: 'InternalIP', address: '198.18.0.2' }] } });
      assert.deepEqual(node.status, { addresses: [{ type: 'InternalIP', address: '198.18.0.2' }] });
      const applied = server.store.apply({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'q', namespace: 'default' }, spec: { nodeName: 'n' }, status: { podIP: '10.0.0.2' } });
      assert.deepEqual(applied.status, { podIP: '10.0.0.2' });
    }));

  test('finalizers: delete marks deletionTimestamp, removing the last finalizer deletes', () =>
    withPolicies(async (server) => {
      server.store.create({ ...policy('a'), metadata: { name: 'a', namespace: 'default', finalizers: ['egress.sluice.dev/cleanup'] } });
      assert.equal(server.store.delete(EP, 'EgressPolicy', 'a', 'default'), false);
      const marked = server.store.get(EP, 'EgressPolicy', 'a', 'default');
      assert.ok(meta(marked).deletionTimestamp);
      assert.equal(server.store.delete(EP, 'EgressPolicy', 'a', 'default'), false, 'a second delete changes nothing');
      server.store.patch(EP, 'EgressPolicy', 'a', { metadata: { finalizers: null } }, { namespace: 'default' });
      assert.equal(server.store.find(EP, 'EgressPolicy', 'a', 'default'), undefined);
    }));

  test('garbage collection of dependents, and orphaning', () =>
    withPolicies(async (server) => {
      const owner = server.store.create(policy('owner'));
      const ownerReference = { apiVersion: EP, kind: 'EgressPolicy', name: 'owner', uid: meta(owner).uid, controller: true };
      const dependent = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'dep', namespace: 'default', ownerReferences: [ownerReference] } };
      server.store.create(dependent);
      server.store.delete(EP, 'EgressPolicy', 'owner', 'default');
      await server.store.waitFor('v1', 'ConfigMap', 'dep', 'default', (object) => object === undefined, 2000);

      const owner2 = server.store.create(policy('owner2'));
      server.store.create({ ...dependent, metadata: { ...dependent.metadata, ownerReferences: [{ ...ownerReference, name: 'owner2', uid: meta(owner2).uid }] } });
      server.store.delete(EP, 'EgressPolicy', 'owner2', 'default', 'Orphan');
      const orphan = await server.store.waitFor('v1', 'ConfigMap', 'dep', 'default', (object) => !!object && meta(object).ownerReferences === undefined, 2000);
      assert.ok(orphan);
    }));

  test('garbage collection follows ownerReferences as they change: one added later counts, one removed no longer does', () =>
    withPolicies(async (server) => {
      const [a, b] = ['a', 'b', 'c'].map((name) => server.store.create(policy(name)));
      const ref = (owner: JsonObject) => ({ apiVersion: EP, kind: 'EgressPolicy', name: meta(owner).name, uid: meta(owner).uid });
      const cm = (name: string, owners: JsonObject[]) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default', ownerReferences: owners.map(ref) } });
      // the first collection builds the collector's index (a deletion schedules it); later changes keep it
      server.store.delete(EP, 'EgressPolicy', 'c', 'default');
      await new Promise((resolve) => setImmediate(resolve));
      server.store.create(cm('kept', [a!]));
      server.store.create(cm('gone', []));
      server.store.patch('v1', 'ConfigMap', 'kept', { metadata: { ownerReferences: [ref(b!)] } }, { namespace: 'default', type: 'merge' });
      server.store.patch('v1', 'ConfigMap', 'gone', { metadata: { ownerReferences: [ref(a!)] } }, { namespace: 'default', type: 'merge' });
      server.store.delete(EP, 'EgressPolicy', 'a', 'default');
      await server.store.waitFor('v1', 'ConfigMap', 'gone', 'default', (object) => object === undefined, 2000);
      assert.ok(server.store.get('v1', 'ConfigMap', 'kept', 'default'), 'no longer owned by the deleted policy: kept');
    }));

  test('deleting a namespace deletes its objects', () =>
    withPolicies(async (server) => {
      server.store.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' } });
      server.store.create({ ...policy('a'), metadata: { name: 'a', namespace: 'team' } });
      server.store.delete('v1', 'Namespace', 'team');
      assert.deepEqual(server.store.list(EP, 'EgressPolicy', { namespace: 'team' }), []);
    }));

  test('validation errors are 422 Invalid with causes', () =>
    withPolicies(async (server) => {
      assert.throws(
        () => server.store.create(policy('bad', { priority: 5000, egressIP: { useNodeIP: true, ipv4: '198.18.0.1' } })),
        (error: unknown) => {
          assert.ok(error instanceof ApiError);
          assert.equal(error.httpStatus, 422);
          assert.deepEqual(error.details?.causes, [
            { reason: 'FieldValueInvalid', field: 'spec.priority', message: 'Invalid value: 5000: spec.priority in body should be less than or equal to 1000' },
            { reason: 'FieldValueInvalid', field: 'spec.egressIP', message: 'Invalid value: "object": useNodeIP cannot be combined with ipv4 or ipv6' },
          ]);
          assert.equal(error.details?.kind, 'EgressPolicy');
          assert.equal(error.details?.group, 'egress.sluice.dev');
          return true;
        },
      );
      rejectsWith(() => server.store.create(policy('BadName')), 422, 'Invalid', /metadata\.name: Invalid value: "BadName": a lowercase RFC 1123 subdomain/);
      rejectsWith(() => server.store.create(policy('strict', { typo: 1 }), { fieldValidation: 'Strict' }), 400, 'BadRequest', /strict decoding error: unknown field "spec\.typo"/);
    }));

  test('a CRD gets established status and serves its kind; deleting it removes the kind and its objects', () =>
    withApiServer(async (server) => {
      const created = server.store.create(crd);
      const conditions = (created.status as JsonObject).conditions as JsonObject[];
      assert.deepEqual(
        conditions.map((condition) => [condition.type, condition.status]),
        [
          ['NamesAccepted', 'True'],
          ['Established', 'True'],
        ],
      );
      assert.equal(((created.status as JsonObject).acceptedNames as JsonObject).kind, 'EgressPolicy');
      server.store.create(policy('a'));
      server.store.delete('apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'egresspolicies.egress.sluice.dev');
      rejectsWith(() => server.store.list(EP, 'EgressPolicy'), 404, 'NotFound', /no matches for kind/);
      server.store.create(crd);
      assert.deepEqual(server.store.list(EP, 'EgressPolicy'), [], 'objects of a deleted CRD do not come back');
    }));

  test('invalid CRDs are rejected', () =>
    withApiServer(async (server) => {
      const wrongName = structuredClone(crd);
      (wrongName.metadata as JsonObject).name = 'policies.egress.sluice.dev';
      rejectsWith(() => server.store.create(wrongName), 422, 'Invalid', /must be spec\.names\.plural\+"\."\+spec\.group/);
    }));
});
