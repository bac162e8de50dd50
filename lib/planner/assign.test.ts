import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assignPolicies } from './assign.js';
import { rendezvousPick } from './hrw.js';
import { baseCluster, gateway, node, pod, policy, snapshotOf } from './testing/cluster.js';

test('rendezvous hashing spreads keys and moves only the keys of a node that leaves', () => {
  const nodes = ['gw-a', 'gw-b', 'gw-c', 'gw-d'];
  const keys = Array.from({ length: 400 }, (_, i) => `198.18.${Math.floor(i / 250)}.${i % 250}`);
  const before = new Map(keys.map((k) => [k, rendezvousPick(k, nodes)!]));
  const counts = nodes.map((n) => [...before.values()].filter((v) => v === n).length);
  assert.ok(Math.min(...counts) > 60, `roughly even spread: ${counts}`);
  const after = new Map(keys.map((k) => [k, rendezvousPick(k, nodes.filter((n) => n !== 'gw-b'))!]));
  for (const k of keys) {
    if (before.get(k) !== 'gw-b') assert.equal(after.get(k), before.get(k), `${k} must not move`);
  }
  const back = new Map(keys.map((k) => [k, rendezvousPick(k, nodes)!]));
  assert.deepEqual(back, before, 'a node coming back takes exactly its keys back');
});

test('one EIP is never handed to two gateways', () => {
  const docs = [
    ...baseCluster(),
    gateway('second', { nodeSelector: { selector: { matchLabels: { egress: 'true' } } }, ippools: { ipv4: ['198.18.0.110-198.18.0.112'] } }),
    policy('default', 'first', { egressGatewayName: 'default', egressIP: { ipv4: '198.18.0.110' }, appliedTo: { podSubnet: ['10.244.1.0/24'] } }, { created: '2026-01-01T00:00:00Z' }),
    policy('default', 'later', { egressGatewayName: 'second', egressIP: { ipv4: '198.18.0.110' }, appliedTo: { podSubnet: ['10.244.2.0/24'] } }, { created: '2026-01-02T00:00:00Z' }),
    policy('default', 'rr', { egressGatewayName: 'second', egressIP: { allocatorPolicy: 'rr' }, appliedTo: { podSubnet: ['10.244.3.0/24'] } }, { created: '2026-01-03T00:00:00Z' }),
  ];
  const result = assignPolicies(snapshotOf(docs));
  assert.equal(result.get('default/first')!.eipV4, '198.18.0.110');
  assert.equal(result.get('default/later')!.reason, 'EIPInUse');
  const rr = result.get('default/rr')!.eipV4;
  assert.ok(rr && rr !== '198.18.0.110', `rr skips addresses owned by another gateway (got ${rr})`);
});

test('rr keeps the address status already names (stable across restarts)', () => {
  const spec = { egressGatewayName: 'default', egressIP: { allocatorPolicy: 'rr' }, appliedTo: { podSubnet: ['10.244.1.0/24'] } };
  const docs = [...baseCluster(), policy('default', 'a', spec, { status: { eip: { ipv4: '198.18.0.117' }, node: 'gateway-1' } })];
  assert.equal(assignPolicies(snapshotOf(docs)).get('default/a')!.eipV4, '198.18.0.117');
});

test('rr pool exhaustion is reported', () => {
  const spec = (n: string) => policy('default', n, { egressGatewayName: 'default', egressIP: { allocatorPolicy: 'rr' }, appliedTo: { podSubnet: ['10.244.1.0/24'] } }, { created: `2026-01-01T00:00:0${n}Z` });
  const docs = [...baseCluster({ pool: { ipv4: ['198.18.0.100-198.18.0.102'] } }), spec('1'), spec('2'), spec('3')];
  const r = assignPolicies(snapshotOf(docs));
  assert.equal(r.get('default/1')!.eipV4, '198.18.0.101', 'the default EIP .100 is reserved');
  assert.equal(r.get('default/2')!.eipV4, '198.18.0.102');
  assert.equal(r.get('default/3')!.reason, 'PoolExhausted');
});

test('policies spread over gateway nodes and only the failed node\'s policies move', () => {
  const gws = ['gateway-1', 'gateway-2', 'gateway-3'];
  const make = (down?: string) => [
    node('worker-1', 1),
    ...gws.map((g, i) => node(g, i + 2, { labels: { egress: 'true' }, ready: g !== down })),
    ...baseCluster({ pool: { ipv4: ['198.18.0.100-198.18.0.199'] } }).slice(3),
    pod('default', 'v', 'worker-1', ['10.244.1.5'], { app: 'v' }),
    ...Array.from({ length: 30 }, (_, i) =>
      policy('default', `p${i}`, { egressGatewayName: 'default', egressIP: { allocatorPolicy: 'rr' }, appliedTo: { podSelector: { matchLabels: { app: 'v' } } } }, { created: `2026-01-01T00:00:${String(i).padStart(2, '0')}Z` }),
    ),
  ];
  const before = assignPolicies(snapshotOf(make()));
  const perNode = gws.map((g) => [...before.values()].filter((a) => a.node === g).length);
  assert.ok(perNode.every((n) => n >= 4), `spread: ${perNode}`);
  const after = assignPolicies(snapshotOf(make('gateway-2')));
  for (const [key, a] of before) {
    const b = after.get(key)!;
    assert.equal(b.eipV4, a.eipV4, 'EIPs never change on failover');
    if (a.node !== 'gateway-2') assert.equal(b.node, a.node, `${key} stays`);
    else assert.notEqual(b.node, 'gateway-2');
  }
});
