import { test } from 'node:test';
import assert from 'node:assert/strict';
import { probePeers } from './probe-peers.js';
import { baseCluster, node, snapshotOf } from './testing/cluster.js';

test('a worker probes the gateway nodes; a gateway node probes every other node, at their InternalIPs', () => {
  const s = snapshotOf([...baseCluster(), node('worker-2', 4)]);
  const names = (self: string) => probePeers(s, self).map((p) => p.node);
  assert.deepEqual(names('worker-1'), ['gateway-1', 'gateway-2']);
  assert.deepEqual(names('gateway-1'), ['gateway-2', 'worker-1', 'worker-2']);
  const info = s.nodes.find((n) => n.name === 'gateway-2')!;
  assert.deepEqual(probePeers(s, 'worker-1').find((p) => p.node === 'gateway-2'), { node: 'gateway-2', address: info.ipv4 });
});

test('no gateway, no probes', () => {
  const s = snapshotOf(baseCluster().filter((d) => d['kind'] !== 'EgressGateway'));
  assert.deepEqual(probePeers(s, 'worker-1'), []);
  assert.deepEqual(probePeers(s, 'gateway-1'), []);
});
