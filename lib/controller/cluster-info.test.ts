import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { startApiServer } from '../../e2e/apiserver/server.js';
import type { JsonObject as ServerObject } from '../../e2e/apiserver/json.js';
import { API_VERSION } from '../api/group.js';
import { egressCrds } from '../cluster/testing/crds.js';
import { node } from '../planner/testing/cluster.js';
import { DEFAULT_CONFIG } from '../planner/config.js';
import { formatInterval } from '../api/ip.js';
import { installCrds, settle, startTestPlane } from './testing/plane.js';
import { waitFor } from '../kube/testing/wait.js';

const asServer = (o: object) => o as ServerObject;

test('an invalid EgressClusterInfo: Accepted False with the problem, status still from the last valid spec; fixed, it takes effect', async () => {
  const server = await startApiServer({ logger: pino({ level: 'silent' }) });
  const plane = startTestPlane(server.url, 'w-1');
  try {
    installCrds(server);
    // sluice's CRD refuses host bits; an older CRD (or a restore from backup) lets them through
    const crd = structuredClone(egressCrds().find((c) => (c.spec as any).names.kind === 'EgressClusterInfo')) as any;
    crd.spec.versions[0].schema.openAPIV3Schema = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
    server.store.apply(asServer(crd));
    for (const o of [node('gw-1', 1, { labels: { egress: 'true' } }), node('w-1', 2)]) server.store.apply(asServer(o));
    await settle(plane);

    const info = () => server.store.get(API_VERSION, 'EgressClusterInfo', 'default') as any;
    const accepted = () => (info().status?.conditions ?? []).find((c: any) => c.type === 'Accepted');
    const setExtra = (extraCidr: string[]) => server.store.update(asServer({ ...info(), spec: { ...info().spec, extraCidr } }));
    await waitFor('Accepted True', () => accepted()?.status === 'True', 5000);
    assert.deepEqual(info().status.podCIDR, { ipv4: ['10.244.1.0/24', '10.244.2.0/24'] });

    setExtra(['192.0.2.0/24']);
    await waitFor('the valid extraCidr in status', () => JSON.stringify(info().status.extraCidr) === '["192.0.2.0/24"]', 5000);
    const lastGood = info().metadata.resourceVersion;

    setExtra(['100.64.0.1/10']);
    await waitFor('Accepted False', () => accepted()?.status === 'False', 5000);
    await settle(plane);
    const refused = accepted();
    assert.equal(refused.reason, 'InvalidIP');
    assert.match(refused.message, /spec\.extraCidr\[0\]: "100\.64\.0\.1\/10" has host bits set/);
    assert.match(refused.message, new RegExp(`the last valid version \\(resourceVersion ${lastGood}\\) stays in force`));
    assert.equal(refused.observedGeneration, info().metadata.generation);
    assert.deepEqual(info().status.extraCidr, ['192.0.2.0/24'], 'status still describes the spec in force');
    assert.deepEqual(info().status.podCIDR, { ipv4: ['10.244.1.0/24', '10.244.2.0/24'] }, 'the pod CIDRs stay');
    const inUse = plane.store.clusterInfoInUse();
    assert.equal(inUse.state, 'last-good');
    assert.deepEqual(plane.store.snapshot(DEFAULT_CONFIG).clusterInfo?.extraCidr.map(formatInterval), ['192.0.2.0/24'], 'plans use the last valid spec');

    setExtra(['100.64.0.0/10']);
    await waitFor('Accepted True again', () => accepted()?.status === 'True', 5000);
    await waitFor('the fixed extraCidr in status', () => JSON.stringify(info().status.extraCidr) === '["100.64.0.0/10"]', 5000);
    assert.equal(plane.store.clusterInfoInUse().state, 'current');
  } finally {
    await plane.stop();
    await server.close();
  }
});
