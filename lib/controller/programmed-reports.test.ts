import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { startApiServer } from '../../e2e/apiserver/server.js';
import type { JsonObject as ServerObject } from '../../e2e/apiserver/json.js';
import { API_VERSION } from '../api/group.js';
import type { AppliedReportWire } from '../api/wire.js';
import { gateway, node, pod, policy } from '../planner/testing/cluster.js';
import { DEFAULT_CONFIG } from '../planner/config.js';
import { keepAppliedReportPublished, type AppliedReportPublisher } from '../cluster/applied-report.js';
import { followSnapshots } from '../cluster/snapshot-feed.js';
import { sleep, waitFor } from '../kube/testing/wait.js';
import { installCrds, settle, startTestPlane } from './testing/plane.js';

const asServer = (o: object) => o as ServerObject;
const applied = (generation: number, node = 'gw-1'): AppliedReportWire => ({ result: 'Applied', policies: [{ namespace: 'default', name: 'web', generation, node }] });

test('Programmed follows what the nodes report in their EgressTunnels, with one write per change and none when nothing changed', async () => {
  const server = await startApiServer({ logger: pino({ level: 'silent' }) });
  const controller = startTestPlane(server.url, 'gw-1', { identity: 'controller' });
  const agents = new Map<string, ReturnType<typeof startTestPlane>>();
  const publishers = new Map<string, AppliedReportPublisher>();
  const replans: string[][] = [];
  let feed: ReturnType<typeof followSnapshots> | undefined;
  try {
    installCrds(server);
    for (const o of [node('gw-1', 1, { labels: { egress: 'true' } }), node('w-1', 2), node('w-2', 3)]) server.store.apply(asServer(o));
    server.store.apply(asServer(gateway('main', { nodeSelector: { selector: { matchLabels: { egress: 'true' } } }, ippools: { ipv4: ['198.18.100.1-198.18.100.9'] } })));
    server.store.apply(asServer(pod('default', 'web-1', 'w-1', ['10.244.2.10'], { app: 'web' })));
    server.store.apply(asServer(policy('default', 'web', { egressGatewayName: 'main', appliedTo: { podSelector: { matchLabels: { app: 'web' } } } })));
    await settle(controller);
    for (const name of ['gw-1', 'w-1', 'w-2']) {
      const agent = startTestPlane(server.url, name, { identity: name, elect: false });
      agents.set(name, agent);
      publishers.set(name, keepAppliedReportPublished({ client: agent.client, store: agent.store, watch: agent.watch, nodeName: name }));
    }
    const w2 = agents.get('w-2')!;
    feed = followSnapshots({ store: w2.store, watch: w2.watch, config: DEFAULT_CONFIG, minIntervalMs: 20, run: async (_, reasons) => void replans.push([...reasons]) });
    await waitFor('the agents to sync', () => [...agents.values()].every((a) => a.watch.synced), 5000);

    const stored = () => server.store.get(API_VERSION, 'EgressPolicy', 'web', 'default') as any;
    const programmed = () => stored().status.conditions.find((c: any) => c.type === 'Programmed');
    const generation = stored().metadata.generation as number;
    const until = (what: string, status: string, reason: string, message?: RegExp) =>
      waitFor(
        what,
        () => (programmed()?.status === status && programmed()?.reason === reason && (!message || message.test(programmed().message)) ? programmed() : false),
        5000,
      ).catch((err: Error) => {
        throw new Error(`${err.message}; Programmed is ${JSON.stringify(programmed())}`);
      });

    let c = await until('no report yet', 'Unknown', 'NoReport');
    assert.match(c.message, /gw-1: no report from its agent; w-1: no report from its agent/);
    assert.equal(c.observedGeneration, generation);

    publishers.get('gw-1')!.publish(applied(generation));
    c = await until('w-1 is the one left', 'Unknown', 'NoReport', /^not known for w-1: no report from its agent$/);

    // w-2 has no selected pod: what it says about the policy does not count for w-1
    publishers.get('w-2')!.publish(applied(generation));
    await sleep(300);
    assert.equal(programmed().reason, 'NoReport');

    const policyWrites = () => server.writes.count('egresspolicies.egress.sluice.dev/status');
    const tunnelWrites = () => server.writes.count('egresstunnels.egress.sluice.dev/status');
    const before = { policy: policyWrites(), tunnel: tunnelWrites() };
    publishers.get('w-1')!.publish(applied(generation));
    c = await until('every node applied it', 'True', 'Programmed');
    await settle(controller);
    assert.deepEqual({ policy: policyWrites() - before.policy, tunnel: tunnelWrites() - before.tunnel }, { policy: 1, tunnel: 1 }, 'one report, one condition change');

    // the same report again, and a quiet cluster: nothing is written
    const quiet = { policy: policyWrites(), tunnel: tunnelWrites() };
    for (const [name, p] of publishers) p.publish(applied(generation, name === 'w-2' ? 'gw-1' : 'gw-1'));
    await sleep(500);
    await settle(controller);
    assert.deepEqual({ policy: policyWrites(), tunnel: tunnelWrites() }, quiet);

    // the controller rewrites tunnel status (a node label changed) and keeps what the agents wrote
    server.store.apply(asServer(node('w-2', 3, { labels: { zone: 'b' } })));
    await settle(controller);
    assert.deepEqual((server.store.get(API_VERSION, 'EgressTunnel', 'w-1') as any).status.applied, applied(generation));

    // the apply fails on w-1: False, naming w-1 and the code, and a Warning Event
    publishers.get('w-1')!.publish({
      result: 'Failed',
      code: 'EGW_ERR_NETLINK',
      message: 'links: ip link add egress.vxlan: A VXLAN device with the specified VNI already exists.',
      policies: applied(generation).policies!,
    });
    c = await until('the failure to show', 'False', 'ApplyFailed');
    assert.equal(c.message, 'not programmed on w-1: apply failed with EGW_ERR_NETLINK: links: ip link add egress.vxlan: A VXLAN device with the specified VNI already exists.');
    await waitFor(
      'a Warning Event',
      () => server.store.list('v1', 'Event', { namespace: 'default' }).some((e: any) => e.reason === 'ApplyFailed' && e.type === 'Warning' && e.involvedObject.name === 'web'),
      5000,
    );

    // someone overwrites w-1's report: its agent writes its own back
    const tunnel = server.store.get(API_VERSION, 'EgressTunnel', 'w-1') as any;
    server.store.updateStatus({ ...tunnel, status: { ...tunnel.status, applied: { ...applied(generation), forged: 'yes' } } });
    await waitFor('w-1 to restore its report', () => (server.store.get(API_VERSION, 'EgressTunnel', 'w-1') as any).status.applied.result === 'Failed', 5000);
    assert.equal((server.store.get(API_VERSION, 'EgressTunnel', 'w-1') as any).status.applied.forged, undefined, 'keys it never wrote are removed');

    // repaired: True again; a new generation makes every node catch up first
    publishers.get('w-1')!.publish(applied(generation));
    await until('the repair to show', 'True', 'Programmed');
    server.store.apply(
      asServer(policy('default', 'web', { egressGatewayName: 'main', destSubnet: ['203.0.113.0/24'], appliedTo: { podSelector: { matchLabels: { app: 'web' } } } })),
    );
    c = await until('the new generation to wait for the nodes', 'False', 'Pending');
    assert.match(c.message, new RegExp(`gw-1: applied generation ${generation}, not ${generation + 1}; w-1: applied generation ${generation}, not ${generation + 1}`));
    for (const name of ['gw-1', 'w-1']) publishers.get(name)!.publish(applied(generation + 1));
    await until('the new generation to be programmed', 'True', 'Programmed');

    // w-2 re-plans for policy, slice and node changes, never for the reports of other nodes
    const afterSync = replans.slice(1).flat();
    assert.ok(afterSync.length > 0);
    assert.deepEqual(
      afterSync.filter((r) => r.startsWith('EgressTunnel')),
      [],
      JSON.stringify(replans),
    );
  } finally {
    await feed?.stop();
    for (const p of publishers.values()) await p.stop();
    for (const a of agents.values()) await a.stop();
    await controller.stop();
    await server.close();
  }
});
