import { test } from 'node:test';
import assert from 'node:assert/strict';
import { probePeers } from './probe-peers.js';
import { baseCluster, node, snapshotOf } from './testing/cluster.js';

test('every node probes only the gateway nodes; a gateway node also knows the workers, unprobed, at their InternalIPs', () => {
  const s = snapshotOf([...baseCluster(), node('worker-2', 4)]);
  const listed = (self: string) => probePeers(s, self).map((p) => `${p.node}${p.probe ? '' : ' (answered only)'}`);
  assert.deepEqual(listed('worker-1'), ['gateway-1', 'gateway-2']);
  assert.deepEqual(listed('gateway-1'), ['gateway-2', 'worker-1 (answered only)', 'worker-2 (answered only)']);
  const info = s.nodes.find((n) => n.name === 'gateway-2')!;
  assert.deepEqual(
    probePeers(s, 'worker-1').find((p) => p.node === 'gateway-2'),
    { node: 'gateway-2', address: info.ipv4, probe: true },
  );
});

test('no gateway, no probes', () => {
  const s = snapshotOf(baseCluster().filter((d) => d['kind'] !== 'EgressGateway'));
  assert.deepEqual(probePeers(s, 'worker-1'), []);
  assert.deepEqual(probePeers(s, 'gateway-1'), []);
});
