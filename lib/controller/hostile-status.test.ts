import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { startApiServer } from '../../e2e/apiserver/server.js';
import type { JsonObject as ServerObject } from '../../e2e/apiserver/json.js';
import { API_VERSION } from '../api/group.js';
import { gateway, node, policy } from '../planner/testing/cluster.js';
import { installCrds, settle, startTestPlane } from './testing/plane.js';
import { sleep, waitFor } from '../kube/testing/wait.js';

const asServer = (o: object) => o as ServerObject;
const egress = { selector: { matchLabels: { egress: 'true' } } };
const podSubnet = { podSubnet: ['10.244.0.0/16'] };

interface Cluster {
  readonly server: Awaited<ReturnType<typeof startApiServer>>;
  readonly plane: ReturnType<typeof startTestPlane>;
  readonly seed: (object: object) => void;
}

/** The test API server and a controller, two gateway nodes, a worker and the gateway "main"; all stopped after `body`. */
async function withCluster(body: (cluster: Cluster) => Promise<void>): Promise<void> {
  const server = await startApiServer({ logger: pino({ level: 'silent' }) });
  const plane = startTestPlane(server.url, 'w-1');
  try {
    installCrds(server);
    const seed = (o: object) => void server.store.apply(asServer(o));
    for (const o of [node('gw-1', 1, { labels: { egress: 'true' } }), node('gw-2', 2, { labels: { egress: 'true' } }), node('w-1', 3)]) seed(o);
    seed(gateway('main', { nodeSelector: egress, ippools: { ipv4: ['198.18.100.10-198.18.100.19'] } }, '2026-01-01T00:00:00Z'));
    await body({ server, plane, seed });
  } finally {
    await plane.stop();
    await server.close();
  }
}

test('pool conflicts become gateway conditions; forged policy status is rewritten and reported; one node per EIP', () =>
  withCluster(async ({ server, plane, seed }) => {
    // the API server stamps creationTimestamp (seconds): the overlapping gateway comes a second later, and its name sorts first
    await sleep(1100);
    seed(gateway('copy', { nodeSelector: egress, ippools: { ipv4: ['198.18.100.15-198.18.100.25'] } }));
    seed(gateway('leaky', { nodeSelector: egress, ippools: { ipv4: ['198.18.0.11-198.18.0.12', '198.18.101.0/30'] } }, '2026-01-01T00:00:00Z'));
    for (const name of ['a', 'b', 'c', 'd'])
      seed(policy('default', name, { egressGatewayName: 'main', appliedTo: podSubnet }, { created: `2026-01-01T00:00:0${name.charCodeAt(0) - 96}Z` }));
    seed(policy('default', 'on-copy', { egressGatewayName: 'copy', appliedTo: podSubnet }));
    await settle(plane);

    const gw = (name: string) => (server.store.get(API_VERSION, 'EgressGateway', name) as any).status.conditions as any[];
    const cond = (name: string, type: string) => gw(name).find((c) => c.type === type);
    assert.equal(cond('copy', 'Accepted').status, 'False');
    assert.equal(cond('copy', 'Accepted').reason, 'PoolOverlap');
    assert.equal(cond('main', 'Accepted').status, 'True');
    assert.equal(cond('main', 'PoolsValid').status, 'True');
    assert.equal(cond('leaky', 'PoolsValid').status, 'False');
    assert.equal(cond('leaky', 'PoolsValid').reason, 'ClusterAddress');
    assert.match(cond('leaky', 'PoolsValid').message, /198\.18\.0\.11-198\.18\.0\.12 \(node or pod address\)/);
    const status = (name: string) => (server.store.get(API_VERSION, 'EgressPolicy', name, 'default') as any).status;
    assert.equal(status('on-copy').conditions.find((c: any) => c.type === 'Ready').reason, 'PoolOverlap');
    const holders = new Set(['a', 'b', 'c', 'd'].map((n) => status(n).node));
    assert.equal(holders.size, 1, 'every policy of the default EIP on one node');
    const home = [...holders][0];

    // a compromised node writes status: a foreign EIP and another node for the newest policy
    const forged = server.store.get(API_VERSION, 'EgressPolicy', 'd', 'default') as any;
    server.store.updateStatus({ ...forged, status: { ...forged.status, eip: { ipv4: '8.8.8.8' }, node: home === 'gw-1' ? 'gw-2' : 'gw-1' } });
    await waitFor('status rewritten', () => status('d').eip?.ipv4 === '198.18.100.10' && status('d').node === home, 5000);
    await waitFor(
      'a Warning event names the ignored value',
      () => server.store.list('v1', 'Event').some((e: any) => e.reason === 'StatusIgnored' && e.involvedObject.name === 'd' && /8\.8\.8\.8/.test(e.message)),
      5000,
    );
  }));

test('forged tunnel marks (one made unusable, another set to the first one’s) are rewritten as they were, not swapped', () =>
  withCluster(async ({ server, plane }) => {
    await settle(plane);
    const tunnel = (name: string) => server.store.get(API_VERSION, 'EgressTunnel', name) as any;
    const marks = () => ({ 'gw-1': tunnel('gw-1')?.status?.mark, 'gw-2': tunnel('gw-2')?.status?.mark });
    await waitFor('both gateways have marks', () => marks()['gw-1'] !== undefined && marks()['gw-2'] !== undefined, 5000);
    const before = marks();
    assert.notEqual(before['gw-1'], before['gw-2']);

    // both forgeries land before the controller's next pass: status alone would give gw-2 the mark of gw-1
    server.store.updateStatus({ ...tunnel('gw-1'), status: { ...tunnel('gw-1').status, mark: '255' } });
    server.store.updateStatus({ ...tunnel('gw-2'), status: { ...tunnel('gw-2').status, mark: before['gw-1'] } });
    await waitFor('marks rewritten', () => JSON.stringify(marks()) === JSON.stringify(before), 5000);
    await sleep(300);
    assert.deepEqual(marks(), before, 'and they stay');
  }));
