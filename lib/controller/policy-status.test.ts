import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { startApiServer } from '../../e2e/apiserver/server.js';
import type { JsonObject as ServerObject } from '../../e2e/apiserver/json.js';
import { API_VERSION } from '../api/group.js';
import { clusterPolicy, gateway, node, pod, policy } from '../planner/testing/cluster.js';
import { egressWrites, installCrds, settle, startTestPlane } from './testing/plane.js';
import { egressCrds } from '../cluster/testing/crds.js';
import { sleep, waitFor } from '../kube/testing/wait.js';

const asServer = (o: object) => o as ServerObject;
const podSubnet = { podSubnet: ['10.244.0.0/16'] };

test('allocation (default, explicit, rr, exhaustion, useNodeIP) and problems show in policy status', async (t) => {
  const server = await startApiServer({ logger: pino({ level: 'silent' }) });
  let plane = startTestPlane(server.url, 'gw-1', { identity: 'first' });
  try {
    installCrds(server);
    const seed = (o: object) => server.store.apply(asServer(o));
    // invalid objects still reach the controller when the CRDs installed are older than sluice's
    for (const crd of egressCrds().filter((c) => ['EgressGateway', 'EgressPolicy'].includes((c.spec as any).names.kind))) {
      const older = structuredClone(crd) as any;
      older.spec.versions[0].schema.openAPIV3Schema = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
      server.store.apply(asServer(older));
    }
    seed(node('gw-1', 1, { labels: { egress: 'true' } }));
    seed(node('gw-2', 2, { labels: { egress: 'true' } }));
    seed(node('w-1', 3));
    // a Node the parser rejects must not stop anything
    seed({ ...node('broken', 4), spec: { podCIDRs: ['not-a-cidr'] } });
    seed(gateway('main', { nodeSelector: { selector: { matchLabels: { egress: 'true' } } }, ippools: { ipv4: ['198.18.100.10-198.18.100.19'], ipv4DefaultEIP: '198.18.100.10' } }));
    seed(gateway('tiny', { nodeSelector: { selector: { matchLabels: { egress: 'true' } } }, ippools: { ipv4: ['198.18.101.1-198.18.101.2'] } }));
    seed(gateway('bad-gw', { nodeSelector: { selector: {} }, ippools: { ipv4: ['198.18.102.1'], ipv4DefaultEIP: '198.18.103.1' } }));
    const policies: [string, Record<string, unknown>][] = [
      ['def', { egressGatewayName: 'main', appliedTo: podSubnet }],
      ['exp', { egressGatewayName: 'main', egressIP: { ipv4: '198.18.100.15' }, appliedTo: podSubnet }],
      ['rr-1', { egressGatewayName: 'main', egressIP: { allocatorPolicy: 'rr' }, appliedTo: podSubnet }],
      ['rr-2', { egressGatewayName: 'main', egressIP: { allocatorPolicy: 'rr' }, appliedTo: podSubnet }],
      ['out', { egressGatewayName: 'main', egressIP: { ipv4: '198.18.200.1' }, appliedTo: podSubnet }],
      ['nodeip', { egressGatewayName: 'main', egressIP: { useNodeIP: true }, appliedTo: podSubnet }],
      ['tiny-rr-1', { egressGatewayName: 'tiny', egressIP: { allocatorPolicy: 'rr' }, appliedTo: podSubnet }],
      ['tiny-rr-2', { egressGatewayName: 'tiny', egressIP: { allocatorPolicy: 'rr' }, appliedTo: podSubnet }],
      ['tiny-rr-3', { egressGatewayName: 'tiny', egressIP: { allocatorPolicy: 'rr' }, appliedTo: podSubnet }],
      ['lost', { egressGatewayName: 'nope', appliedTo: podSubnet }],
      ['on-bad-gw', { egressGatewayName: 'bad-gw', appliedTo: podSubnet }],
      ['bad', { egressGatewayName: 'main', appliedTo: { podSelector: { matchExpressions: [{ key: 'app', operator: 'In' }] } } }],
    ];
    for (const [name, spec] of policies) seed(policy('default', name, spec));
    seed(clusterPolicy('cluster-rr', { egressGatewayName: 'main', egressIP: { allocatorPolicy: 'rr' }, appliedTo: { podSelector: { matchLabels: { app: 'x' } } } }));
    seed(pod('default', 'x', 'w-1', ['10.244.3.7'], { app: 'x' }));

    await settle(plane);
    const status = (name: string, ns = 'default') => (server.store.get(API_VERSION, ns ? 'EgressPolicy' : 'EgressClusterPolicy', name, ns) as any).status ?? {};
    const ready = (name: string, ns = 'default') => status(name, ns).conditions?.find((c: any) => c.type === 'Ready');
    const accepted = (name: string) => status(name).conditions?.find((c: any) => c.type === 'Accepted');

    assert.equal(status('def').eip.ipv4, '198.18.100.10', 'default allocator: the gateway default EIP');
    assert.equal(status('exp').eip.ipv4, '198.18.100.15', 'explicit EIP');
    const rr = [status('rr-1').eip.ipv4, status('rr-2').eip.ipv4, status('cluster-rr', '').eip.ipv4];
    assert.equal(new Set(rr).size, 3, `rr policies get distinct addresses: ${rr}`);
    for (const ip of rr) assert.ok(!['198.18.100.10', '198.18.100.15'].includes(ip), `rr skips the default and explicit EIPs (${ip})`);
    for (const name of ['def', 'exp', 'rr-1', 'rr-2']) {
      assert.ok(['gw-1', 'gw-2'].includes(status(name).node), `${name} is carried by a gateway node`);
      assert.equal(ready(name).status, 'True');
      assert.equal(accepted(name).reason, 'Accepted');
    }
    assert.equal(ready('out').reason, 'IPNotInPool');
    assert.equal(status('out').eip, undefined);
    assert.equal(status('tiny-rr-1').eip.ipv4, '198.18.101.2', 'rr takes the default EIP of the pool last');
    assert.equal(status('tiny-rr-2').eip.ipv4, '198.18.101.1', 'and takes it when nothing else is free');
    assert.match(ready('tiny-rr-2').message, /round-robin took the gateway's default EIP/);
    assert.equal(ready('tiny-rr-3').reason, 'PoolExhausted');
    assert.equal(status('def').egressGatewayName, 'main', 'the gateway in use');
    assert.equal(status('lost').egressGatewayName, 'nope', 'named, even when missing');
    const gw = (name: string) => (server.store.get(API_VERSION, 'EgressGateway', name) as any).status;
    assert.deepEqual(gw('main').ipUsage, { ipv4Total: 10, ipv4Free: 5, ipv6Total: 0, ipv6Free: 0 }, 'def (the default EIP), exp, rr-1, rr-2, cluster-rr hold 5');
    assert.deepEqual(gw('main').defaultEIP, { ipv4: '198.18.100.10' });
    assert.deepEqual(gw('tiny').ipUsage, { ipv4Total: 2, ipv4Free: 0, ipv6Total: 0, ipv6Free: 0 });
    assert.deepEqual(gw('tiny').defaultEIP, { ipv4: '198.18.101.1' }, 'the first pool address when none is named');
    assert.equal(gw('bad-gw').ipUsage, undefined, 'a gateway the parser rejects has no usage');
    const nodeIp = status('nodeip');
    assert.equal(nodeIp.eip.ipv4, nodeIp.node === 'gw-1' ? '198.18.0.11' : '198.18.0.12', 'useNodeIP shows the gateway node IP');
    assert.equal(ready('nodeip').status, 'True');
    assert.equal(ready('lost').reason, 'GatewayNotFound');
    assert.equal(ready('on-bad-gw').reason, 'GatewayNotFound');
    assert.match(ready('on-bad-gw').message, /is invalid/);
    assert.equal(accepted('bad').status, 'False');
    assert.equal(accepted('bad').reason, 'Invalid');
    assert.match(accepted('bad').message, /matchExpressions\[0\]\.values/);
    const badGw = (server.store.get(API_VERSION, 'EgressGateway', 'bad-gw') as any).status.conditions[0];
    assert.deepEqual([badGw.type, badGw.status, badGw.reason], ['Accepted', 'False', 'Invalid']);
    const main = (server.store.get(API_VERSION, 'EgressGateway', 'main') as any).status.nodeList;
    assert.deepEqual(
      main.map((n: any) => [n.name, n.status]),
      [
        ['gw-1', 'Ready'],
        ['gw-2', 'Ready'],
      ],
    );
    const listed = main.flatMap((n: any) => n.eips.flatMap((e: any) => e.policies.map((p: any) => p.name))).sort();
    assert.deepEqual(listed, ['cluster-rr', 'def', 'exp', 'nodeip', 'rr-1', 'rr-2']);

    const events = server.store.list('v1', 'Event').map((e: any) => `${e.involvedObject.name}:${e.reason}`);
    for (const expected of ['def:EIPAssigned', 'def:GatewayAssigned', 'tiny-rr-3:PoolExhausted', 'bad:Invalid']) {
      assert.ok(events.includes(expected), `event ${expected} in ${events}`);
    }
    t.diagnostic(`first convergence: ${egressWrites(server)} egress writes, ${events.length} events; ${JSON.stringify(server.writes.snapshot())}`);

    // a quiet cluster: nothing is written
    server.writes.reset();
    await sleep(3000);
    assert.equal(egressWrites(server), 0, 'no writes while nothing changes');
    assert.equal(server.writes.count('events'), 0);

    // a restarted controller (new identity, empty cache) reads status back and changes nothing
    const before = server.store.list(API_VERSION, 'EgressPolicy').map((p: any) => [p.metadata.name, p.status.eip, p.status.node]);
    await plane.stop();
    plane = startTestPlane(server.url, 'gw-2', { identity: 'second' });
    await settle(plane);
    assert.equal(egressWrites(server), 0, `restart writes nothing: ${JSON.stringify(server.writes.snapshot())}`);
    const after = server.store.list(API_VERSION, 'EgressPolicy').map((p: any) => [p.metadata.name, p.status.eip, p.status.node]);
    assert.deepEqual(after, before);

    const info = server.store.get(API_VERSION, 'EgressClusterInfo', 'default') as any;
    assert.deepEqual(info.spec.autoDetect, { podCidrMode: 'k8s', clusterIP: true, nodeIP: true }, 'created with the default spec');
    assert.deepEqual(info.status.clusterIP, { ipv4: ['10.96.0.0/12'] }, 'service CIDRs from the agent config');
    assert.deepEqual(info.status.nodeIP, { ipv4: ['198.18.0.11', '198.18.0.12', '198.18.0.13'] });
    const tunnels = server.store.list(API_VERSION, 'EgressTunnel').map((o: any) => [o.metadata.name, o.status.mark, o.status.phase]);
    assert.deepEqual(
      tunnels,
      [
        ['gw-1', '1', 'Ready'],
        ['gw-2', '2', 'Ready'],
        ['w-1', undefined, 'Ready'],
      ],
      'marks for gateway-capable nodes only',
    );

    // a node leaves: its tunnel goes and cluster info follows
    server.store.delete('v1', 'Node', 'w-1');
    await waitFor('tunnel of w-1 deleted', () => !server.store.find(API_VERSION, 'EgressTunnel', 'w-1'), 5000);
    await waitFor(
      'node IPs updated',
      () => JSON.stringify((server.store.get(API_VERSION, 'EgressClusterInfo', 'default') as any).status.nodeIP.ipv4) === JSON.stringify(['198.18.0.11', '198.18.0.12']),
      5000,
    );

    // changes: an rr policy released frees its address for a newcomer only after it is gone
    server.store.delete(API_VERSION, 'EgressPolicy', 'tiny-rr-1', 'default');
    await waitFor('tiny-rr-3 gets the freed address', () => status('tiny-rr-3').eip?.ipv4 === '198.18.101.2', 5000);
    assert.equal(status('tiny-rr-2').eip.ipv4, '198.18.101.1', 'tiny-rr-2 keeps the default EIP: nothing moves');
  } finally {
    await plane.stop();
    await server.close();
  }
});
