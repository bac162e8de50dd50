import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDocument } from './parse-document.js';
import { problemText } from './problems.js';

const policy = (spec: unknown, kind = 'EgressPolicy') => ({ apiVersion: 'egress.sluice.dev/v1alpha1', kind, metadata: { name: 'p', namespace: 'default' }, spec });

function problems(doc: unknown): string[] {
  return parseDocument(doc).problems.map(problemText);
}

const cases: [string, unknown, RegExp][] = [
  ['missing gateway name', policy({ appliedTo: { podSelector: {} } }), /^spec\.egressGatewayName: is required/],
  ['no pod choice', policy({ egressGatewayName: 'g', appliedTo: {} }), /^spec\.appliedTo: set podSelector or podSubnet/],
  ['both pod choices', policy({ egressGatewayName: 'g', appliedTo: { podSelector: {}, podSubnet: ['10.0.0.0/8'] } }), /not both/],
  ['useNodeIP with ipv4', policy({ egressGatewayName: 'g', egressIP: { useNodeIP: true, ipv4: '198.18.0.1' }, appliedTo: { podSelector: {} } }), /^spec\.egressIP\.useNodeIP: cannot be true together/],
  ['ipv6 in the ipv4 field', policy({ egressGatewayName: 'g', egressIP: { ipv4: 'fd00::1' }, appliedTo: { podSelector: {} } }), /^spec\.egressIP\.ipv4: "fd00::1" is not an IPv4 address/],
  ['bad allocator', policy({ egressGatewayName: 'g', egressIP: { allocatorPolicy: 'random' }, appliedTo: { podSelector: {} } }), /allocatorPolicy: "random" must be "default" or "rr"/],
  ['bad destSubnet', policy({ egressGatewayName: 'g', appliedTo: { podSelector: {} }, destSubnet: ['10.0.0.0/40'] }), /^spec\.destSubnet\[0\]: .*prefix length/],
  ['priority out of range', policy({ egressGatewayName: 'g', appliedTo: { podSelector: {} }, priority: 5000 }), /^spec\.priority: must be between -1000 and 1000/],
  ['namespaceSelector on a namespaced policy', policy({ egressGatewayName: 'g', appliedTo: { podSelector: {}, namespaceSelector: {} } }), /only EgressClusterPolicy selects namespaces/],
  ['spidernet apiVersion', { apiVersion: 'egressgateway.spidernet.io/v1beta1', kind: 'EgressPolicy', metadata: { name: 'x' } }, /sluice import/],
  ['unknown kind', { apiVersion: 'egress.sluice.dev/v1alpha1', kind: 'EgressThing', metadata: { name: 'x' } }, /"EgressThing" is not a kind/],
  ['not an object', 'hello', /not a mapping/],
  ['a null selector term', policy({ egressGatewayName: 'g', appliedTo: { podSelector: { matchExpressions: [null, { key: 'app', operator: 'Exists' }] } } }), /^spec\.appliedTo\.podSelector\.matchExpressions\[0\]: must be an object/],
  ['gateway default EIP outside its pool', { apiVersion: 'egress.sluice.dev/v1alpha1', kind: 'EgressGateway', metadata: { name: 'g' }, spec: { nodeSelector: { selector: {} }, ippools: { ipv4: ['198.18.0.10-198.18.0.20'], ipv4DefaultEIP: '198.18.0.50' } } }, /ipv4DefaultEIP: 198\.18\.0\.50 is not inside/],
];

for (const [name, doc, expected] of cases) {
  test(`invalid: ${name}`, () => {
    const found = problems(doc);
    assert.ok(found.some((p) => expected.test(p)), `expected ${expected} in ${JSON.stringify(found)}`);
  });
}

test('the seed 002 policy parses into a frozen model with defaults', () => {
  const r = parseDocument(policy({ egressGatewayName: 'default', appliedTo: { podSelector: { matchLabels: { app: 'visitor' } } } }));
  assert.deepEqual(r.problems, []);
  assert.ok(r.object && r.object.kind === 'EgressPolicy');
  const p = r.object.value;
  assert.equal(p.key, 'default/p');
  assert.equal(p.spec.allocatorPolicy, 'default');
  assert.equal(p.spec.priority, 0);
  assert.ok(Object.isFrozen(p) && Object.isFrozen(p.spec));
});
