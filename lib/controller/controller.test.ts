import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stepsFor } from './controller.js';

test('a pass runs only the steps whose inputs changed', () => {
  assert.deepEqual([...stepsFor(new Set(['Pod upsert']))], ['endpoint-slices']);
  assert.deepEqual([...stepsFor(new Set(['EgressTunnel upsert']))], ['tunnels', 'policy-status', 'gateway-status'], 'a mark decides whether a node is eligible');
  assert.deepEqual([...stepsFor(new Set(['EgressTunnel report']))], ['policy-status', 'gateway-status'], "a node's applied report changes Programmed, and lets a rebalance go on");
  assert.deepEqual([...stepsFor(new Set(['EgressPolicy report']))], ['policy-status', 'gateway-status'], 'conditions someone else wrote are written back');
  assert.deepEqual([...stepsFor(new Set(['EgressEndpointSlice upsert']))], ['endpoint-slices', 'policy-status'], 'the nodes with selected pods are the ones Programmed waits for');
  assert.deepEqual([...stepsFor(new Set(['Node upsert']))], ['cluster-info', 'tunnels', 'policy-status', 'node-drain', 'gateway-status']);
  assert.deepEqual([...stepsFor(new Set(['Namespace upsert']))], ['endpoint-slices', 'policy-status', 'gateway-status'], 'a namespace label can name the default gateway');
  assert.deepEqual(
    [...stepsFor(new Set(['EgressFirewall upsert']))],
    ['endpoint-slices', 'firewall-status'],
    'a firewall has slices and a status of its own, and no part in policies',
  );
  assert.equal(stepsFor(new Set(['retry'])).size, 7, 'a retry, a new leader or a sync runs everything');
  assert.equal(stepsFor(new Set(['Pod upsert', 'synced'])).size, 7);
});
