import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { startApiServer } from '../../e2e/apiserver/server.js';
import type { JsonObject as ServerObject } from '../../e2e/apiserver/json.js';
import { API_VERSION } from '../api/group.js';
import { gateway, node, policy } from '../planner/testing/cluster.js';
import { rendezvousPick } from '../planner/hrw.js';
import { installCrds, settle, startTestPlane } from './testing/plane.js';
import { waitFor } from '../kube/testing/wait.js';

const asServer = (o: object) => o as ServerObject;
const GATEWAYS = ['gw-1', 'gw-2', 'gw-3'];
const UNIT = ['web', 'api'];

test('status follows the takeover the successor reports, before the API server knows; hostile claims move nothing; a healed node takes nothing back', async (t) => {
  const server = await startApiServer({ logger: pino({ level: 'silent' }) });
  const plane = startTestPlane(server.url, 'w-1');
  try {
    installCrds(server);
    GATEWAYS.forEach((name, i) => server.store.apply(asServer(node(name, i + 1, { labels: { egress: 'true' } }))));
    server.store.apply(asServer(node('w-1', 9)));
    server.store.apply(
      asServer(
        gateway('main', { nodeSelector: { selector: { matchLabels: { egress: 'true' } } }, ippools: { ipv4: ['198.18.100.1-198.18.100.9'], ipv4DefaultEIP: '198.18.100.5' } }),
      ),
    );
    UNIT.forEach((name, i) =>
      server.store.apply(asServer(policy('default', name, { egressGatewayName: 'main', appliedTo: { podSubnet: ['10.244.0.0/16'] } }, { created: `2026-01-01T00:00:0${i}Z` }))),
    );
    await settle(plane);

    const status = (name: string) => (server.store.get(API_VERSION, 'EgressPolicy', name, 'default') as any).status;
    const generation = (server.store.get(API_VERSION, 'EgressPolicy', 'web', 'default') as any).metadata.generation as number;
    const report = (reporter: string, carrier: string, names = UNIT) => {
      const current = server.store.get(API_VERSION, 'EgressTunnel', reporter) as any;
      const policies = names.map((name) => ({ namespace: 'default', name, generation, node: carrier }));
      server.store.updateStatus({ ...current, status: { ...current.status, applied: { result: 'Applied', policies } } });
    };
    const holders = () => UNIT.map((n) => status(n).node);
    const events = (reason: string) =>
      server.store
        .list('v1', 'Event')
        .filter((e: any) => e.reason === reason)
        .map((e: any) => `${e.involvedObject.name}: ${e.message}`)
        .sort();
    const eligibleWithout = (gone: string) => GATEWAYS.filter((n) => n !== gone);

    const holder = status('web').node as string;
    assert.deepEqual(holders(), [holder, holder], 'one unit: the default EIP');
    const eip = status('web').eip.ipv4;
    // every agent's choice when the holder is dead by its probes: the rendezvous winner of the unit's address among the rest
    const successor = rendezvousPick(eip, eligibleWithout(holder))!;
    const bystander = eligibleWithout(holder).find((n) => n !== successor)!;
    t.diagnostic(`holder ${holder}, successor ${successor}, bystander ${bystander}`);
    report(holder, holder);

    // hostile: a gateway node that is not the successor, and a worker the gateway does not select
    report(bystander, bystander);
    report('w-1', 'w-1');
    await settle(plane);
    assert.deepEqual(holders(), [holder, holder], 'claims of nodes that are not the successor move nothing');
    assert.deepEqual(plane.controller.takeovers, new Map());

    // the holder dies (by the probes; the API server still says Ready): the successor takes over and says so
    const claimedAt = performance.now();
    report(successor, successor);
    await waitFor('status follows the successor', () => holders().every((n) => n === successor), 5000, 5);
    t.diagnostic(`status followed the claim in ${Math.round(performance.now() - claimedAt)} ms (test timings: 20 ms between passes)`);
    assert.equal(status('web').eip.ipv4, eip, 'the EIP stays');
    assert.equal((server.store.get('v1', 'Node', holder) as any).status.conditions[0].status, 'True', 'the API server still says Ready');
    await settle(plane);
    assert.deepEqual(
      events('GatewayFailover'),
      UNIT.map((n) => `${n}: gateway node "${holder}" failed its peers' probes (dead, or its agent unhealthy); "${successor}" took over`).sort(),
    );
    assert.deepEqual(plane.controller.takeovers, new Map([['failover', 2]]));
    const ready = status('web').conditions.find((c: any) => c.type === 'Ready');
    assert.equal(ready.message, `leaves through node "${successor}" as ${eip}`);

    // the old holder heals: first its report from before (unchanged), then it follows status; nothing moves back
    server.writes.reset();
    report(holder, holder, ['api', 'web']);
    report(holder, successor);
    await settle(plane);
    assert.deepEqual(holders(), [successor, successor], 'a healed node takes nothing back');
    assert.equal(server.writes.count('egresspolicies.egress.sluice.dev/status'), 0, 'no policy status write');

    // a planned move: the new holder drains, applies the move to its own successor itself, which takes over
    const next = rendezvousPick(eip, eligibleWithout(successor))!;
    report(successor, next);
    report(next, next);
    await waitFor('status follows the handoff', () => holders().every((n) => n === next), 5000);
    await settle(plane);
    assert.deepEqual(events('GatewayHandoff'), UNIT.map((n) => `${n}: gateway node "${successor}" handed over to "${next}" (it was draining and applied the move itself)`).sort());
    assert.deepEqual(
      plane.controller.takeovers,
      new Map([
        ['failover', 2],
        ['handoff', 2],
      ]),
    );

    // the API path: the holder leaves the nodeSelector; the move is a handoff, not a takeover
    const n = server.store.get('v1', 'Node', next) as any;
    server.store.update({ ...n, metadata: { ...n.metadata, labels: { 'kubernetes.io/hostname': next } } });
    await waitFor('status moves off the unlabelled node', () => holders().every((h) => h !== next), 5000);
    await settle(plane);
    const last = holders()[0];
    assert.ok(events('GatewayHandoff').includes(`web: gateway node "${next}" handed over to "${last}" (it left the nodeSelector of EgressGateway "main")`));
    assert.deepEqual(
      plane.controller.takeovers,
      new Map([
        ['failover', 2],
        ['handoff', 2],
      ]),
      'not a takeover: the API server said so',
    );
  } finally {
    await plane.stop();
    await server.close();
  }
});
