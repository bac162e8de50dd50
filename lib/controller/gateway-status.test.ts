import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveCluster } from '../planner/resolve.js';
import { clusterDefaultGateway } from '../planner/default-gateway.js';
import { baseCluster, gateway, node, policy, snapshotOf } from '../planner/testing/cluster.js';
import { clusterDefaultCondition, gatewayDefaultEip, gatewayIpUsage, gatewayNodeList } from './gateway-status.js';

const selector = { selector: { matchLabels: { egress: 'true' } } };

test("nodeList: spidernet's Ready and NodeNotReady, for every selected node and every node still carrying", () => {
  const docs = [
    node('worker-1', 1),
    node('gateway-1', 2, { labels: { egress: 'true' } }),
    node('gateway-2', 3, { labels: { egress: 'true' }, ready: false }),
    gateway('default', { nodeSelector: selector, ippools: { ipv4: ['198.18.0.100-198.18.0.120'] } }),
    policy('default', 'p', { egressGatewayName: 'default', appliedTo: { podSubnet: ['10.244.1.0/24'] } }),
  ];
  const snapshot = snapshotOf(docs);
  const { assignment } = resolveCluster(snapshot);
  const list = gatewayNodeList(snapshot.gateways[0]!, snapshot.nodes, assignment.policies);
  assert.deepEqual(
    list.map((n) => [n.name, n.status]),
    [
      ['gateway-1', 'Ready'],
      ['gateway-2', 'NodeNotReady'],
    ],
  );
  assert.deepEqual(list[0]!.eips, [{ ipv4: '198.18.0.100', policies: [{ namespace: 'default', name: 'p' }] }]);
});

test('defaultEIP: the named one or the first that may be handed out; none when it may not be used', () => {
  const pools = (docs: Record<string, unknown>[]) => resolveCluster(snapshotOf(docs)).assignment.pools.get('default')!;
  assert.deepEqual(gatewayDefaultEip(pools(baseCluster())), { ipv4: '198.18.0.110' });
  assert.deepEqual(gatewayDefaultEip(pools(baseCluster({ ipv6: true, pool: { ipv4: ['198.18.7.0/29'], ipv6: ['fd00:198:18::/126'] } }))), {
    ipv4: '198.18.7.1',
    ipv6: 'fd00:198:18::1',
  });
  assert.deepEqual(gatewayDefaultEip(pools(baseCluster({ pool: { ipv4: ['198.18.0.12-198.18.0.14'] } }))), {}, 'a node address: PoolsValid and the policies say why');
  assert.deepEqual(gatewayDefaultEip(pools(baseCluster({ pool: {} }))), {}, 'no pool');
});

test('ipUsage as written: numbers per family', () => {
  const { assignment } = resolveCluster(snapshotOf([...baseCluster(), policy('default', 'p', { egressGatewayName: 'default', appliedTo: { podSubnet: ['10.244.1.0/24'] } })]));
  assert.deepEqual(gatewayIpUsage(assignment.pools.get('default')!, assignment.policies), { ipv4Total: 21, ipv4Free: 20, ipv6Total: 0, ipv6Free: 0 });
});

test('ClusterDefault condition: True on the oldest gateway asking, False naming it on the others, none on the rest', () => {
  const snapshot = snapshotOf([
    ...baseCluster(),
    gateway('b', { clusterDefault: true, nodeSelector: selector, ippools: { ipv4: ['198.18.1.1'] } }, '2026-01-02T00:00:00Z'),
    gateway('c', { clusterDefault: true, nodeSelector: selector, ippools: { ipv4: ['198.18.2.1'] } }, '2026-01-03T00:00:00Z'),
  ]);
  const winner = clusterDefaultGateway(snapshot.gateways);
  const of = (name: string) =>
    clusterDefaultCondition(
      snapshot.gateways.find((g) => g.name === name)!,
      winner,
      1,
    );
  assert.equal(of('default'), undefined);
  assert.deepEqual([of('b')!.status, of('b')!.reason], ['True', 'ClusterDefault']);
  assert.deepEqual([of('c')!.status, of('c')!.reason], ['False', 'DuplicateClusterDefault']);
  assert.match(of('c')!.message, /the older gateway "b" is the cluster default/);
});
