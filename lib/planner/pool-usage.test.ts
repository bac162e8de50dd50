import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveCluster } from './resolve.js';
import { countNumber, poolUsage } from './pool-usage.js';
import { baseCluster, gateway, node, policy, snapshotOf } from './testing/cluster.js';

type Doc = Record<string, unknown>;
const subnet = { podSubnet: ['10.244.1.0/24'] };

function usageOf(docs: readonly Doc[], name = 'default') {
  const { assignment } = resolveCluster(snapshotOf(docs));
  const u = poolUsage(assignment.pools.get(name)!, assignment.policies.values());
  return { v4: [u[4].total, u[4].free], v6: [u[6].total, u[6].free] };
}

const rr = (name: string, created: string) => policy('default', name, { egressGatewayName: 'default', egressIP: { allocatorPolicy: 'rr' }, appliedTo: subnet }, { created });
const def = (name: string) => policy('default', name, { egressGatewayName: 'default', appliedTo: subnet });

test('total counts what may be handed out: CIDR network and broadcast, node and pod addresses left out', () => {
  assert.deepEqual(usageOf(baseCluster({ pool: { ipv4: ['198.18.7.0/29'] } })).v4, [6n, 6n], '/29: .1-.6');
  assert.deepEqual(usageOf(baseCluster({ pool: { ipv4: ['198.18.0.10-198.18.0.14'] } })).v4, [2n, 2n], 'nodes are .11-.13');
  assert.deepEqual(usageOf(baseCluster({ ipv6: true, pool: { ipv6: ['fd00:198:18::/126'] } })).v6, [3n, 3n], 'the Subnet-Router anycast address is left out');
});

test('free: an address counts once however many policies share it, the default EIP only while a policy uses it', () => {
  const pool = { ipv4: ['198.18.0.100-198.18.0.109'], ipv4DefaultEIP: '198.18.0.100' };
  assert.deepEqual(usageOf(baseCluster({ pool })).v4, [10n, 10n], 'nothing held: the default EIP is free too');
  assert.deepEqual(usageOf([...baseCluster({ pool }), def('d1'), def('d2')]).v4, [10n, 9n], 'two default policies, one address');
  const explicit = policy('default', 'x', { egressGatewayName: 'default', egressIP: { ipv4: '198.18.0.105' }, appliedTo: subnet });
  const nodeIp = policy('default', 'n', { egressGatewayName: 'default', egressIP: { useNodeIP: true }, appliedTo: subnet });
  const outside = policy('default', 'o', { egressGatewayName: 'default', egressIP: { ipv4: '198.18.9.1' }, appliedTo: subnet });
  assert.deepEqual(
    usageOf([...baseCluster({ pool }), def('d1'), explicit, nodeIp, outside, rr('r1', '2026-01-01T00:00:01Z')]).v4,
    [10n, 7n],
    'default, explicit and rr; not the node IP, not an address outside the pool',
  );
});

test('a pool filled by rr policies has nothing free; deleting policies frees their addresses', () => {
  const pool = { ipv4: ['198.18.0.100-198.18.0.104'] };
  const five = [1, 2, 3, 4, 5].map((i) => rr(`r${i}`, `2026-01-01T00:00:0${i}Z`));
  assert.deepEqual(usageOf([...baseCluster({ pool }), ...five, rr('r6', '2026-01-01T00:00:06Z')]).v4, [5n, 0n]);
  assert.deepEqual(usageOf([...baseCluster({ pool }), ...five.slice(0, 2)]).v4, [5n, 3n]);
});

test('usage is the same when the gateway matches no node: the addresses stay held', () => {
  const pool = { ipv4: ['198.18.0.100-198.18.0.109'] };
  const noNodes = [
    node('worker-1', 1),
    gateway('default', { nodeSelector: { selector: { matchLabels: { egress: 'nowhere' } } }, ippools: pool }),
    def('d'),
    rr('r1', '2026-01-01T00:00:01Z'),
  ];
  const { assignment } = resolveCluster(snapshotOf(noNodes));
  assert.equal(assignment.policies.get('default/d')!.reason, 'NoReadyGatewayNode');
  assert.deepEqual(usageOf(noNodes).v4, [10n, 8n]);
  assert.deepEqual(usageOf([...baseCluster({ pool }), def('d'), rr('r1', '2026-01-01T00:00:01Z')]).v4, [10n, 8n], 'as with nodes');
});

test('counts past 2^53 - 1 are written as 2^53 - 1', () => {
  const wide = usageOf(baseCluster({ ipv6: true, pool: { ipv6: ['fd00:198:18::/64'] } })).v6;
  assert.equal(wide[0], 2n ** 64n - 4n, 'the /64 without its anycast address and the three node addresses');
  assert.equal(countNumber(wide[0]!), Number.MAX_SAFE_INTEGER);
  assert.equal(countNumber(12n), 12);
});
