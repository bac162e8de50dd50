import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterStore } from '../cluster/store.js';
import { silentLogger } from '../kube/logger.js';
import { policy, tunnel } from '../planner/testing/cluster.js';
import { ClaimOrder } from './claim-order.js';
import { reportLookup } from './policy-programmed.js';

let rv = 0;
const version = (doc: Record<string, unknown>) => ({ ...doc, metadata: { ...(doc.metadata as object), resourceVersion: String(++rv) } });
const report = (entries: [string, string][], result = 'Applied') => ({ result, policies: entries.map(([name, node]) => ({ namespace: 'default', name, generation: 1, node })) });
const withStatus = (node: string) =>
  version(policy('default', 'web', { egressGatewayName: 'main', appliedTo: { podSubnet: ['10.244.0.0/16'] } }, { status: { node, eip: { ipv4: '198.18.0.110' } } }));

function setup() {
  const store = new ClusterStore();
  const order = new ClaimOrder(store, reportLookup(store, silentLogger()));
  const put = (node: string, applied: unknown) => store.upsert('test', 'EgressTunnel', version(tunnel(node, { phase: 'Ready', applied })));
  return { store, order, put, claims: () => [...order.selfClaims()].map((c) => [c.node, c.policyKey, c.since]) };
}

test('a self-claim keeps the generation it first appeared at; other entries and other changes do not renew it', () => {
  const { store, order, put, claims } = setup();
  store.upsert('test', 'EgressPolicy', withStatus('gw-a'));
  const statusAt = order.holderSince('default/web')!;
  put('gw-b', report([['web', 'gw-a']]));
  assert.deepEqual(claims(), [], 'applied for another node: no claim');
  const before = store.generation;
  put('gw-b', report([['web', 'gw-b']]));
  const since = store.generation;
  assert.ok(since > before && since > statusAt);
  assert.deepEqual(claims(), [['gw-b', 'default/web', since]]);
  assert.equal(order.reportChangedAt('gw-b'), since);

  put(
    'gw-b',
    report([
      ['web', 'gw-b'],
      ['api', 'gw-a'],
    ]),
  );
  assert.deepEqual(claims(), [['gw-b', 'default/web', since]], 'still the claim first seen');
  assert.equal(order.reportChangedAt('gw-b'), store.generation, 'but the report changed');

  const changedAt = order.reportChangedAt('gw-b');
  store.upsert(
    'test',
    'EgressTunnel',
    version(
      tunnel('gw-b', {
        phase: 'NodeNotReady',
        applied: report([
          ['web', 'gw-b'],
          ['api', 'gw-a'],
        ]),
      }),
    ),
  );
  assert.equal(order.reportChangedAt('gw-b'), changedAt, 'another status field is not a new report');

  put('gw-b', report([['web', 'gw-a']]));
  assert.deepEqual(claims(), [], 'withdrawn');
  put('gw-b', report([['web', 'gw-b']]));
  assert.deepEqual(claims(), [['gw-b', 'default/web', store.generation]], 'claimed again: a new claim');

  store.remove('test', 'EgressTunnel', tunnel('gw-b', {}));
  assert.deepEqual(claims(), []);
  assert.equal(order.reportChangedAt('gw-b'), undefined);
});

test('status.node changes are dated; the same node in a rewritten status is not', () => {
  const { store, order } = setup();
  store.upsert('test', 'EgressPolicy', withStatus('gw-a'));
  const first = order.holderSince('default/web');
  store.upsert('test', 'EgressPolicy', { ...withStatus('gw-a'), status: { node: 'gw-a', eip: { ipv4: '198.18.0.110' }, conditions: [] } });
  assert.equal(order.holderSince('default/web'), first);
  store.upsert('test', 'EgressPolicy', withStatus('gw-b'));
  assert.equal(order.holderSince('default/web'), store.generation);
  store.remove('test', 'EgressPolicy', withStatus('gw-b'));
  assert.equal(order.holderSince('default/web'), undefined);
});

test('garbage in a report claims nothing and breaks nothing', () => {
  const { order, put, claims } = setup();
  for (const garbage of [
    'x',
    42,
    [1, 2],
    { result: 'Applied', policies: [{ name: '../../etc', node: 'gw-b', generation: 1 }] },
    { result: 'Maybe', policies: [] },
    {
      result: 'Applied',
      policies: [
        { name: 'web', node: 'gw-b', generation: 1 },
        { name: 'web', node: 'gw-b', generation: 1 },
      ],
    },
  ]) {
    put('gw-b', garbage);
    assert.deepEqual(claims(), [], JSON.stringify(garbage));
  }
  assert.ok(order.reportChangedAt('gw-b') !== undefined);
});

test('objects already in the store are seen when the order starts', () => {
  const store = new ClusterStore();
  store.upsert('test', 'EgressTunnel', version(tunnel('gw-b', { applied: report([['web', 'gw-b']]) })));
  store.upsert('test', 'EgressPolicy', withStatus('gw-a'));
  const order = new ClaimOrder(store, reportLookup(store, silentLogger()));
  const [c] = [...order.selfClaims()];
  assert.equal(c?.since, order.holderSince('default/web'), 'seen together: neither is newer');
});
