import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDocument } from './parse-document.js';
import { problemText } from './problems.js';

const policy = (spec: unknown, kind = 'EgressPolicy') => ({ apiVersion: 'egress.sluice.dev/v1alpha1', kind, metadata: { name: 'p', namespace: 'default' }, spec });

const gatewayWith = (ippools: unknown) => ({
  apiVersion: 'egress.sluice.dev/v1alpha1',
  kind: 'EgressGateway',
  metadata: { name: 'g' },
  spec: { nodeSelector: { selector: {} }, ippools },
});

function problems(doc: unknown): string[] {
  return parseDocument(doc).problems.map(problemText);
}

const cases: [string, unknown, RegExp][] = [
  [
    'a gateway name that is no object name',
    policy({ egressGatewayName: 'Main_GW', appliedTo: { podSelector: {} } }),
    /^spec\.egressGatewayName: "Main_GW" is not an EgressGateway name/,
  ],
  [
    'clusterDefault that is not a boolean',
    { apiVersion: 'egress.sluice.dev/v1alpha1', kind: 'EgressGateway', metadata: { name: 'g' }, spec: { clusterDefault: 'yes', nodeSelector: { selector: {} } } },
    /^spec\.clusterDefault: must be true or false/,
  ],
  ['no pod choice', policy({ egressGatewayName: 'g', appliedTo: {} }), /^spec\.appliedTo: set podSelector or podSubnet/],
  ['both pod choices', policy({ egressGatewayName: 'g', appliedTo: { podSelector: {}, podSubnet: ['10.0.0.0/8'] } }), /not both/],
  [
    'useNodeIP with ipv4',
    policy({ egressGatewayName: 'g', egressIP: { useNodeIP: true, ipv4: '198.18.0.1' }, appliedTo: { podSelector: {} } }),
    /^spec\.egressIP\.useNodeIP: cannot be true together/,
  ],
  [
    'ipv6 in the ipv4 field',
    policy({ egressGatewayName: 'g', egressIP: { ipv4: 'fd00::1' }, appliedTo: { podSelector: {} } }),
    /^spec\.egressIP\.ipv4: "fd00::1" is not an IPv4 address/,
  ],
  [
    'bad allocator',
    policy({ egressGatewayName: 'g', egressIP: { allocatorPolicy: 'random' }, appliedTo: { podSelector: {} } }),
    /allocatorPolicy: "random" must be "default" or "rr"/,
  ],
  ['bad destSubnet', policy({ egressGatewayName: 'g', appliedTo: { podSelector: {} }, destSubnet: ['10.0.0.0/40'] }), /^spec\.destSubnet\[0\]: .*prefix length/],
  ['priority out of range', policy({ egressGatewayName: 'g', appliedTo: { podSelector: {} }, priority: 5000 }), /^spec\.priority: must be between -1000 and 1000/],
  [
    'namespaceSelector on a namespaced policy',
    policy({ egressGatewayName: 'g', appliedTo: { podSelector: {}, namespaceSelector: {} } }),
    /only EgressClusterPolicy selects namespaces/,
  ],
  ['spidernet apiVersion', { apiVersion: 'egressgateway.spidernet.io/v1beta1', kind: 'EgressPolicy', metadata: { name: 'x' } }, /sluice import/],
  ['unknown kind', { apiVersion: 'egress.sluice.dev/v1alpha1', kind: 'EgressThing', metadata: { name: 'x' } }, /"EgressThing" is not a kind/],
  ['not an object', 'hello', /not a mapping/],
  [
    'a null selector term',
    policy({ egressGatewayName: 'g', appliedTo: { podSelector: { matchExpressions: [null, { key: 'app', operator: 'Exists' }] } } }),
    /^spec\.appliedTo\.podSelector\.matchExpressions\[0\]: must be an object/,
  ],
  // IPv4-mapped IPv6 would let one address pass as two (and reach the kernel as the IPv4 address)
  [
    'IPv4-mapped IPv6 in a pool',
    gatewayWith({ ipv6: ['::ffff:198.18.0.1'] }),
    /^spec\.ippools\.ipv6\[0\]: "::ffff:198\.18\.0\.1" is not accepted: IPv6 with an embedded IPv4 address/,
  ],
  ['IPv4-mapped IPv6 in hex', gatewayWith({ ipv6: ['fd00::/64', '::ffff:c612:1'] }), /^spec\.ippools\.ipv6\[1\]: "::ffff:c612:1" is an IPv4-mapped IPv6 address/],
  [
    'IPv4-mapped IPv6 as an explicit EIP',
    policy({ egressGatewayName: 'g', egressIP: { ipv6: '0:0:0:0:0:ffff:c612:1' }, appliedTo: { podSelector: {} } }),
    /^spec\.egressIP\.ipv6: .*IPv4-mapped/,
  ],
  [
    'the IPv4-mapped range as a destination',
    policy({ egressGatewayName: 'g', appliedTo: { podSelector: {} }, destSubnet: ['::ffff:0:0/96'] }),
    /^spec\.destSubnet\[0\]: .*IPv4-mapped/,
  ],
  // what Kubernetes itself refuses
  [
    'an upper-case namespace',
    { ...policy({ egressGatewayName: 'g', appliedTo: { podSelector: {} } }), metadata: { name: 'p', namespace: 'Team-A' } },
    /^metadata\.namespace: "Team-A" must be a lower-case DNS label/,
  ],
  [
    'a namespace with a dot',
    { ...policy({ egressGatewayName: 'g', appliedTo: { podSelector: {} } }), metadata: { name: 'p', namespace: 'team.a' } },
    /^metadata\.namespace: "team\.a" must be a lower-case DNS label/,
  ],
  [
    'a 64-character namespace',
    { ...policy({ egressGatewayName: 'g', appliedTo: { podSelector: {} } }), metadata: { name: 'p', namespace: 'n'.repeat(64) } },
    /^metadata\.namespace: .* at most 63 characters/,
  ],
  [
    'a label key with two slashes',
    policy({ egressGatewayName: 'g', appliedTo: { podSelector: { matchLabels: { 'a/b/c': 'x' } } } }),
    /^spec\.appliedTo\.podSelector\.matchLabels\["a\/b\/c"\]: is not a valid label key/,
  ],
  [
    'a label key with an upper-case prefix',
    { ...policy({ egressGatewayName: 'g', appliedTo: { podSelector: {} } }), metadata: { name: 'p', namespace: 'default', labels: { 'Example.com/app': 'x' } } },
    /^metadata\.labels\["Example\.com\/app"\]: is not a valid label key/,
  ],
  [
    'a label key whose name is 64 characters',
    policy({ egressGatewayName: 'g', appliedTo: { podSelector: { matchExpressions: [{ key: `example.com/${'k'.repeat(64)}`, operator: 'Exists' }] } } }),
    /^spec\.appliedTo\.podSelector\.matchExpressions\[0\]\.key: .* is not a valid label key/,
  ],
  [
    'a label value starting with a dash',
    policy({ egressGatewayName: 'g', appliedTo: { podSelector: { matchLabels: { app: '-web' } } } }),
    /^spec\.appliedTo\.podSelector\.matchLabels\["app"\]: "-web" is not a valid label value/,
  ],
  [
    'gateway default EIP outside its pool',
    {
      apiVersion: 'egress.sluice.dev/v1alpha1',
      kind: 'EgressGateway',
      metadata: { name: 'g' },
      spec: { nodeSelector: { selector: {} }, ippools: { ipv4: ['198.18.0.10-198.18.0.20'], ipv4DefaultEIP: '198.18.0.50' } },
    },
    /ipv4DefaultEIP: 198\.18\.0\.50 is not inside/,
  ],
];

for (const [name, doc, expected] of cases) {
  test(`invalid: ${name}`, () => {
    const found = problems(doc);
    assert.ok(
      found.some((p) => expected.test(p)),
      `expected ${expected} in ${JSON.stringify(found)}`,
    );
  });
}

test('a policy without a gateway name parses; the default gateway is resolved later', () => {
  for (const spec of [{ appliedTo: { podSelector: {} } }, { egressGatewayName: '', appliedTo: { podSelector: {} } }]) {
    const r = parseDocument(policy(spec));
    assert.deepEqual(r.problems, []);
    assert.ok(r.object && r.object.kind === 'EgressPolicy');
    assert.deepEqual([r.object.value.spec.gatewayName, r.object.value.spec.gatewaySource], ['', 'none']);
  }
  const named = parseDocument(policy({ egressGatewayName: 'g', appliedTo: { podSelector: {} } })).object;
  assert.ok(named && named.kind === 'EgressPolicy');
  assert.equal(named.value.spec.gatewaySource, 'spec');
});

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

test('label keys and namespaces Kubernetes accepts are accepted, at their limits too', () => {
  const key253 = `${'a'.repeat(62)}.${'b'.repeat(62)}.${'c'.repeat(62)}.${'d'.repeat(62)}.e/${'k'.repeat(63)}`;
  const doc = {
    ...policy({ egressGatewayName: 'g', appliedTo: { podSelector: { matchLabels: { [key253]: 'v'.repeat(63), 'app.kubernetes.io/name': 'web', A_b: '' } } } }),
    metadata: { name: 'p', namespace: 'n'.repeat(63) },
  };
  assert.equal(key253.indexOf('/'), 253);
  assert.deepEqual(problems(doc), []);
});
