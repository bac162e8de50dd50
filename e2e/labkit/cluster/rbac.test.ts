import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forbiddenMessage, Rbac, serviceAccountUser } from './rbac.js';
import { requestAttributes, type ResourceAttributes } from './request-attributes.js';
import { describeGrant, rbacCoverage } from './rbac-coverage.js';
import type { GateRecord } from './api-gate.js';

const attrs = (method: string, path: string) => requestAttributes(method, new URL(path, 'http://x')) as ResourceAttributes;

test('request attributes as the API server derives them', () => {
  assert.deepEqual(attrs('GET', '/api/v1/pods'), { kind: 'resource', verb: 'list', group: '', version: 'v1', resource: 'pods', subresource: '', namespace: '', name: '' });
  assert.equal(attrs('GET', '/api/v1/pods?watch=true&resourceVersion=5').verb, 'watch');
  assert.equal(attrs('GET', '/api/v1/nodes?fieldSelector=metadata.name%3Dn1&watch=1').verb, 'watch');
  assert.deepEqual(attrs('PATCH', '/apis/egress.sluice.dev/v1alpha1/egresstunnels/n1/status'), {
    kind: 'resource',
    verb: 'patch',
    group: 'egress.sluice.dev',
    version: 'v1alpha1',
    resource: 'egresstunnels',
    subresource: 'status',
    namespace: '',
    name: 'n1',
  });
  assert.deepEqual(attrs('POST', '/apis/coordination.k8s.io/v1/namespaces/sluice-system/leases'), {
    kind: 'resource',
    verb: 'create',
    group: 'coordination.k8s.io',
    version: 'v1',
    resource: 'leases',
    subresource: '',
    namespace: 'sluice-system',
    name: '',
  });
  assert.deepEqual(attrs('GET', '/api/v1/namespaces/default'), {
    kind: 'resource',
    verb: 'get',
    group: '',
    version: 'v1',
    resource: 'namespaces',
    subresource: '',
    namespace: 'default',
    name: 'default',
  });
  assert.deepEqual(attrs('PUT', '/api/v1/namespaces/default/status'), {
    kind: 'resource',
    verb: 'update',
    group: '',
    version: 'v1',
    resource: 'namespaces',
    subresource: 'status',
    namespace: 'default',
    name: 'default',
  });
  assert.equal(attrs('DELETE', '/api/v1/namespaces/default/pods').verb, 'deletecollection');
  assert.deepEqual(requestAttributes('GET', new URL('http://x/apis')), { kind: 'nonResource', verb: 'get', path: '/apis' });
  assert.deepEqual(requestAttributes('GET', new URL('http://x/version')), { kind: 'nonResource', verb: 'get', path: '/version' });
});

test('RBAC: cluster and namespaced bindings, subresources, resourceNames, and the 403 message', () => {
  const rbac = new Rbac([
    { kind: 'ClusterRole', metadata: { name: 'read' }, rules: [{ apiGroups: ['egress.sluice.dev'], resources: ['egresstunnels'], verbs: ['get', 'list', 'watch', 'patch'] }] },
    {
      kind: 'ClusterRoleBinding',
      metadata: { name: 'read' },
      roleRef: { kind: 'ClusterRole', name: 'read' },
      subjects: [{ kind: 'ServiceAccount', name: 'agent', namespace: 'sys' }],
    },
    {
      kind: 'Role',
      metadata: { name: 'lease', namespace: 'sys' },
      rules: [{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'update'], resourceNames: ['sluice-controller'] }],
    },
    { kind: 'RoleBinding', metadata: { name: 'lease', namespace: 'sys' }, roleRef: { kind: 'Role', name: 'lease' }, subjects: [{ kind: 'ServiceAccount', name: 'agent' }] },
  ]);
  const agent = serviceAccountUser('sys', 'agent');
  const other = serviceAccountUser('sys', 'other');
  assert.equal(rbac.allows(agent, attrs('PATCH', '/apis/egress.sluice.dev/v1alpha1/egresstunnels/n1')), true);
  assert.equal(rbac.allows(agent, attrs('PATCH', '/apis/egress.sluice.dev/v1alpha1/egresstunnels/n1/status')), false, 'a subresource needs its own rule');
  assert.equal(rbac.allows(other, attrs('PATCH', '/apis/egress.sluice.dev/v1alpha1/egresstunnels/n1')), false);
  assert.equal(rbac.allows(agent, attrs('PUT', '/apis/coordination.k8s.io/v1/namespaces/sys/leases/sluice-controller')), true);
  assert.equal(rbac.allows(agent, attrs('PUT', '/apis/coordination.k8s.io/v1/namespaces/sys/leases/other')), false, 'resourceNames');
  assert.equal(rbac.allows(agent, attrs('PUT', '/apis/coordination.k8s.io/v1/namespaces/default/leases/sluice-controller')), false, 'a Role binds in its namespace only');
  assert.equal(
    forbiddenMessage(agent.user, attrs('DELETE', '/apis/egress.sluice.dev/v1alpha1/egresstunnels/n2')),
    'egresstunnels.egress.sluice.dev "n2" is forbidden: User "system:serviceaccount:sys:agent" cannot delete resource "egresstunnels" in API group "egress.sluice.dev"',
  );
});

test('coverage: refused requests, grants no request used, and wildcards are all reported', () => {
  const rbac = new Rbac([
    {
      kind: 'ClusterRole',
      metadata: { name: 'c' },
      rules: [{ apiGroups: ['egress.sluice.dev'], resources: ['egresspolicies', 'egresspolicies/status'], verbs: ['list', 'get', 'update'] }],
    },
    { kind: 'ClusterRoleBinding', metadata: { name: 'c' }, roleRef: { kind: 'ClusterRole', name: 'c' }, subjects: [{ kind: 'ServiceAccount', name: 'ctl', namespace: 'sys' }] },
    { kind: 'Role', metadata: { name: 'r', namespace: 'sys' }, rules: [{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['*'] }] },
    { kind: 'RoleBinding', metadata: { name: 'r', namespace: 'sys' }, roleRef: { kind: 'Role', name: 'r' }, subjects: [{ kind: 'ServiceAccount', name: 'ctl' }] },
  ]);
  const user = serviceAccountUser('sys', 'ctl');
  const record = (method: string, path: string): GateRecord => {
    const attributes = attrs(method, path);
    return { identity: 'ctl', userAgent: '', method, path, attributes, allowed: rbac.allows(user, attributes) };
  };
  const c = rbacCoverage(rbac, user, [
    record('GET', '/apis/egress.sluice.dev/v1alpha1/egresspolicies'),
    record('PUT', '/apis/egress.sluice.dev/v1alpha1/namespaces/default/egresspolicies/p/status'),
    record('GET', '/apis/egress.sluice.dev/v1alpha1/namespaces/default/egresspolicies/p/status'),
    record('DELETE', '/apis/egress.sluice.dev/v1alpha1/namespaces/default/egresspolicies/p'),
    record('GET', '/apis/coordination.k8s.io/v1/namespaces/sys/leases/l'),
  ]);
  assert.deepEqual(c.refused, ['delete egress.sluice.dev/egresspolicies in default p']);
  assert.deepEqual(c.unused.map(describeGrant), [
    'get egress.sluice.dev/egresspolicies (ClusterRole/c via ClusterRoleBinding/c)',
    'update egress.sluice.dev/egresspolicies (ClusterRole/c via ClusterRoleBinding/c)',
    'list egress.sluice.dev/egresspolicies/status (ClusterRole/c via ClusterRoleBinding/c)',
  ]);
  assert.deepEqual(c.wildcards, ['Role/r via RoleBinding/r']);
});
