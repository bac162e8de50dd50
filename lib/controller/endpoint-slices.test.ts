import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { startApiServer, type ApiServer } from '../../e2e/apiserver/server.js';
import type { JsonObject as ServerObject } from '../../e2e/apiserver/json.js';
import { API_VERSION, FIREWALL_LABEL, POLICY_LABEL } from '../api/group.js';
import { gateway, namespace, node, pod, policy, clusterPolicy, snapshotOf } from '../planner/testing/cluster.js';
import { egressWrites, installCrds, settle, startTestPlane } from './testing/plane.js';
import { sleep, waitFor } from '../kube/testing/wait.js';
import { silentLogger } from '../kube/logger.js';
import { ClusterStore } from '../cluster/store.js';
import type { StoreKind } from '../cluster/kinds.js';
import { DEFAULT_CONFIG } from '../planner/config.js';
import type { ControllerContext } from './context.js';
import { reconcileEndpointSlices } from './endpoint-slices.js';

const asServer = (o: object) => o as ServerObject;
const SLICES = 'egressendpointslices.egress.sluice.dev';

function webPod(i: number, ready = true): ServerObject {
  const doc = pod('default', `web-${String(i).padStart(4, '0')}`, `w-${i % 3}`, [`10.244.${Math.floor(i / 250)}.${(i % 250) + 1}`], { app: 'web' });
  if (!ready) (doc.status as any).conditions = [{ type: 'Ready', status: 'False' }];
  return asServer(doc);
}

function slices(server: ApiServer): any[] {
  return server.store.list(API_VERSION, 'EgressEndpointSlice', { namespace: 'default', labelSelector: `${POLICY_LABEL}=web` });
}

function endpointNames(server: ApiServer): string[] {
  return slices(server)
    .flatMap((s) => (s.endpoints ?? []).map((e: any) => e.pod))
    .sort();
}

test('endpoint slices follow 1000 pods with bounded writes', async (t) => {
  const server = await startApiServer({ logger: pino({ level: 'silent' }) });
  const plane = startTestPlane(server.url, 'w-0');
  try {
    installCrds(server);
    for (const o of [node('w-0', 1, { labels: { egress: 'true' } }), node('w-1', 2), node('w-2', 3)]) server.store.apply(asServer(o));
    server.store.apply(asServer(gateway('main', { nodeSelector: { selector: { matchLabels: { egress: 'true' } } }, ippools: { ipv4: ['198.18.100.1'] } })));
    server.store.apply(asServer(policy('default', 'web', { egressGatewayName: 'main', appliedTo: { podSelector: { matchLabels: { app: 'web' } } } })));
    await settle(plane);
    assert.equal(slices(server).length, 0, 'a policy without pods has no slice');

    const measure = async (what: string, change: () => void | Promise<void>, done: () => boolean): Promise<number> => {
      server.writes.reset();
      await change();
      await waitFor(what, done, 15_000);
      await settle(plane, 15_000);
      const writes = server.writes.count(SLICES);
      t.diagnostic(`${what}: ${writes} slice writes (${JSON.stringify(server.writes.snapshot()[SLICES] ?? {})}), ${plane.controller.passes} passes so far`);
      return writes;
    };

    const burst = await measure(
      '1000 pods created at once',
      () => {
        for (let i = 0; i < 1000; i++) server.store.apply(webPod(i));
      },
      () => endpointNames(server).length === 1000,
    );
    assert.ok(burst <= 20, `burst of 1000 pods: ${burst} writes (10 slices)`);
    assert.equal(slices(server).length, 10);
    assert.ok(slices(server).every((s) => s.endpoints.length <= 100));
    const first = slices(server)[0];
    assert.deepEqual(
      first.metadata.ownerReferences.map((o: any) => [o.kind, o.name]),
      [['EgressPolicy', 'web']],
    );
    assert.match(first.metadata.name, /^web-[a-z0-9]{5}$/);

    assert.equal(
      await measure(
        'one pod deleted',
        () => void server.store.delete('v1', 'Pod', 'web-0042', 'default'),
        () => endpointNames(server).length === 999,
      ),
      1,
    );
    assert.equal(
      await measure(
        'one pod added',
        () => void server.store.apply(webPod(1042)),
        () => endpointNames(server).includes('web-1042'),
      ),
      1,
    );
    assert.equal(
      await measure(
        'one pod turns NotReady',
        () => {
          const p = server.store.get('v1', 'Pod', 'web-0100', 'default') as any;
          server.store.updateStatus({ ...p, status: { ...p.status, conditions: [{ type: 'Ready', status: 'False' }] } });
        },
        () => !endpointNames(server).includes('web-0100'),
      ),
      1,
    );
    assert.equal(
      await measure(
        'an unselected pod comes and goes',
        async () => {
          server.store.apply(asServer(pod('default', 'other', 'w-1', ['10.244.9.9'], { app: 'db' })));
          await sleep(300);
          server.store.delete('v1', 'Pod', 'other', 'default');
          await sleep(300);
        },
        () => true,
      ),
      0,
    );

    const churn = await measure(
      'churn: 100 deletes and 100 creates in batches of 10 every 20 ms',
      async () => {
        for (let b = 0; b < 10; b++) {
          for (let i = 0; i < 10; i++) {
            server.store.delete('v1', 'Pod', `web-${String(200 + b * 10 + i).padStart(4, '0')}`, 'default');
            server.store.apply(webPod(2000 + b * 10 + i));
          }
          await sleep(20);
        }
      },
      () => endpointNames(server).includes('web-2099') && !endpointNames(server).includes('web-0299'),
    );
    assert.ok(churn <= 40, `200 pod changes cost ${churn} slice writes`);
    assert.ok(slices(server).every((s) => s.endpoints.length <= 100));

    const expected = server.store
      .list('v1', 'Pod', { namespace: 'default', labelSelector: 'app=web' })
      .filter((p: any) => p.status.conditions[0].status === 'True')
      .map((p: any) => p.metadata.name)
      .sort();
    assert.deepEqual(endpointNames(server), expected, 'slices hold exactly the ready selected pods, each once');

    const quiet = await measure(
      'a quiet cluster for 2 s',
      () => sleep(2000),
      () => true,
    );
    assert.equal(quiet, 0);
    assert.equal(egressWrites(server), 0);

    const teardown = await measure(
      'all pods deleted',
      () => {
        for (const p of server.store.list('v1', 'Pod', { namespace: 'default' })) server.store.delete('v1', 'Pod', (p.metadata as any).name, 'default');
      },
      () => slices(server).length === 0,
    );
    assert.ok(teardown <= 20, `deleting every pod: ${teardown} writes (each of 10 slices at most updated once and deleted once)`);

    assert.equal(
      await measure(
        'a pod again',
        () => void server.store.apply(webPod(7)),
        () => endpointNames(server).includes('web-0007'),
      ),
      1,
      'one slice created',
    );

    server.store.delete(API_VERSION, 'EgressPolicy', 'web', 'default');
    await waitFor('slices of a deleted policy go', () => slices(server).length === 0, 5000);
  } finally {
    await plane.stop();
    await server.close();
  }
});

test('cluster policies get cluster-scoped slices across the namespaces they select', async () => {
  const server = await startApiServer({ logger: pino({ level: 'silent' }) });
  const plane = startTestPlane(server.url, 'w-0');
  try {
    installCrds(server);
    for (const o of [node('w-0', 1, { labels: { egress: 'true' } }), namespace('team-a', { team: 'a' }), namespace('team-b', { team: 'b' })]) server.store.apply(asServer(o));
    server.store.apply(asServer(gateway('main', { nodeSelector: { selector: { matchLabels: { egress: 'true' } } }, ippools: { ipv4: ['198.18.100.1'] } })));
    server.store.apply(
      asServer(
        clusterPolicy('all-web', { egressGatewayName: 'main', appliedTo: { podSelector: { matchLabels: { app: 'web' } }, namespaceSelector: { matchLabels: { team: 'a' } } } }),
      ),
    );
    server.store.apply(asServer(pod('team-a', 'a1', 'w-0', ['10.244.1.2'], { app: 'web' })));
    server.store.apply(asServer(pod('team-b', 'b1', 'w-0', ['10.244.1.3'], { app: 'web' })));
    await settle(plane);
    const list = server.store.list(API_VERSION, 'EgressClusterEndpointSlice') as any[];
    assert.equal(list.length, 1);
    assert.equal(list[0].metadata.labels['egress.sluice.dev/cluster-policy'], 'all-web');
    assert.deepEqual(list[0].endpoints, [{ ns: 'team-a', pod: 'a1', node: 'w-0', ipv4: ['10.244.1.2'] }]);
    const ns = server.store.get('v1', 'Namespace', 'team-b') as any;
    server.store.update({ ...ns, metadata: { ...ns.metadata, labels: { team: 'a' } } });
    await waitFor('namespace relabel picked up', () => (server.store.list(API_VERSION, 'EgressClusterEndpointSlice') as any[])[0].endpoints.length === 2, 5000);
  } finally {
    await plane.stop();
    await server.close();
  }
});

test('slices the controller did not write are deleted: of no policy, of a missing one, or not parseable', async () => {
  const server = await startApiServer({ logger: pino({ level: 'silent' }) });
  const plane = startTestPlane(server.url, 'w-0');
  try {
    installCrds(server);
    server.store.apply(asServer(node('w-0', 1, { labels: { egress: 'true' } })));
    server.store.apply(asServer(gateway('main', { nodeSelector: { selector: { matchLabels: { egress: 'true' } } }, ippools: { ipv4: ['198.18.100.1'] } })));
    server.store.apply(asServer(policy('default', 'web', { egressGatewayName: 'main', appliedTo: { podSelector: { matchLabels: { app: 'web' } } } })));
    server.store.apply(webPod(1));
    await settle(plane);
    const forged = (name: string, labels: Record<string, string> | undefined, endpoints: unknown[]) =>
      server.store.apply(asServer({ apiVersion: API_VERSION, kind: 'EgressEndpointSlice', metadata: { name, namespace: 'default', ...(labels ? { labels } : {}) }, endpoints }));
    forged('no-label', undefined, [{ ns: 'default', pod: 'x', node: 'w-0', ipv4: ['10.244.9.9'] }]);
    forged('empty-label', { [POLICY_LABEL]: '' }, [{ ns: 'default', pod: 'x', node: 'w-0', ipv4: ['10.244.9.9'] }]);
    forged('missing-policy', { [POLICY_LABEL]: 'gone' }, [{ ns: 'default', pod: 'x', node: 'w-0', ipv4: ['10.244.9.9'] }]);
    forged('extra-pod', { [POLICY_LABEL]: 'web' }, [{ ns: 'default', pod: 'x', node: 'w-0', ipv4: ['10.244.9.9'] }]);
    const names = () => (server.store.list(API_VERSION, 'EgressEndpointSlice', { namespace: 'default' }) as any[]).map((s) => s.metadata.name).sort();
    await waitFor('forged slices gone', () => !names().some((n) => ['no-label', 'empty-label', 'missing-policy', 'extra-pod'].includes(n)), 5000);
    assert.deepEqual(endpointNames(server), ['web-0001'], "the policy's slices hold its one pod");
  } finally {
    await plane.stop();
    await server.close();
  }
});

test("firewalls get slices of their own next to a policy's: selected pods, kept apart, removed with the firewall", async () => {
  const server = await startApiServer({ logger: pino({ level: 'silent' }) });
  const plane = startTestPlane(server.url, 'w-0');
  try {
    installCrds(server);
    for (const o of [node('w-0', 1, { labels: { egress: 'true' } }), namespace('apps', {})]) server.store.apply(asServer(o));
    server.store.apply(asServer(gateway('main', { nodeSelector: { selector: { matchLabels: { egress: 'true' } } }, ippools: { ipv4: ['198.18.100.1'] } })));
    // a policy and a firewall of the same name select different pods
    server.store.apply(asServer(policy('apps', 'a', { egressGatewayName: 'main', appliedTo: { podSelector: {} } })));
    const fw = {
      apiVersion: API_VERSION,
      kind: 'EgressFirewall',
      metadata: { name: 'a', namespace: 'apps' },
      spec: { appliedTo: { podSelector: { matchLabels: { app: 'a' } } }, egress: [{ type: 'Deny', to: { cidrSelector: '0.0.0.0/0' } }] },
    };
    server.store.apply(asServer(fw));
    server.store.apply(asServer(pod('apps', 'a1', 'w-0', ['10.244.1.2'], { app: 'a' })));
    server.store.apply(asServer(pod('apps', 'b1', 'w-0', ['10.244.1.3'], { app: 'b' })));
    const of = (label: string) =>
      (server.store.list(API_VERSION, 'EgressEndpointSlice', { namespace: 'apps', labelSelector: `${label}=a` }) as any[])
        .flatMap((s) => (s.endpoints ?? []).map((e: any) => e.pod))
        .sort();
    await waitFor('both slices written', () => of(FIREWALL_LABEL).length === 1 && of(POLICY_LABEL).length === 2, 5000);
    assert.deepEqual(of(FIREWALL_LABEL), ['a1'], 'the firewall selects app=a only');
    assert.deepEqual(of(POLICY_LABEL), ['a1', 'b1'], "the policy's slice is untouched by the firewall");
    server.store.delete(API_VERSION, 'EgressFirewall', 'a', 'apps');
    await waitFor(
      "the firewall's slice deleted",
      () => (server.store.list(API_VERSION, 'EgressEndpointSlice', { namespace: 'apps', labelSelector: FIREWALL_LABEL }) as any[]).length === 0,
      5000,
    );
    await sleep(300);
    assert.deepEqual(of(POLICY_LABEL), ['a1', 'b1'], "the policy's slice stays");
  } finally {
    await plane.stop();
    await server.close();
  }
});

test('policies written at once never hand out the same slice name (the names are taken before the first write)', async () => {
  // The same uid and names alike in the 247 characters a slice name keeps: both namers offer the same names in the same order.
  const alike = (suffix: string) => {
    const doc = policy('default', `${'a'.repeat(250)}${suffix}`, { egressGatewayName: 'main', appliedTo: { podSelector: { matchLabels: { app: 'web' } } } });
    (doc.metadata as Record<string, unknown>).uid = 'same-uid';
    return doc;
  };
  const pods = Array.from({ length: 150 }, (_, i) => pod('default', `web-${i}`, 'w-0', [`10.244.0.${i + 1}`], { app: 'web' }));
  const snapshot = snapshotOf([namespace('default'), node('w-0', 1), alike('x1'), alike('x2'), ...pods]);
  assert.equal(snapshot.policies.length, 2);
  const created: string[] = [];
  const writer = {
    create: async (_kind: string, body: { metadata: { name: string } }) => {
      await sleep(1); // the API server's answer: the other policy's work runs meanwhile
      created.push(body.metadata.name);
      return { outcome: 'created' };
    },
  };
  const ctx = {
    snapshot,
    store: { list: () => [], get: () => undefined },
    writer,
    signal: new AbortController().signal,
    logger: silentLogger(),
  } as unknown as ControllerContext;
  const report = await reconcileEndpointSlices(ctx);
  assert.equal(report.errors.length, 0);
  assert.equal(created.length, 4, 'two slices of at most 100 endpoints per policy');
  assert.equal(new Set(created).size, created.length, `every slice has its own name: ${created.map((n) => n.slice(-5)).join(' ')}`);
});

test('a pass skips a policy whose policy, pods, namespaces and slices are the objects it last found in sync, and repairs its slices when any changes', async () => {
  const store = new ClusterStore();
  let revision = 0;
  const stored = (o: Record<string, any>, uid = `uid-${o.metadata.name}`) => ({ ...o, metadata: { ...o.metadata, uid, resourceVersion: String(++revision) } });
  const web = policy('default', 'web', { egressGatewayName: 'main', appliedTo: { podSelector: { matchLabels: { app: 'web' } } } });
  for (const o of [namespace('default'), node('w-0', 1), web]) store.upsert('test', o.kind as StoreKind, stored(o));
  for (let i = 0; i < 150; i++) store.upsert('test', 'Pod', stored(pod('default', `web-${i}`, 'w-0', [`10.244.0.${i + 1}`], { app: 'web' })));
  store.setPodsComplete(true);
  const asked: string[] = [];
  const writer = {
    create: async (kind: StoreKind, body: Record<string, any>) => {
      asked.push(`create ${body.metadata.name}`);
      store.upsert('test', kind, stored({ ...body, apiVersion: API_VERSION, kind }));
      return { outcome: 'created' };
    },
    update: async (kind: StoreKind, key: string, mutate: (current: Record<string, any>) => Record<string, any> | undefined) => {
      asked.push(`update ${key}`);
      const body = mutate(store.get(kind, key)!.raw!);
      if (!body) return { outcome: 'unchanged' };
      store.upsert('test', kind, stored(body, body.metadata.uid));
      return { outcome: 'updated' };
    },
  };
  const pass = async () => {
    asked.length = 0;
    const ctx = { snapshot: store.snapshot(DEFAULT_CONFIG), store, writer, signal: new AbortController().signal, logger: silentLogger() } as unknown as ControllerContext;
    const report = await reconcileEndpointSlices(ctx);
    assert.equal(report.errors.length, 0);
    return [...asked];
  };
  const endpointsOf = () =>
    store
      .list('EgressEndpointSlice')
      .flatMap((s) => s.value?.endpoints ?? [])
      .map((e) => e.pod);

  assert.equal((await pass()).filter((a) => a.startsWith('create')).length, 2, 'the first pass creates two slices');
  assert.deepEqual(
    await pass(),
    ['update default/' + store.list('EgressEndpointSlice')[0]!.name, 'update default/' + store.list('EgressEndpointSlice')[1]!.name].sort(),
    'the next pass checks the slices it wrote',
  );
  store.upsert('test', 'Node', stored(node('w-1', 2))); // a change of another kind: a new snapshot, the same pods
  assert.deepEqual(await pass(), [], 'nothing it reads changed since a pass found them in sync: not even a check');

  store.upsert('test', 'Pod', stored(pod('default', 'web-new', 'w-0', ['10.244.1.1'], { app: 'web' })));
  assert.ok((await pass()).length > 0);
  assert.ok(endpointsOf().includes('web-new'), 'a new pod is written');
  await pass();
  assert.deepEqual(await pass(), []);

  const [first] = store.list('EgressEndpointSlice');
  store.upsert('test', 'EgressEndpointSlice', stored({ ...first!.raw!, endpoints: [] }, first!.uid));
  assert.ok((await pass()).length > 0);
  assert.equal(endpointsOf().length, 151, 'a slice changed by someone else is written back');
});
