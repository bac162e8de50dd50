import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { startApiServer } from '../../e2e/apiserver/server.js';
import type { JsonObject as ServerObject } from '../../e2e/apiserver/json.js';
import { API_VERSION } from '../api/group.js';
import { gateway, node, policy } from '../planner/testing/cluster.js';
import { installCrds, settle, startTestPlane } from './testing/plane.js';
import { waitFor } from '../kube/testing/wait.js';

const asServer = (o: object) => o as ServerObject;
const POLICY_STATUS = 'egresspolicies.egress.sluice.dev/status';

test('policies spread over two gateway nodes; only those of a failed node move, and they stay when it heals', async (t) => {
  const server = await startApiServer({ logger: pino({ level: 'silent' }) });
  const plane = startTestPlane(server.url, 'w-1');
  try {
    installCrds(server);
    for (const o of [node('gw-1', 1, { labels: { egress: 'true' } }), node('gw-2', 2, { labels: { egress: 'true' } }), node('w-1', 3)]) server.store.apply(asServer(o));
    server.store.apply(asServer(gateway('main', { nodeSelector: { selector: { matchLabels: { egress: 'true' } } }, ippools: { ipv4: ['198.18.100.1-198.18.100.100'] } })));
    const names = Array.from({ length: 16 }, (_, i) => `p${String(i).padStart(2, '0')}`);
    for (const name of names) {
      server.store.apply(asServer(policy('default', name, { egressGatewayName: 'main', egressIP: { allocatorPolicy: 'rr' }, appliedTo: { podSubnet: ['10.244.0.0/16'] } })));
    }
    await settle(plane);
    const read = () => new Map(names.map((n) => [n, (server.store.get(API_VERSION, 'EgressPolicy', n, 'default') as any).status]));
    const initial = read();
    const on = (node: string) => names.filter((n) => initial.get(n).node === node);
    t.diagnostic(`spread: gw-1 carries ${on('gw-1').length}, gw-2 carries ${on('gw-2').length}`);
    assert.ok(on('gw-1').length >= 3 && on('gw-2').length >= 3, 'both gateway nodes carry policies');

    const setReady = (name: string, ready: boolean) => {
      const current = server.store.get('v1', 'Node', name) as any;
      server.store.updateStatus({ ...current, status: { ...current.status, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] } });
    };

    server.writes.reset();
    setReady('gw-1', false);
    await waitFor('gw-1 policies moved', () => [...read().values()].every((s) => s.node === 'gw-2'), 5000);
    await settle(plane);
    const moved = read();
    for (const n of names) assert.equal(moved.get(n).eip.ipv4, initial.get(n).eip.ipv4, `${n} keeps its EIP`);
    assert.equal(server.writes.count(POLICY_STATUS), on('gw-1').length, 'one status write per moved policy, none for the others');
    const nodeList = (server.store.get(API_VERSION, 'EgressGateway', 'main') as any).status.nodeList;
    assert.deepEqual(
      nodeList.map((n: any) => [n.name, n.status]),
      [
        ['gw-1', 'NodeNotReady'],
        ['gw-2', 'Ready'],
      ],
    );
    const gw1Phase = (server.store.get(API_VERSION, 'EgressTunnel', 'gw-1') as any).status.phase;
    assert.equal(gw1Phase, 'NodeNotReady');
    const movedEvents = server.store
      .list('v1', 'Event')
      .filter((e: any) => e.reason === 'GatewayFailover')
      .map((e: any) => e.involvedObject.name)
      .sort();
    assert.deepEqual(movedEvents, on('gw-1'), 'a GatewayFailover event per moved policy');
    t.diagnostic(`node NotReady: ${JSON.stringify(server.writes.snapshot())}`);

    server.writes.reset();
    setReady('gw-1', true);
    await waitFor('gw-1 listed Ready again', () => (server.store.get(API_VERSION, 'EgressGateway', 'main') as any).status.nodeList[0].status === 'Ready', 5000);
    await settle(plane);
    assert.deepEqual(read(), moved, 'a healed node takes nothing back: no second outage');
    assert.equal(server.writes.count(POLICY_STATUS), 0, 'no policy status write');
    t.diagnostic(`node Ready again: ${JSON.stringify(server.writes.snapshot())}`);

    // a new policy may land on the healed node again
    server.store.apply(asServer(policy('default', 'late', { egressGatewayName: 'main', egressIP: { allocatorPolicy: 'rr' }, appliedTo: { podSubnet: ['10.244.0.0/16'] } })));
    await waitFor('the new policy is placed', () => !!(server.store.get(API_VERSION, 'EgressPolicy', 'late', 'default') as any).status?.node, 5000);
  } finally {
    await plane.stop();
    await server.close();
  }
});
