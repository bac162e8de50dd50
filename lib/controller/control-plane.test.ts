import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { startApiServer, type ApiServer } from '../../e2e/apiserver/server.js';
import type { JsonObject as ServerObject } from '../../e2e/apiserver/json.js';
import { API_VERSION } from '../api/group.js';
import { gateway, node, pod, policy } from '../planner/testing/cluster.js';
import { DEFAULT_CONFIG } from '../planner/config.js';
import { plan } from '../planner/plan.js';
import type { NodePlan } from '../planner/node-plan.js';
import { followSnapshots } from '../cluster/snapshot-feed.js';
import { startRelay } from '../kube/testing/relay.js';
import { bounded, waitFor } from '../kube/testing/wait.js';
import { egressWrites, FAST, installCrds, settle, startTestPlane } from './testing/plane.js';

const asServer = (o: object) => o as ServerObject;

function seedCluster(server: ApiServer): void {
  installCrds(server);
  for (const o of [node('gw-1', 1, { labels: { egress: 'true' } }), node('gw-2', 2, { labels: { egress: 'true' } }), node('w-1', 3), node('w-2', 4)]) {
    server.store.apply(asServer(o));
  }
  server.store.apply(asServer(gateway('main', { nodeSelector: { selector: { matchLabels: { egress: 'true' } } }, ippools: { ipv4: ['198.18.100.1-198.18.100.50'] } })));
  for (let i = 0; i < 6; i++) {
    server.store.apply(
      asServer(policy('default', `p${i}`, { egressGatewayName: 'main', egressIP: { allocatorPolicy: 'rr' }, appliedTo: { podSelector: { matchLabels: { app: `a${i}` } } } })),
    );
    server.store.apply(asServer(pod('default', `pod${i}`, i % 2 ? 'w-1' : 'w-2', [`10.244.3.${i + 10}`], { app: `a${i}` })));
  }
}

function policyStatuses(server: ApiServer): string {
  return JSON.stringify(server.store.list(API_VERSION, 'EgressPolicy').map((p: any) => [p.metadata.name, p.status.eip, p.status.node, p.status.conditions]));
}

test('a non-leader watches narrowly and plans its node from slices; failover keeps every assignment', async (t) => {
  const server = await startApiServer({ logger: pino({ level: 'silent' }) });
  const relay = await startRelay(server.url);
  // the first agent reaches the API server through a relay the test can cut (a partition)
  const first = startTestPlane(relay.url, 'gw-1', { identity: 'first', parentInterface: 'ens5' });
  let second: ReturnType<typeof startTestPlane> | undefined;
  const plans: NodePlan[] = [];
  let feed: ReturnType<typeof followSnapshots> | undefined;
  try {
    seedCluster(server);
    await settle(first);
    second = startTestPlane(server.url, 'w-1', { identity: 'second' });
    const agent = second;
    feed = followSnapshots({ store: agent.store, watch: agent.watch, config: DEFAULT_CONFIG, minIntervalMs: 20, run: async (snapshot) => void plans.push(plan(snapshot, 'w-1')) });
    await waitFor('the non-leader synced and planned', () => agent.watch.synced && plans.length > 0, 5000);

    assert.deepEqual(
      agent.watch.informerNames.filter((n) => n.includes(':')),
      ['Namespace:default-gateway', 'Node:gateway:egress=true', 'Node:self'],
    );
    assert.equal(agent.store.hasAllPods, false);
    assert.equal(agent.store.values('Pod').length, 0, 'a non-leader never lists Pods');
    assert.deepEqual(
      agent.store.values('Node').map((n) => n.name),
      ['gw-1', 'gw-2', 'w-1'],
    );
    assert.equal(agent.controller.running, false);
    const workerPlan = plans.at(-1)!;
    const mine = workerPlan.policies
      .filter((p) => p.role === 'worker')
      .map((p) => p.name)
      .sort();
    assert.deepEqual(mine, ['p1', 'p3', 'p5'], 'w-1 plans the policies of its own pods, from slices');
    assert.ok(workerPlan.vxlan && workerPlan.vxlan.peers.length > 0, 'tunnel peers come from EgressTunnel status');
    const tunnel = server.store.get(API_VERSION, 'EgressTunnel', 'gw-1') as any;
    assert.equal(tunnel.status.tunnel.parent.name, 'ens5', 'the NIC published by gw-1 reaches tunnel status');

    const before = policyStatuses(server);
    server.writes.reset();
    const cutAt = Date.now();
    relay.cut();
    await waitFor('the second agent leads', () => agent.controller.running, 5000);
    const takeover = Date.now() - cutAt;
    await settle(agent);
    t.diagnostic(
      `takeover ${takeover} ms after the partition (lease ${FAST.lease.durationMs} ms → ${Math.ceil(FAST.lease.durationMs / 1000)} s on the wire, renew ${FAST.lease.renewIntervalMs} ms); writes after takeover: ${JSON.stringify(server.writes.snapshot())}`,
    );
    assert.ok(
      takeover <= Math.ceil(FAST.lease.durationMs / 1000) * 1000 + 3 * FAST.lease.renewIntervalMs + 300,
      `takeover within the lease duration plus renewal slack (${takeover} ms)`,
    );
    assert.equal(first.controller.running, false, 'the partitioned agent stopped its controller');
    assert.ok(!first.watch.informerNames.includes('Pod:all'), 'and its leader-only watches');
    assert.ok(agent.watch.informerNames.includes('Pod:all'));
    assert.equal(egressWrites(server), 0, 'the new leader continues from status: no assignment changes, no writes');
    assert.equal(policyStatuses(server), before);

    // the new leader acts on changes
    server.store.delete(API_VERSION, 'EgressPolicy', 'p0', 'default');
    await waitFor(
      'slices of p0 removed',
      () => server.store.list(API_VERSION, 'EgressEndpointSlice').every((s: any) => s.metadata.labels['egress.sluice.dev/policy'] !== 'p0'),
      5000,
    );

    // the old leader comes back as a follower and does not take over
    relay.restore();
    await waitFor('first agent re-synced', () => first.watch.synced, 5000);
    await new Promise((r) => setTimeout(r, 2 * FAST.lease.renewIntervalMs));
    assert.equal(first.controller.running, false);
    assert.equal(agent.controller.running, true);
  } finally {
    relay.restore();
    await bounded(Promise.all([feed?.stop(), first.stop(), second?.stop()]), 10_000, 'stopping the planes');
    await relay.close();
    await server.close();
  }
});

test('stopping the leader hands over at once and releases the Lease', async () => {
  const server = await startApiServer({ logger: pino({ level: 'silent' }) });
  const a = startTestPlane(server.url, 'gw-1', { identity: 'a' });
  const b = startTestPlane(server.url, 'gw-2', { identity: 'b' });
  try {
    seedCluster(server);
    await waitFor('someone leads', () => a.controller.running || b.controller.running, 5000);
    const [leader, follower] = a.controller.running ? [a, b] : [b, a];
    await settle(leader);
    const before = policyStatuses(server);
    server.writes.reset();
    const t0 = Date.now();
    await leader.stop();
    await waitFor('follower leads', () => follower.controller.running, 2000);
    assert.ok(Date.now() - t0 < 3 * FAST.lease.renewIntervalMs + 500);
    await settle(follower);
    assert.equal(egressWrites(server), 0);
    assert.equal(policyStatuses(server), before);
  } finally {
    await a.stop();
    await b.stop();
    await server.close();
  }
});

test('an API server outage: the leader steps down, then recovers and catches up with what changed', async (t) => {
  const server = await startApiServer({ logger: pino({ level: 'silent' }) });
  const plane = startTestPlane(server.url, 'gw-1', { identity: 'only' });
  try {
    seedCluster(server);
    await settle(plane);
    await server.pause('refuse');
    await waitFor('the leader steps down', () => !plane.controller.running, 3000);
    // while the API server is away (in-process changes still land in its store)
    server.store.delete('v1', 'Pod', 'pod1', 'default');
    server.store.apply(asServer(pod('default', 'pod1b', 'w-2', ['10.244.3.99'], { app: 'a1' })));
    const gw1 = server.store.get('v1', 'Node', 'gw-1') as any;
    server.store.updateStatus({ ...gw1, status: { ...gw1.status, conditions: [{ type: 'Ready', status: 'False' }] } });
    await new Promise((r) => setTimeout(r, 500));
    const resumedAt = Date.now();
    await server.resume();
    await settle(plane, 10_000);
    t.diagnostic(`leading and settled again ${Date.now() - resumedAt} ms after the API server came back`);
    const slice = server.store.list(API_VERSION, 'EgressEndpointSlice').find((s: any) => s.metadata.labels['egress.sluice.dev/policy'] === 'p1') as any;
    assert.deepEqual(
      slice.endpoints.map((e: any) => e.pod),
      ['pod1b'],
    );
    for (const p of server.store.list(API_VERSION, 'EgressPolicy') as any[]) assert.equal(p.status.node, 'gw-2', `${p.metadata.name} left the NotReady node`);
  } finally {
    await plane.stop();
    await server.close();
  }
});
