import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { startApiServer, type ApiServer } from '../../e2e/apiserver/server.js';
import type { JsonObject as ServerObject } from '../../e2e/apiserver/json.js';
import { API_VERSION, LAN_ANNOTATION } from '../api/group.js';
import { node } from '../planner/testing/cluster.js';
import { installCrds, settle, startTestPlane } from '../controller/testing/plane.js';
import { sleep, waitFor } from '../kube/testing/wait.js';
import { keepOwnAnnotation } from './own-tunnel.js';

type Kept = ReturnType<typeof keepOwnAnnotation>;

/**
 * An API server with a controller and node w-1's agent, its EgressTunnel made and synced; `run`
 * gets them and starts keeping the annotation itself (`keep`). Everything is stopped afterwards.
 */
async function withAgent(run: (lab: { server: ApiServer; keep: () => Kept }) => Promise<void>): Promise<void> {
  const server = await startApiServer({ logger: pino({ level: 'silent' }) });
  const controller = startTestPlane(server.url, 'gw-1', { identity: 'controller' });
  const agent = startTestPlane(server.url, 'w-1', { identity: 'w-1', elect: false });
  let kept: Kept | undefined;
  try {
    installCrds(server);
    for (const o of [node('gw-1', 1), node('w-1', 2)]) server.store.apply(o as ServerObject);
    await settle(controller);
    await waitFor('the tunnel and the agent synced', () => server.store.find(API_VERSION, 'EgressTunnel', 'w-1') !== undefined && agent.watch.synced, 5000);
    const keep = () => (kept = keepOwnAnnotation({ client: agent.client, store: agent.store, watch: agent.watch, nodeName: 'w-1' }, 'lan-link', LAN_ANNOTATION));
    await run({ server, keep });
  } finally {
    await kept?.reconciler.stop();
    await agent.stop();
    await controller.stop();
    await server.close();
  }
}

test('an own annotation: nothing written before the first set, then each change once, a value overwritten by others written back, none removes it', async () => {
  await withAgent(async ({ server, keep }) => {
    const tunnel = () => server.store.get(API_VERSION, 'EgressTunnel', 'w-1') as any;
    const annotation = () => tunnel()?.metadata.annotations?.[LAN_ANNOTATION] as string | undefined;
    const patches = () => server.writes.count('egresstunnels.egress.sluice.dev', 'patch');
    const kept = keep();

    await sleep(300);
    assert.equal(patches(), 0, 'nothing before the first set');
    kept.set('02:aa:00:00:00:01 198.18.0.11/24');
    await waitFor('written', () => annotation() === '02:aa:00:00:00:01 198.18.0.11/24', 5000);
    kept.set('02:aa:00:00:00:01 198.18.0.11/24');
    await sleep(300);
    assert.equal(patches(), 1, 'the same value again: no write');

    const t = tunnel();
    server.store.update({ ...t, metadata: { ...t.metadata, annotations: { ...t.metadata.annotations, [LAN_ANNOTATION]: 'forged' } } });
    await waitFor('written back', () => annotation() === '02:aa:00:00:00:01 198.18.0.11/24', 5000);

    kept.set(undefined);
    await waitFor('removed', () => tunnel().metadata.annotations?.[LAN_ANNOTATION] === undefined, 5000);
    assert.equal(patches(), 3);
  });
});

test('a write the API outage failed lands as soon as the API server answers again, not after its backoff; one write, no retry storm', async (t) => {
  await withAgent(async ({ server, keep }) => {
    const annotation = () => (server.store.get(API_VERSION, 'EgressTunnel', 'w-1') as any)?.metadata.annotations?.[LAN_ANNOTATION] as string | undefined;
    const patches = () => server.writes.count('egresstunnels.egress.sluice.dev', 'patch');
    const kept = keep();
    kept.set('before');
    await waitFor('written', () => annotation() === 'before', 5000);

    await server.pause('refuse');
    kept.set('during');
    // failures at 0, 1 and 3 s: the retry pending now waits 4 s
    await waitFor('three failed writes', () => kept.reconciler.failures === 3, 6000);
    const written = patches();
    await server.resume();
    const t0 = Date.now();
    await waitFor('the owed write landed', () => annotation() === 'during', 3000);
    const ms = Date.now() - t0;
    t.diagnostic(`written ${ms} ms after the API server answered again (the backoff had about 4 s to go)`);
    assert.ok(ms < 1500, `written ${ms} ms after the API server came back`);
    await sleep(300);
    assert.equal(patches() - written, 1, 'one write');
    assert.equal(kept.reconciler.failures, 3, 'no failure after the outage');
  });
});
