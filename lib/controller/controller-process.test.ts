import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { startApiServer, type ApiServer } from '../../e2e/apiserver/server.js';
import type { JsonObject as ServerObject } from '../../e2e/apiserver/json.js';
import { API_VERSION } from '../api/group.js';
import { gateway, node, pod, policy } from '../planner/testing/cluster.js';
import { startRelay } from '../kube/testing/relay.js';
import { bounded, sleep, waitFor } from '../kube/testing/wait.js';
import { egressWrites, FAST, installCrds, settle, startTestController, startTestPlane } from './testing/plane.js';

const asServer = (o: object) => o as ServerObject;

function seed(server: ApiServer): void {
  installCrds(server);
  for (const o of [node('gw-1', 1, { labels: { egress: 'true' } }), node('gw-2', 2, { labels: { egress: 'true' } }), node('w-1', 3)]) server.store.apply(asServer(o));
  server.store.apply(asServer(gateway('main', { nodeSelector: { selector: { matchLabels: { egress: 'true' } } }, ippools: { ipv4: ['198.18.100.1-198.18.100.50'] } })));
  for (let i = 0; i < 4; i++) {
    server.store.apply(
      asServer(policy('default', `p${i}`, { egressGatewayName: 'main', egressIP: { allocatorPolicy: 'rr' }, appliedTo: { podSelector: { matchLabels: { app: `a${i}` } } } })),
    );
    server.store.apply(asServer(pod('default', `pod${i}`, 'w-1', [`10.244.3.${i + 10}`], { app: `a${i}` })));
  }
}

/** Requests other than reads that a client with this user agent sent, from `from` on in the server's log. */
function writesBy(server: ApiServer, userAgent: string, from = 0): string[] {
  return server.requestLog
    .slice(from)
    .filter((r) => r.userAgent === userAgent && r.method !== 'GET')
    .map((r) => `${r.method} ${r.path}`);
}

test('two controller replicas: only the Lease holder writes; a partitioned holder is replaced and stays silent once back', async (t) => {
  const server = await startApiServer({ logger: pino({ level: 'silent' }) });
  const relay = await startRelay(server.url);
  // replica a reaches the API server through a relay the test can cut; b directly
  const a = startTestController(relay.url, 'a');
  let b: ReturnType<typeof startTestController> | undefined;
  const agent = startTestPlane(server.url, 'w-1', { identity: 'agent-w-1', elect: false, parentInterface: 'ens5' });
  try {
    seed(server);
    await settle(a);
    b = startTestController(server.url, 'b');
    const standby = b;
    await waitFor('the standby synced', () => standby.watch.synced, 5000);
    await sleep(4 * FAST.lease.renewIntervalMs);
    assert.equal(standby.controller.running, false);
    assert.equal(standby.store.values('Pod').length, 4, 'a standby keeps a warm cache of every Pod');
    assert.deepEqual(writesBy(server, 'sluice-controller/b'), [], 'the standby sent no write');
    assert.ok(writesBy(server, 'sluice-controller/a').length > 0, 'the holder wrote status, slices and tunnels');

    // the agent never takes part in the election and writes only its own EgressTunnel
    assert.equal(agent.elector, undefined);
    assert.equal(agent.controller.running, false);
    const agentWrites = new Set(writesBy(server, 'sluice/agent-w-1').map((w) => w.replace(/\?.*$/, '')));
    assert.ok(agentWrites.has('PATCH /apis/egress.sluice.dev/v1alpha1/egresstunnels/w-1'), 'the agent published its NIC');
    // (a POST when its EgressTunnel did not exist yet)
    for (const w of agentWrites) assert.match(w, /^(PATCH \/apis\/egress\.sluice\.dev\/v1alpha1\/egresstunnels\/w-1|POST \/apis\/egress\.sluice\.dev\/v1alpha1\/egresstunnels)$/);

    const statuses = () => JSON.stringify(server.store.list(API_VERSION, 'EgressPolicy').map((p: any) => [p.metadata.name, p.status]));
    const before = statuses();
    server.writes.reset();
    const cutAt = Date.now();
    relay.cut();
    await waitFor('the standby leads', () => standby.controller.running, 5000);
    t.diagnostic(`takeover ${Date.now() - cutAt} ms after the holder was partitioned`);
    await settle(standby);
    assert.equal(a.controller.running, false, 'the partitioned holder stopped its controller');
    assert.equal(egressWrites(server), 0, 'the new holder continues from status: nothing to write');
    assert.equal(statuses(), before);

    // the new holder acts on changes; the old one, back on the network, writes nothing
    relay.restore();
    await waitFor('the old holder re-synced', () => a.watch.synced, 5000);
    const mark = server.requestLog.length;
    server.store.delete('v1', 'Pod', 'pod1', 'default');
    await waitFor(
      'p1 has no endpoint left',
      () => server.store.list(API_VERSION, 'EgressEndpointSlice').every((s: any) => s.metadata.labels['egress.sluice.dev/policy'] !== 'p1' || s.endpoints.length === 0),
      5000,
    );
    await sleep(4 * FAST.lease.renewIntervalMs);
    assert.equal(a.controller.running, false);
    assert.ok(writesBy(server, 'sluice-controller/b', mark).length > 0);
    assert.deepEqual(writesBy(server, 'sluice-controller/a', mark), [], 'the old holder wrote nothing');
  } finally {
    relay.restore();
    await bounded(Promise.all([a.stop(), b?.stop(), agent.stop()]), 10_000, 'stopping');
    await relay.close();
    await server.close();
  }
});

test('stopping the holder releases the Lease: the other replica takes over at once', async () => {
  const server = await startApiServer({ logger: pino({ level: 'silent' }) });
  const a = startTestController(server.url, 'a');
  const b = startTestController(server.url, 'b');
  try {
    seed(server);
    await waitFor('someone leads', () => a.controller.running || b.controller.running, 5000);
    const [holder, standby] = a.controller.running ? [a, b] : [b, a];
    await settle(holder);
    const t0 = Date.now();
    await holder.stop();
    await waitFor('the other replica leads', () => standby.controller.running, 2000);
    assert.ok(Date.now() - t0 < 3 * FAST.lease.renewIntervalMs + 500, 'without waiting for the Lease to expire');
  } finally {
    await a.stop();
    await b.stop();
    await server.close();
  }
});
