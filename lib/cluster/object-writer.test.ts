import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { startApiServer } from '../../e2e/apiserver/server.js';
import type { JsonObject as ServerObject } from '../../e2e/apiserver/json.js';
import { KubeClient } from '../kube/rest-client.js';
import { kubeConfigForServer } from '../kube/kubeconfig.js';
import { ClusterStore } from './store.js';
import { ObjectWriter } from './object-writer.js';
import { egressCrds } from './testing/crds.js';
import { gateway } from '../planner/testing/cluster.js';

const STATUS = 'egressgateways.egress.sluice.dev/status';

async function setup() {
  const server = await startApiServer({ logger: pino({ level: 'silent' }) });
  for (const crd of egressCrds()) server.store.apply(crd as ServerObject);
  const created = server.store.create(gateway('gw', { nodeSelector: { selector: {} } }) as ServerObject);
  const client = new KubeClient(kubeConfigForServer(server.url), { timeoutMs: 2000 });
  const store = new ClusterStore();
  store.upsert('EgressGateway', 'EgressGateway', created);
  return { server, store, writer: new ObjectWriter(client, store), created };
}

test('a status equal to what is stored is not written; a different one is written once', async () => {
  const { server, writer } = await setup();
  try {
    const first = await writer.writeStatus('EgressGateway', 'gw', () => ({ nodeList: [{ name: 'n1', status: 'Ready', eips: [] }] }));
    assert.equal(first.outcome, 'updated');
    const again = await writer.writeStatus('EgressGateway', 'gw', () => ({ nodeList: [{ name: 'n1', status: 'Ready' }] }));
    assert.equal(again.outcome, 'unchanged', 'fed back into the store; empty lists compare equal to missing ones');
    assert.equal(server.writes.count(STATUS), 1);
  } finally {
    await server.close();
  }
});

test('a 409 Conflict is retried with a fresh GET', async (t) => {
  const { server, writer, created } = await setup();
  try {
    // someone else changes the object; our store still holds the old resourceVersion
    server.store.updateStatus({ ...created, status: { nodeList: [{ name: 'other', status: 'NotReady' }] } });
    server.store.update({
      ...server.store.get('egress.sluice.dev/v1alpha1', 'EgressGateway', 'gw'),
      metadata: { ...(server.store.get('egress.sluice.dev/v1alpha1', 'EgressGateway', 'gw').metadata as object), labels: { x: 'y' } },
    });
    let calls = 0;
    const result = await writer.writeStatus('EgressGateway', 'gw', () => {
      calls++;
      return { nodeList: [{ name: 'n1', status: 'Ready' }] };
    });
    assert.equal(result.outcome, 'updated');
    assert.equal(calls, 2, 'desired status recomputed against the fresh object');
    assert.equal(server.writes.count(STATUS), 2, 'one refused PUT, one accepted');
    const stored = server.store.get('egress.sluice.dev/v1alpha1', 'EgressGateway', 'gw') as any;
    assert.deepEqual(stored.status.nodeList, [{ name: 'n1', status: 'Ready' }]);
    assert.equal(stored.metadata.labels.x, 'y', 'the other writer’s change survives');
    const reads = server.requestLog.filter((r) => r.method === 'GET' && r.path.includes('/egressgateways/gw'));
    assert.deepEqual(
      reads.map((r) => r.path.replace(/\?.*$/, '').replace(/^.*\/egressgateways/, '')),
      ['/gw/status'],
      'read back through the status subresource',
    );
    t.diagnostic(`server writes: ${JSON.stringify(server.writes.snapshot())}`);
  } finally {
    await server.close();
  }
});

test('create of an existing object and delete of a gone one are not errors', async () => {
  const { server, writer } = await setup();
  try {
    assert.equal((await writer.create('EgressGateway', gateway('gw', { nodeSelector: { selector: {} } }))).outcome, 'exists');
    server.store.delete('egress.sluice.dev/v1alpha1', 'EgressGateway', 'gw');
    assert.equal((await writer.delete('EgressGateway', 'gw')).outcome, 'deleted');
    assert.equal((await writer.writeStatus('EgressGateway', 'gw', () => ({}))).outcome, 'gone');
  } finally {
    await server.close();
  }
});
