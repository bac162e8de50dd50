import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { startApiServer } from '../../e2e/apiserver/server.js';
import type { JsonObject as ServerObject } from '../../e2e/apiserver/json.js';
import { API_VERSION, DEFAULT_GATEWAY_LABEL } from '../api/group.js';
import { resolveCluster } from '../planner/resolve.js';
import { DEFAULT_CONFIG } from '../planner/config.js';
import { clusterPolicy, gateway, namespace, node, policy } from '../planner/testing/cluster.js';
import { installCrds, settle, startTestPlane } from './testing/plane.js';
import { bounded, waitFor } from '../kube/testing/wait.js';

const asServer = (o: object) => o as ServerObject;
const selector = { selector: { matchLabels: { egress: 'true' } } };
const subnet = { podSubnet: ['10.244.0.0/16'] };

test('default gateways: status names the resolved gateway, follows a relabelled namespace, and a second cluster default gets a condition; agents resolve the same', async () => {
  const server = await startApiServer({ logger: pino({ level: 'silent' }) });
  const leader = startTestPlane(server.url, 'gw-1', { identity: 'leader' });
  let agent: ReturnType<typeof startTestPlane> | undefined;
  try {
    installCrds(server);
    const seed = (o: object) => server.store.apply(asServer(o));
    seed(node('gw-1', 1, { labels: { egress: 'true' } }));
    seed(node('w-1', 2));
    seed(namespace('team', { [DEFAULT_GATEWAY_LABEL]: 'team-gw' }));
    seed(namespace('plain'));
    seed(gateway('main', { clusterDefault: true, nodeSelector: selector, ippools: { ipv4: ['198.18.100.10-198.18.100.19'] } }));
    seed(gateway('team-gw', { nodeSelector: selector, ippools: { ipv4: ['198.18.101.10-198.18.101.19'] } }));
    seed(policy('team', 'p', { appliedTo: subnet }));
    seed(policy('plain', 'p', { appliedTo: subnet }));
    seed(clusterPolicy('cp', { appliedTo: subnet }));
    await settle(leader);
    const status = (kind: string, name: string, ns?: string) => (server.store.get(API_VERSION, kind, name, ns) as any).status ?? {};
    assert.deepEqual([status('EgressPolicy', 'p', 'team').egressGatewayName, status('EgressPolicy', 'p', 'team').eip?.ipv4], ['team-gw', '198.18.101.10'], 'the namespace default');
    assert.deepEqual([status('EgressPolicy', 'p', 'plain').egressGatewayName, status('EgressPolicy', 'p', 'plain').eip?.ipv4], ['main', '198.18.100.10'], 'the cluster default');
    assert.equal(status('EgressClusterPolicy', 'cp').egressGatewayName, 'main');
    const condition = (gw: string) => status('EgressGateway', gw).conditions?.find((c: any) => c.type === 'ClusterDefault');
    assert.equal(condition('main')?.status, 'True');
    assert.equal(condition('team-gw'), undefined);

    // an agent (no Pods, no unlabelled Namespaces) computes the same assignment from its own watch
    agent = startTestPlane(server.url, 'w-1', { identity: 'agent' });
    const follower = agent;
    await waitFor('the agent synced', () => follower.watch.synced, 15_000);
    assert.deepEqual(
      follower.store.values('Namespace').map((n) => n.name),
      ['team'],
      'only labelled namespaces',
    );
    const mine = resolveCluster(follower.store.snapshot(DEFAULT_CONFIG)).assignment.policies;
    assert.equal(mine.get('team/p')?.gatewayName, 'team-gw');
    assert.equal(mine.get('team/p')?.eipV4, '198.18.101.10');

    // relabel: the policy follows, in status and at the agent
    server.store.patch('v1', 'Namespace', 'team', asServer({ metadata: { labels: { [DEFAULT_GATEWAY_LABEL]: 'main' } } }), { type: 'merge' } as never);
    await waitFor('status follows the new namespace default', () => status('EgressPolicy', 'p', 'team').egressGatewayName === 'main', 15_000);
    assert.equal(status('EgressPolicy', 'p', 'team').eip?.ipv4, '198.18.100.10');
    await waitFor('the agent follows', () => resolveCluster(follower.store.snapshot(DEFAULT_CONFIG)).assignment.policies.get('team/p')?.gatewayName === 'main', 15_000);
    const changed = () => server.store.list('v1', 'Event').find((e: any) => e.involvedObject.namespace === 'team' && e.reason === 'GatewayChanged') as any;
    await waitFor('a GatewayChanged event', () => changed(), 15_000);
    assert.match(changed().message, /uses EgressGateway "main" now \(was "team-gw"\)/);

    // the label removed: the cluster default; the agent's label-selector watch drops the namespace
    server.store.patch('v1', 'Namespace', 'team', asServer({ metadata: { labels: { [DEFAULT_GATEWAY_LABEL]: 'team-gw' } } }), { type: 'merge' } as never);
    await waitFor('back on team-gw', () => status('EgressPolicy', 'p', 'team').egressGatewayName === 'team-gw', 15_000);
    server.store.patch('v1', 'Namespace', 'team', asServer({ metadata: { labels: { [DEFAULT_GATEWAY_LABEL]: null } } }), { type: 'merge' } as never);
    await waitFor('the cluster default again', () => status('EgressPolicy', 'p', 'team').egressGatewayName === 'main', 15_000);
    await waitFor('the agent forgot the namespace', () => follower.store.values('Namespace').length === 0, 15_000);

    // a second cluster default, newer: reported, nothing moves. The server stamps creation to the
    // second and ties go by name ("late" < "main"), so it is created in a later second than "main".
    await sleep(1_020 - (Date.now() % 1_000));
    seed(gateway('late', { clusterDefault: true, nodeSelector: selector, ippools: { ipv4: ['198.18.102.10'] } }, '2099-01-01T00:00:00Z'));
    await waitFor('the newer one reports', () => condition('late')?.reason === 'DuplicateClusterDefault', 15_000);
    assert.match(condition('late').message, /the older gateway "main" is the cluster default/);
    assert.equal(status('EgressPolicy', 'p', 'plain').egressGatewayName, 'main');
    // and when the first one stops asking, the other takes over
    seed(gateway('main', { clusterDefault: false, nodeSelector: selector, ippools: { ipv4: ['198.18.100.10-198.18.100.19'] } }));
    await waitFor('the other default takes over', () => status('EgressPolicy', 'p', 'plain').egressGatewayName === 'late', 15_000);
    await waitFor('the condition follows', () => condition('late')?.status === 'True' && condition('main') === undefined, 15_000);
  } finally {
    await bounded(Promise.all([leader.stop(), agent?.stop()]), 10_000, 'stopping the planes');
    await server.close();
  }
});
