import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterStore, type StoreChange } from './store.js';
import { DEFAULT_CONFIG } from '../planner/config.js';
import { endpointSlice, gateway, node, pod, policy } from '../planner/testing/cluster.js';

type Doc = Record<string, any>;

function withRv(doc: Doc, rv: string): Doc {
  return { ...doc, metadata: { ...doc.metadata, resourceVersion: rv, uid: `uid-${doc.metadata.name}` } };
}

test('objects are parsed once; the same resourceVersion or content is silent', () => {
  const store = new ClusterStore();
  const changes: StoreChange[] = [];
  store.subscribe((c) => changes.push(c));
  const n = withRv(node('n1', 1), '5');
  store.upsert('a', 'Node', n);
  store.upsert('a', 'Node', n);
  // a heartbeat-only update: new resourceVersion, same model
  store.upsert('a', 'Node', { ...n, metadata: { ...n.metadata, resourceVersion: '6' }, status: { ...n.status, extra: 'x' } });
  assert.equal(changes.length, 1);
  assert.equal(store.values('Node')[0]!.name, 'n1');
  assert.ok(Object.isFrozen(store.values('Node')[0]));
});

test('an object stays while any source still delivers it; resync removes what a source lost', () => {
  const store = new ClusterStore();
  const n1 = withRv(node('n1', 1), '1');
  const n2 = withRv(node('n2', 2), '2');
  store.upsert('self', 'Node', n1);
  store.resync('all', 'Node', [n1, n2]);
  store.resync('all', 'Node', [n2]);
  assert.deepEqual(
    store.values('Node').map((n) => n.name),
    ['n1', 'n2'],
    'n1 is still delivered by "self"',
  );
  store.dropSource('all', 'Node');
  assert.deepEqual(
    store.values('Node').map((n) => n.name),
    ['n1'],
  );
  store.remove('self', 'Node', n1);
  assert.equal(store.values('Node').length, 0);
});

test('rejected objects are kept with their problems and left out of the snapshot', () => {
  const store = new ClusterStore();
  const bad = withRv(policy('default', 'bad', { egressGatewayName: 'gw', appliedTo: { podSelector: { matchExpressions: [{ key: 'a', operator: 'In' }] } } }), '3');
  const good = withRv(policy('default', 'good', { egressGatewayName: 'gw', appliedTo: { podSubnet: ['10.244.0.0/16'] } }), '4');
  store.upsert('p', 'EgressPolicy', bad);
  store.upsert('p', 'EgressPolicy', good);
  store.upsert('p', 'EgressPolicy', { metadata: 'junk' } as never);
  assert.equal(store.rejected('EgressPolicy').length, 1);
  assert.match(store.rejected('EgressPolicy')[0]!.problems[0]!.message, /must not be empty/);
  assert.deepEqual(
    store.snapshot(DEFAULT_CONFIG).policies.map((p) => p.key),
    ['default/good'],
  );
});

test('the snapshot lists pods only while a complete pod view exists, and is cached', () => {
  const store = new ClusterStore();
  store.upsert('gw', 'EgressGateway', withRv(gateway('gw', { nodeSelector: { selector: {} } }), '1'));
  store.upsert('pods', 'Pod', withRv(pod('default', 'p', 'n1', ['10.244.1.2']), '2'));
  const first = store.snapshot(DEFAULT_CONFIG);
  assert.equal(first.pods, undefined);
  assert.equal(store.snapshot(DEFAULT_CONFIG), first);
  store.setPodsComplete(true);
  assert.equal(store.snapshot(DEFAULT_CONFIG).pods?.length, 1);
});

test("a new snapshot hands out the same array of a kind none of whose objects changed, and a new one after the kind's change", () => {
  const store = new ClusterStore();
  store.upsert('pods', 'Pod', withRv(pod('default', 'p', 'n1', ['10.244.1.2']), '1'));
  store.setPodsComplete(true);
  const before = store.snapshot(DEFAULT_CONFIG);
  store.upsert('nodes', 'Node', withRv(node('n1', 1), '2'));
  const afterNode = store.snapshot(DEFAULT_CONFIG);
  assert.notEqual(afterNode, before);
  assert.equal(afterNode.pods, before.pods, 'no pod changed: the same pods');
  assert.notEqual(afterNode.nodes, before.nodes);
  store.upsert('pods', 'Pod', withRv(pod('default', 'q', 'n1', ['10.244.1.3']), '3'));
  const afterPod = store.snapshot(DEFAULT_CONFIG);
  assert.notEqual(afterPod.pods, before.pods);
  assert.deepEqual(
    afterPod.pods?.map((p) => p.name),
    ['p', 'q'],
  );
  assert.equal(afterPod.nodes, afterNode.nodes);
});

test('a writer feeding back an older answer does not replace a newer watch event', () => {
  const store = new ClusterStore();
  const gw = withRv(gateway('gw', { nodeSelector: { selector: {} } }), '10');
  store.upsert('EgressGateway', 'EgressGateway', gw);
  store.upsert('EgressGateway', 'EgressGateway', { ...gw, metadata: { ...gw.metadata, resourceVersion: '9' }, status: { x: 1 } }, { ifNewer: true });
  assert.equal(store.get('EgressGateway', 'gw')!.resourceVersion, '10');
});

test('a rejected EgressClusterInfo never replaces the last valid one in the snapshot', () => {
  const store = new ClusterStore();
  const info = (rv: string, extraCidr: string[], status?: Doc): Doc => ({
    apiVersion: 'egress.sluice.dev/v1alpha1',
    kind: 'EgressClusterInfo',
    metadata: { name: 'default', resourceVersion: rv },
    spec: { extraCidr },
    ...(status ? { status } : {}),
  });
  const podCIDR = { ipv4: ['10.244.0.0/24', '10.244.1.0/24'] };
  store.upsert('a', 'EgressClusterInfo', info('1', ['100.64.0.0/10'], { podCIDR }));
  assert.equal(store.clusterInfoInUse().state, 'current');
  // the CRD refuses this, but an older CRD (or a restore) lets it through
  store.upsert('a', 'EgressClusterInfo', info('2', ['100.64.0.1/10'], { podCIDR }));
  const inUse = store.clusterInfoInUse();
  assert.equal(inUse.state, 'last-good');
  assert.equal(inUse.resourceVersion, '1');
  assert.match(inUse.problems[0]!.message, /host bits/);
  const snap = store.snapshot(DEFAULT_CONFIG);
  assert.deepEqual(snap.clusterInfo?.status?.podCIDR, ['10.244.0.0/24', '10.244.1.0/24'], 'the other nodes stay in the cluster set');
  assert.equal(snap.clusterInfo?.extraCidr.length, 1);
  assert.deepEqual(
    store.inputProblems().find((p) => p.kind === 'EgressClusterInfo'),
    { kind: 'EgressClusterInfo', rejected: 1, ignoredFields: 0 },
  );
  // a status entry a compromised node wrote is not used either
  store.upsert('a', 'EgressClusterInfo', info('3', ['100.64.0.0/10'], { podCIDR: { ipv4: ['10.244.0.0/24', '1.2.3.4/8'] } }));
  assert.equal(store.clusterInfoInUse().state, 'last-good');
  // fixed: the new one is in force
  store.upsert('a', 'EgressClusterInfo', info('4', ['100.64.0.0/10', '192.0.2.0/24'], { podCIDR }));
  assert.equal(store.clusterInfoInUse().state, 'current');
  assert.equal(store.snapshot(DEFAULT_CONFIG).clusterInfo?.extraCidr.length, 2);
});

test('a deleted EgressClusterInfo leaves the last one in force until the controller creates it again', () => {
  const store = new ClusterStore();
  const info = (rv: string, extraCidr: string[]): Doc => ({
    apiVersion: 'egress.sluice.dev/v1alpha1',
    kind: 'EgressClusterInfo',
    metadata: { name: 'default', resourceVersion: rv },
    spec: { extraCidr },
    status: { podCIDR: { ipv4: ['10.244.0.0/24', '10.244.1.0/24'] } },
  });
  store.upsert('a', 'EgressClusterInfo', info('1', ['192.0.2.0/24']));
  store.remove('a', 'EgressClusterInfo', info('1', ['192.0.2.0/24']));
  const gone = store.clusterInfoInUse();
  assert.deepEqual([gone.state, gone.resourceVersion, gone.problems], ['last-good', '1', []]);
  assert.deepEqual(store.snapshot(DEFAULT_CONFIG).clusterInfo?.status?.podCIDR, ['10.244.0.0/24', '10.244.1.0/24'], 'the other nodes stay in the cluster set');
  // the controller's new default (no extraCidr) takes effect as soon as it arrives
  store.upsert('a', 'EgressClusterInfo', info('2', []));
  assert.equal(store.clusterInfoInUse().state, 'current');
  assert.equal(store.snapshot(DEFAULT_CONFIG).clusterInfo?.extraCidr.length, 0);
});

test('without an earlier valid one, an EgressClusterInfo with ignored status entries is used as far as it validates', () => {
  const store = new ClusterStore();
  store.upsert('a', 'EgressClusterInfo', {
    apiVersion: 'egress.sluice.dev/v1alpha1',
    kind: 'EgressClusterInfo',
    metadata: { name: 'default', resourceVersion: '1' },
    spec: {},
    status: { podCIDR: { ipv4: ['10.244.0.0/24', '10.244.1.7/24', '::ffff:a00:0/104'] } },
  });
  assert.deepEqual(store.snapshot(DEFAULT_CONFIG).clusterInfo?.status?.podCIDR, ['10.244.0.0/24']);
  assert.equal(store.clusterInfoInUse().problems.length, 2);
});

test("a change to an EgressTunnel's applied report alone is a 'report' change; with anything else it is an upsert", () => {
  const store = new ClusterStore();
  const changes: string[] = [];
  store.subscribe((c) => changes.push(c.type));
  const tunnel = (rv: string, status: Doc) => withRv({ apiVersion: 'egress.sluice.dev/v1alpha1', kind: 'EgressTunnel', metadata: { name: 'w-1' }, status }, rv);
  const base = { tunnel: { ipv4: '172.31.0.1', mac: '02:00:00:00:00:01' }, phase: 'Ready' };
  store.upsert('a', 'EgressTunnel', tunnel('1', base));
  store.upsert('a', 'EgressTunnel', tunnel('2', { ...base, applied: { result: 'Applied', policies: [] } }));
  store.upsert('a', 'EgressTunnel', tunnel('3', { ...base, applied: { result: 'Applied', policies: [] } }));
  store.upsert('a', 'EgressTunnel', tunnel('4', { ...base, applied: { result: 'Failed', code: 'EGW_ERR_NFT' } }));
  store.upsert('a', 'EgressTunnel', tunnel('5', { ...base, phase: 'NotReady', applied: { result: 'Applied' } }));
  store.upsert('a', 'EgressTunnel', tunnel('6', { ...base, phase: 'NotReady' }));
  assert.deepEqual(changes, ['upsert', 'report', 'report', 'upsert', 'report']);
  assert.equal(store.values('EgressTunnel')[0]!.phase, 'NotReady');
});

test("a policy whose conditions alone changed is a 'report' change: no plan reads them", () => {
  const store = new ClusterStore();
  const changes: string[] = [];
  store.subscribe((c) => changes.push(c.type));
  const p = (rv: string, status: Doc) => withRv({ ...policy('default', 'web', { egressGatewayName: 'main', appliedTo: { podSubnet: ['10.244.0.0/16'] } }), status }, rv);
  const ready = [{ type: 'Ready', status: 'True', reason: 'Ready', message: '', lastTransitionTime: '2026-01-01T00:00:00Z' }];
  store.upsert('a', 'EgressPolicy', p('1', { node: 'gw-1' }));
  store.upsert('a', 'EgressPolicy', p('2', { node: 'gw-1', conditions: ready }));
  store.upsert('a', 'EgressPolicy', p('3', { node: 'gw-2', conditions: ready }));
  assert.deepEqual(changes, ['upsert', 'report', 'upsert']);
});

test('the wire form is kept only when asked; asked later at the same resourceVersion, it is stored then, silently', () => {
  const store = new ClusterStore();
  const changes: StoreChange[] = [];
  store.subscribe((c) => changes.push(c));
  const gw = withRv(gateway('gw', { nodeSelector: { selector: { matchLabels: { egress: 'true' } } } }), '7');
  store.upsert('a', 'EgressGateway', gw, { keepRaw: false });
  assert.equal(store.get('EgressGateway', 'gw')?.raw, undefined, 'parsed only');
  assert.equal(store.get('EgressGateway', 'gw')?.value?.name, 'gw');
  store.resync('a', 'EgressGateway', [gw], { keepRaw: true });
  assert.equal(store.get('EgressGateway', 'gw')?.raw, gw, 'the wire form once asked for');
  assert.equal(changes.length, 1, 'no change heard for it');
  store.upsert('a', 'EgressGateway', gw, { keepRaw: false });
  assert.equal(store.get('EgressGateway', 'gw')?.raw, gw, 'a repeat without it does not drop it');
  store.upsert('b', 'EgressGateway', { ...gw, metadata: { ...gw.metadata, resourceVersion: '8' }, spec: { ...gw.spec, nodeSelector: { selector: {} } } }, { keepRaw: false });
  assert.equal(changes.length, 2, 'a content change is still heard');
  assert.equal(store.get('EgressGateway', 'gw')?.raw, undefined);
  store.upsert('a', 'Node', withRv(node('n1', 1), '1'), { keepRaw: true });
  assert.equal(store.get('Node', 'n1')?.raw, undefined, 'never for core kinds');
});

test('slices that list a pod alike share its endpoint; a dropped slice gives its pods back', () => {
  const store = new ClusterStore();
  const ep = (node: string) => ({ ns: 'ns', pod: 'p1', node, ipv4: ['10.0.0.1'] });
  const sliceOf = (name: string, node: string) => withRv(endpointSlice('ns', name, name, [ep(node)]), '1');
  const slices = () => store.snapshot(DEFAULT_CONFIG).slices;
  store.upsert('a', 'EgressEndpointSlice', sliceOf('a', 'n1'));
  store.upsert('a', 'EgressEndpointSlice', sliceOf('b', 'n1'));
  assert.equal(slices()[0]!.endpoints[0], slices()[1]!.endpoints[0]);
  assert.deepEqual(slices()[1]!.endpoints[0], { namespace: 'ns', pod: 'p1', node: 'n1', ipv4: ['10.0.0.1'], ipv6: [] });
  // the pod moved: once no slice lists it on n1, the slices listing it on n2 share that endpoint
  store.upsert('a', 'EgressEndpointSlice', withRv(sliceOf('a', 'n2'), '2'));
  store.remove('a', 'EgressEndpointSlice', sliceOf('b', 'n1'));
  store.upsert('a', 'EgressEndpointSlice', sliceOf('c', 'n2'));
  store.upsert('a', 'EgressEndpointSlice', sliceOf('d', 'n2'));
  const [, c, d] = slices();
  assert.equal(c!.endpoints[0]!.node, 'n2');
  assert.equal(c!.endpoints[0], d!.endpoints[0]);
});
