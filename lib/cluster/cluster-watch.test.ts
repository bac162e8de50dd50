import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { startApiServer } from '../../e2e/apiserver/server.js';
import type { JsonObject as ServerObject } from '../../e2e/apiserver/json.js';
import { KubeClient } from '../kube/rest-client.js';
import { kubeConfigForServer } from '../kube/kubeconfig.js';
import { ClusterStore, type StoreChange } from './store.js';
import { ClusterWatch } from './cluster-watch.js';
import { egressCrds } from './testing/crds.js';
import { waitFor } from '../kube/testing/wait.js';
import { endpointSlice, namespace, node, nodeTunnel } from '../planner/testing/cluster.js';

const TIMING = { backoffInitialMs: 50, backoffMaxMs: 400, watch: { timeoutSeconds: 60, connectTimeoutMs: 500, idleGraceMs: 1000 } };

test('a node agent keeps slices parsed only and its EgressTunnel whole; as the Lease holder it keeps every one of ours whole, and nothing leaves the store on the way', async () => {
  const server = await startApiServer({ logger: pino({ level: 'silent' }) });
  const store = new ClusterStore();
  const watch = new ClusterWatch({ client: new KubeClient(kubeConfigForServer(server.url), { timeoutMs: 2000 }), store, nodeName: 'n1', timing: TIMING });
  const removed: StoreChange[] = [];
  store.subscribe((c) => c.type === 'remove' && removed.push(c));
  try {
    for (const crd of egressCrds()) server.store.apply(crd as ServerObject);
    server.store.create(node('n1', 1) as ServerObject);
    server.store.create(namespace('team') as ServerObject);
    server.store.create(nodeTunnel('n1', 1) as ServerObject);
    server.store.create(endpointSlice('team', 'web-1', 'web', [{ ns: 'team', pod: 'p1', node: 'n1', ipv4: ['10.244.1.5'] }]) as ServerObject);
    watch.start();
    await watch.waitForSync(5000);
    const slice = () => store.get('EgressEndpointSlice', 'team/web-1');
    assert.ok(slice()?.value, 'the slice is parsed');
    assert.equal(slice()?.raw, undefined, 'its wire form is not kept');
    assert.ok(store.get('EgressTunnel', 'n1')?.raw, 'the tunnel is kept whole (the agent writes it)');
    assert.ok('creationTimestamp' in (store.get('EgressTunnel', 'n1')!.raw!.metadata as object), 'whole');

    await watch.setLeader(true);
    await watch.waitForSync(5000);
    await waitFor('the slice whole again', () => slice()?.raw !== undefined);
    assert.deepEqual((slice()!.raw as { endpoints: unknown }).endpoints, [{ ns: 'team', pod: 'p1', node: 'n1', ipv4: ['10.244.1.5'] }]);
    assert.deepEqual(removed, [], 'nothing left the store while the informers were replaced');
  } finally {
    await watch.stop();
    await server.close();
  }
});
