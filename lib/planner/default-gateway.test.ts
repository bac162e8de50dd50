import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Assignment } from './assign.js';
import { resolveCluster } from './resolve.js';
import { crossCheck } from './cross-check.js';
import { clusterDefaultGateway } from './default-gateway.js';
import { baseCluster, clusterPolicy, gateway, namespace, policy, snapshotOf } from './testing/cluster.js';

type Doc = Record<string, unknown>;
const LABEL = 'egress.sluice.dev/egressgateway-default';
const selector = { selector: { matchLabels: { egress: 'true' } } };
const unnamed = (ns: string, name: string) => policy(ns, name, { appliedTo: { podSubnet: ['10.244.1.0/24'] } });
const unnamedCluster = (name: string) => clusterPolicy(name, { appliedTo: { podSubnet: ['10.244.1.0/24'] } });
/** Gateway "default" of baseCluster, plus "b" (cluster default when asked) and "c". */
const gateways = (opts: { bDefault?: boolean; cDefault?: boolean } = {}): Doc[] => [
  gateway('b', { clusterDefault: opts.bDefault ?? true, nodeSelector: selector, ippools: { ipv4: ['198.18.1.10-198.18.1.20'] } }, '2026-01-02T00:00:00Z'),
  gateway('c', { clusterDefault: opts.cDefault ?? false, nodeSelector: selector, ippools: { ipv4: ['198.18.2.10-198.18.2.20'] } }, '2026-01-03T00:00:00Z'),
];

function assigned(docs: readonly Doc[]): ReadonlyMap<string, Assignment> {
  return resolveCluster(snapshotOf(docs)).assignment.policies;
}

test('a policy without egressGatewayName uses the cluster-default gateway; a named one keeps its own', () => {
  const docs = [
    ...baseCluster(),
    ...gateways(),
    unnamed('default', 'p'),
    unnamedCluster('cp'),
    policy('default', 'named', { egressGatewayName: 'default', appliedTo: { podSubnet: ['10.244.1.0/24'] } }),
  ];
  const snapshot = snapshotOf(docs);
  const byKey = new Map(snapshot.policies.map((p) => [p.key, p]));
  assert.deepEqual([byKey.get('default/p')!.spec.gatewayName, byKey.get('default/p')!.spec.gatewaySource], ['b', 'cluster']);
  assert.deepEqual([byKey.get('cp')!.spec.gatewayName, byKey.get('cp')!.spec.gatewaySource], ['b', 'cluster']);
  assert.deepEqual([byKey.get('default/named')!.spec.gatewayName, byKey.get('default/named')!.spec.gatewaySource], ['default', 'spec']);
  const a = resolveCluster(snapshot).assignment.policies;
  assert.equal(a.get('default/p')!.active, true);
  assert.equal(a.get('default/p')!.gatewayName, 'b');
  assert.equal(a.get('default/p')!.eipV4, '198.18.1.10', 'the default EIP of gateway b');
  assert.equal(a.get('cp')!.eipV4, '198.18.1.10');
});

test('two cluster defaults: the oldest is the default, so a second one asking moves nothing', () => {
  const docs = [...baseCluster(), ...gateways({ bDefault: true, cDefault: true }), unnamed('default', 'p')];
  assert.equal(assigned(docs).get('default/p')!.gatewayName, 'b');
  const snapshot = snapshotOf(docs);
  assert.equal(clusterDefaultGateway(snapshot.gateways)?.name, 'b');
  // the same age: the name decides, so every node agrees
  const same = [...baseCluster(), gateway('z', { clusterDefault: true, nodeSelector: selector, ippools: { ipv4: ['198.18.3.1'] } }, '2026-01-02T00:00:00Z'), ...gateways()];
  assert.equal(clusterDefaultGateway(snapshotOf(same).gateways)?.name, 'b');
});

test("the namespace label overrides the cluster default for the namespace's policies, never for cluster policies", () => {
  const docs = [...baseCluster().filter((d) => d.kind !== 'Namespace'), namespace('default', { [LABEL]: 'c' }), ...gateways(), unnamed('default', 'p'), unnamedCluster('cp')];
  const a = assigned(docs);
  assert.equal(a.get('default/p')!.gatewayName, 'c');
  assert.equal(a.get('default/p')!.eipV4, '198.18.2.10');
  assert.equal(a.get('cp')!.gatewayName, 'b', 'an EgressClusterPolicy has no namespace: the cluster default');
  const source = snapshotOf(docs).policies.find((p) => p.key === 'default/p')!.spec.gatewaySource;
  assert.equal(source, 'namespace');
});

test('defaults are read as they are now: relabelling the namespace moves an unnamed policy', () => {
  const before = assigned([...baseCluster().filter((d) => d.kind !== 'Namespace'), namespace('default', { [LABEL]: 'c' }), ...gateways(), unnamed('default', 'p')]);
  const after = assigned([...baseCluster().filter((d) => d.kind !== 'Namespace'), namespace('default', { [LABEL]: 'default' }), ...gateways(), unnamed('default', 'p')]);
  assert.equal(before.get('default/p')!.gatewayName, 'c');
  assert.equal(after.get('default/p')!.gatewayName, 'default');
  assert.equal(after.get('default/p')!.eipV4, '198.18.0.110');
});

test('an empty label value counts as no label (as in spidernet)', () => {
  const a = assigned([...baseCluster().filter((d) => d.kind !== 'Namespace'), namespace('default', { [LABEL]: '' }), ...gateways(), unnamed('default', 'p')]);
  assert.equal(a.get('default/p')!.gatewayName, 'b');
});

test('no gateway to be found: GatewayNotFound saying where the gateway should have come from', () => {
  const none = assigned([...baseCluster(), ...gateways({ bDefault: false }), unnamed('default', 'p'), unnamedCluster('cp')]);
  assert.equal(none.get('default/p')!.reason, 'GatewayNotFound');
  assert.match(
    none.get('default/p')!.message!,
    /spec\.egressGatewayName is unset and there is no default gateway: label namespace "default" egress\.sluice\.dev\/egressgateway-default=<gateway>, or set spec\.clusterDefault: true on one EgressGateway/,
  );
  assert.match(none.get('cp')!.message!, /^spec\.egressGatewayName is unset and there is no default gateway: set spec\.clusterDefault: true/);
  const missing = assigned([...baseCluster().filter((d) => d.kind !== 'Namespace'), namespace('default', { [LABEL]: 'gone' }), ...gateways(), unnamed('default', 'p')]);
  assert.equal(missing.get('default/p')!.reason, 'GatewayNotFound', 'the label wins even when it names a missing gateway: no silent fallback');
  assert.match(missing.get('default/p')!.message!, /EgressGateway "gone" does not exist \(the default of namespace "default", label egress\.sluice\.dev\/egressgateway-default\)/);
  const bad = assigned([...baseCluster().filter((d) => d.kind !== 'Namespace'), namespace('default', { [LABEL]: 'Not_A_Name' }), ...gateways(), unnamed('default', 'p')]);
  assert.match(bad.get('default/p')!.message!, /the label egress\.sluice\.dev\/egressgateway-default of namespace "default" is not an EgressGateway name/);
});

test('sluice validate: an unnamed EgressPolicy whose Namespace the input lacks is not judged (a label may name its gateway)', () => {
  const withoutNs = [...baseCluster().filter((d) => d.kind !== 'Namespace'), ...gateways({ bDefault: false }), unnamed('jobs', 'p'), unnamedCluster('cp')];
  assert.deepEqual(
    crossCheck(snapshotOf(withoutNs)).map((p) => `${p.object} ${p.reason}`),
    ['EgressClusterPolicy "cp" GatewayNotFound'],
  );
  const withNs = [...withoutNs, namespace('jobs')];
  assert.deepEqual(
    crossCheck(snapshotOf(withNs)).map((p) => `${p.object} ${p.reason}`),
    ['EgressPolicy "jobs/p" GatewayNotFound', 'EgressClusterPolicy "cp" GatewayNotFound'],
  );
});
