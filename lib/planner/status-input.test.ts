/**
 * EgressClusterInfo status and endpoint slices are written by the controller, but they reach
 * every node's plan: whatever could forge them (a wrong RBAC grant, a compromised identity) must
 * not widen the cluster set, take a policy's EIP away or send traffic elsewhere. Each test plans
 * from what an agent sees: its own Node, the gateway nodes, every node's EgressTunnel, slices.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plan } from './plan.js';
import type { NodePlan } from './node-plan.js';
import { baseCluster, clusterInfo, endpointSlice, node, nodeTunnel, policy, snapshotOf } from './testing/cluster.js';

type Doc = Record<string, unknown>;

const WORKER_2 = 'worker-2'; // node index 4, never in view: only its tunnel and status name it
const tunnels = [nodeTunnel('worker-1', 1), nodeTunnel('gateway-1', 2, 1), nodeTunnel('gateway-2', 3, 2), nodeTunnel(WORKER_2, 4)];
const honestStatus = {
  podCIDR: { ipv4: ['10.244.1.0/24', '10.244.2.0/24', '10.244.3.0/24', '10.244.4.0/24'] },
  clusterIP: { ipv4: ['10.96.0.0/12'] },
  nodeIP: { ipv4: ['198.18.0.11', '198.18.0.12', '198.18.0.13', '198.18.0.14'] },
};
const onGateway1 = { eip: { ipv4: '198.18.0.110' }, node: 'gateway-1' };
const visitorPolicy = policy('default', 'test', { egressGatewayName: 'default', appliedTo: { podSelector: { matchLabels: { app: 'visitor' } } } }, { status: onGateway1 });
const visitorEndpoint = { ns: 'default', pod: 'visitor', node: 'worker-1', ipv4: ['10.244.1.5'] };

/** What the agent on `self` watches: its own Node and the gateway nodes, every tunnel, slices, cluster info. */
function agentView(self: string, extra: Doc[]): Doc[] {
  const inView = (d: Doc) => d['kind'] !== 'Node' || [self, 'gateway-1', 'gateway-2'].includes((d['metadata'] as { name: string }).name);
  return [...baseCluster().filter(inView), ...tunnels, ...extra];
}

const clusterSet = (p: NodePlan) => p.nft.sets.find((s) => s.name === 'cluster4')!.elements;
const notices = (p: NodePlan) => (p.notices ?? []).join('\n');

test('honest EgressClusterInfo status: the pod CIDRs of nodes out of view count as inside the cluster, nothing is reported', () => {
  const w = plan(snapshotOf(agentView('worker-1', [clusterInfo(honestStatus), visitorPolicy, endpointSlice('default', 'test-1', 'test', [visitorEndpoint])])), 'worker-1');
  assert.deepEqual(clusterSet(w), ['10.96.0.0/12', '10.244.1.0-10.244.4.255', '198.18.0.11-198.18.0.14']);
  assert.equal(notices(w), '');
  assert.equal(w.policies[0]!.active, true);
});

test('forged EgressClusterInfo status: node IPs, service CIDRs and implausible pod CIDRs are not taken from it, and the plan says so', () => {
  const forged = {
    podCIDR: { ipv4: ['0.0.0.0/0', '198.18.0.0/24', '172.31.0.0/24', '10.96.0.0/16', '10.244.4.0/24'] },
    clusterIP: { ipv4: ['0.0.0.0/0'] },
    nodeIP: { ipv4: ['0.0.0.0/0', '8.8.8.8'] },
  };
  const w = plan(snapshotOf(agentView('worker-1', [clusterInfo(forged), visitorPolicy, endpointSlice('default', 'test-1', 'test', [visitorEndpoint])])), 'worker-1');
  // worker-2's pod CIDR is still taken from status; its address comes from its EgressTunnel
  assert.deepEqual(clusterSet(w), ['10.96.0.0/12', '10.244.1.0-10.244.4.255', '198.18.0.11-198.18.0.14']);
  const text = notices(w);
  assert.match(text, /status\.nodeIP: 0\.0\.0\.0\/0 \(not a node's address\), 8\.8\.8\.8 \(not a node's address\) not used/);
  assert.match(text, /status\.clusterIP: 0\.0\.0\.0\/0 \(not a configured service CIDR\) not used/);
  assert.match(
    text,
    /status\.podCIDR: 0\.0\.0\.0\/0 \(a default route\), 198\.18\.0\.0\/24 \(holds node address 198\.18\.0\.1\d\), 172\.31\.0\.0\/24 \(overlaps the tunnel range\) and 1 more not used/,
  );
  const rule = w.nft.chains.find((c) => c.name === 'egress_mark')!.rules.filter((r) => r.comment === 'worker default/test');
  assert.equal(rule.length, 1, 'the pod is still marked for its gateway');
});

test('status naming the EIP as a node address or inside a pod CIDR does not make the policy inactive', () => {
  for (const forged of [
    { ...honestStatus, nodeIP: { ipv4: ['198.18.0.110'] } },
    { ...honestStatus, podCIDR: { ipv4: ['198.18.0.0/24'] } },
  ]) {
    for (const self of ['worker-1', 'gateway-1']) {
      const p = plan(snapshotOf(agentView(self, [clusterInfo(forged), visitorPolicy, endpointSlice('default', 'test-1', 'test', [visitorEndpoint])])), self);
      assert.deepEqual([p.policies[0]!.active, p.policies[0]!.reason], [true, undefined], `${self}: ${JSON.stringify(forged)}`);
    }
  }
});

test('podCidrMode none: pod CIDRs are neither taken from status nor from the nodes', () => {
  const docs = agentView('worker-1', [clusterInfo(honestStatus, { autoDetect: { podCidrMode: 'none' }, extraCidr: ['10.244.0.0/16'] })]);
  const w = plan(snapshotOf(docs), 'worker-1');
  assert.deepEqual(clusterSet(w), ['10.96.0.0/12', '10.244.0.0/16', '198.18.0.11-198.18.0.14']);
  assert.match(notices(w), /status\.podCIDR: 10\.244\.1\.0\/24 \(podCidrMode is none\)/);
});

test('forged endpoint slices: only addresses that can be pods of the policy reach the gateway sets and reply routes', () => {
  const docs = agentView('gateway-1', [
    clusterInfo(honestStatus),
    visitorPolicy,
    endpointSlice('default', 'test-1', 'test', [visitorEndpoint]),
    endpointSlice('default', 'forged', 'test', [
      // the LAN: a node, the external host, an egress IP; the service and tunnel ranges
      { ns: 'default', pod: 'hosts', node: 'worker-1', ipv4: ['198.18.0.11', '198.18.0.2', '198.18.0.105', '10.96.0.10', '172.31.0.9'] },
      // another node's pods: gateway-2's pod CIDR is in view; worker-1's is known from status
      { ns: 'default', pod: 'thief-1', node: 'worker-1', ipv4: ['10.244.3.7'] },
      { ns: 'default', pod: 'thief-2', node: 'gateway-2', ipv4: ['10.244.1.5'] },
      { ns: 'other', pod: 'tenant', node: 'worker-1', ipv4: ['10.244.1.9'] },
      { ns: 'default', pod: 'ghost', node: 'ghost', ipv4: ['10.244.1.10'] },
    ]),
  ]);
  const g = plan(snapshotOf(docs), 'gateway-1');
  const prefix = g.policies[0]!.setPrefix;
  assert.equal(g.policies[0]!.role, 'gateway');
  assert.deepEqual(g.nft.sets.find((s) => s.name === `${prefix}_all4`)!.elements, ['10.244.1.5']);
  assert.deepEqual(
    g.routing.routes.filter((r) => r.table === 3000).map((r) => `${r.dst} via ${r.via}`),
    ['10.244.1.5/32 via 172.31.0.1'],
  );
  assert.deepEqual(g.policies[0]!.totalEndpoints, 1);
  const text = notices(g);
  assert.match(
    text,
    /EgressEndpointSlice "default\/forged": 10\.96\.0\.10 of default\/hosts \(in service CIDR 10\.96\.0\.0\/12\), 172\.31\.0\.9 of default\/hosts \(in the tunnel range\), 198\.18\.0\.105 of default\/hosts \(outside the cluster's pod CIDRs and extraCidr\) and 6 more not used/,
  );
});

test('forged endpoint slices: the worker marks only its own pods', () => {
  const docs = agentView('worker-1', [
    clusterInfo(honestStatus),
    visitorPolicy,
    endpointSlice('default', 'test-1', 'test', [visitorEndpoint, { ns: 'default', pod: 'lan', node: 'worker-1', ipv4: ['198.18.0.2', '10.244.2.9'] }]),
  ]);
  const w = plan(snapshotOf(docs), 'worker-1');
  assert.deepEqual(w.nft.sets.find((s) => s.name === `${w.policies[0]!.setPrefix}_loc4`)!.elements, ['10.244.1.5']);
  assert.match(
    notices(w),
    /10\.244\.2\.9 of default\/lan \(in the pod CIDR of node "gateway-1", not "worker-1"\), 198\.18\.0\.2 of default\/lan \(outside the cluster's pod CIDRs and extraCidr\) not used/,
  );
});

test("a gateway pool holding a pod's address does not take the pod off its policy (the pool is reported instead)", () => {
  const docs = agentView('worker-1', [
    clusterInfo(honestStatus),
    {
      apiVersion: 'egress.sluice.dev/v1alpha1',
      kind: 'EgressGateway',
      metadata: { name: 'careless' },
      spec: { nodeSelector: { selector: { matchLabels: { none: 'x' } } }, ippools: { ipv4: ['10.244.1.5'] } },
    },
    visitorPolicy,
    endpointSlice('default', 'test-1', 'test', [visitorEndpoint]),
  ]);
  const w = plan(snapshotOf(docs), 'worker-1');
  assert.deepEqual(w.nft.sets.find((s) => s.name === `${w.policies[0]!.setPrefix}_loc4`)!.elements, ['10.244.1.5']);
  assert.equal(notices(w), '');
});

test('without known pod CIDRs, a gateway pool address is not a pod', () => {
  const docs = agentView('gateway-1', [
    clusterInfo(honestStatus, { autoDetect: { podCidrMode: 'none' } }),
    visitorPolicy,
    endpointSlice('default', 'test-1', 'test', [visitorEndpoint, { ns: 'default', pod: 'lan', node: 'worker-1', ipv4: ['198.18.0.105'] }]),
  ]);
  const g = plan(snapshotOf(docs), 'gateway-1');
  assert.deepEqual(g.nft.sets.find((s) => s.name === `${g.policies[0]!.setPrefix}_all4`)!.elements, ['10.244.1.5']);
  assert.match(notices(g), /198\.18\.0\.105 of default\/lan \(in the pool of gateway "default"\)/);
});

test('a podSubnet policy: slice addresses outside its podSubnet are not used', () => {
  const subnetPolicy = policy('default', 'test', { egressGatewayName: 'default', appliedTo: { podSubnet: ['10.244.1.0/28'] } }, { status: onGateway1 });
  const docs = agentView('worker-1', [
    clusterInfo(honestStatus),
    subnetPolicy,
    endpointSlice('default', 'test-1', 'test', [visitorEndpoint, { ns: 'default', pod: 'far', node: 'worker-1', ipv4: ['10.244.1.77'] }]),
  ]);
  const w = plan(snapshotOf(docs), 'worker-1');
  assert.deepEqual(w.nft.sets.find((s) => s.name === `${w.policies[0]!.setPrefix}_loc4`)!.elements, ['10.244.1.5']);
  assert.match(notices(w), /10\.244\.1\.77 of default\/far \(outside the policy's podSubnet\)/);
});

test('the checks do not need anything the controller has not written: a node added later is planned as soon as its tunnel exists', () => {
  const late = [node('worker-3', 5), nodeTunnel('worker-3', 5)];
  const docs = agentView('gateway-1', [
    clusterInfo(honestStatus),
    visitorPolicy,
    endpointSlice('default', 'test-1', 'test', [{ ns: 'default', pod: 'new', node: 'worker-3', ipv4: ['10.244.5.3'] }]),
  ]);
  const before = plan(snapshotOf(docs), 'gateway-1');
  assert.equal(before.policies[0]!.totalEndpoints, 0, 'unknown node, and its pod CIDR not in status yet');
  const after = plan(
    snapshotOf([
      ...docs.filter((d) => d['kind'] !== 'EgressClusterInfo'),
      ...late.slice(1),
      clusterInfo({ ...honestStatus, podCIDR: { ipv4: [...honestStatus.podCIDR.ipv4, '10.244.5.0/24'] }, nodeIP: { ipv4: [...honestStatus.nodeIP.ipv4, '198.18.0.15'] } }),
    ]),
    'gateway-1',
  );
  assert.equal(after.policies[0]!.totalEndpoints, 1);
});
