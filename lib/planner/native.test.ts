import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plan } from './plan.js';
import { API_VERSION, LAN_ANNOTATION } from '../api/group.js';
import { parseDocument } from '../api/parse-document.js';
import type { NodePlan } from './node-plan.js';
import { ruleText } from './nft/render.js';
import { gateway, lanMac as mac, lanTunnel, namespace, node, pod, policy, snapshotOf } from './testing/cluster.js';

type Doc = Record<string, unknown>;

function cluster(opts: { transport?: string; workerLan?: string; gatewayLan?: string; lan?: boolean; extraGateway?: Doc } = {}): Doc[] {
  const lan = opts.lan ?? true;
  return [
    node('worker-1', 1),
    node('gateway-1', 2, { labels: { egress: 'true' } }),
    node('gateway-2', 3, { labels: { egress: 'true' } }),
    namespace('default'),
    gateway('default', {
      transport: opts.transport ?? 'native',
      nodeSelector: { selector: { matchLabels: { egress: 'true' } } },
      ippools: { ipv4: ['198.18.0.100-198.18.0.120'], ipv4DefaultEIP: '198.18.0.110' },
    }),
    ...(opts.extraGateway ? [opts.extraGateway] : []),
    ...(lan ? [lanTunnel('worker-1', 1, opts.workerLan), lanTunnel('gateway-1', 2, opts.gatewayLan), lanTunnel('gateway-2', 3, opts.gatewayLan?.replace(/\.12\//, '.13/'))] : []),
    pod('default', 'visitor', 'worker-1', ['10.244.1.5'], { app: 'visitor' }),
    policy('default', 'test', { egressGatewayName: 'default', appliedTo: { podSelector: { matchLabels: { app: 'visitor' } } } }),
  ];
}

const chainText = (p: NodePlan, chain: string) => p.nft.chains.find((c) => c.name === chain)!.rules.map(ruleText);
const nodeIp = (name: string) => ({ 'worker-1': '198.18.0.11', 'gateway-1': '198.18.0.12', 'gateway-2': '198.18.0.13' })[name]!;

function carrierOf(docs: Doc[]): string {
  const n = plan(snapshotOf(docs), 'worker-1').policies.find((p) => p.key === 'default/test')!.node;
  assert.ok(n);
  return n;
}

/** The worker's route for packets marked for `gw`, through its rule. */
function routeFor(worker: NodePlan, gw: string) {
  const mark = worker.marks.gateways[gw]!;
  const table = worker.routing.rules.find((r) => r.fwmark === mark && !r.iifLo)?.table;
  return worker.routing.routes.find((r) => r.table === table && r.dst === 'default');
}

test('spec.transport: vxlan by default, native when asked, anything else refused with a stable reason', () => {
  const gw = (spec: Doc) => parseDocument({ apiVersion: API_VERSION, kind: 'EgressGateway', metadata: { name: 'g' }, spec: { nodeSelector: { selector: {} }, ...spec } });
  const transportOf = (spec: Doc) => {
    const o = gw(spec).object;
    return o?.kind === 'EgressGateway' ? o.value.transport : undefined;
  };
  assert.equal(transportOf({}), 'vxlan');
  assert.equal(transportOf({ transport: 'native' }), 'native');
  const bad = gw({ transport: 'geneve' });
  assert.equal(bad.object, undefined);
  assert.deepEqual(
    bad.problems.map((p) => [p.reason, p.path]),
    [['InvalidValue', 'spec.transport']],
  );
});

test('the lan annotation: a MAC and one address per family; anything else is ignored whole', () => {
  const tunnelWith = (value: string) => {
    const o = parseDocument({ apiVersion: API_VERSION, kind: 'EgressTunnel', metadata: { name: 'n', annotations: { [LAN_ANNOTATION]: value } } }).object;
    return o?.kind === 'EgressTunnel' ? o.value.lan : 'not a tunnel';
  };
  assert.deepEqual(tunnelWith('02:aa:00:00:00:01 198.18.0.11/24 fd00::11/64'), { mac: '02:aa:00:00:00:01', addresses: ['198.18.0.11/24', 'fd00::11/64'] });
  for (const bad of [
    '198.18.0.11/24',
    '03:aa:00:00:00:01 198.18.0.11/24',
    '02:AA:00:00:00:01 198.18.0.11/24',
    '02:aa:00:00:00:01',
    '02:aa:00:00:00:01 198.18.0.11',
    '02:aa:00:00:00:01 198.18.0.11/33',
    '02:aa:00:00:00:01 198.18.0.11/24 198.18.0.12/24',
  ]) {
    assert.equal(tunnelWith(bad), undefined, bad);
  }
});

test('native worker: marked traffic routes to the carrier node LAN address on the LAN NIC, keeps the pod source, and may leave by no other path', () => {
  const docs = cluster();
  const gw = carrierOf(docs);
  const worker = plan(snapshotOf(docs), 'worker-1');
  const route = routeFor(worker, gw);
  assert.deepEqual(route && { via: route.via, dev: route.dev }, { via: nodeIp(gw), dev: 'eth0' }, 'the next hop is the gateway node itself, no tunnel');
  assert.ok(!worker.routing.rules.some((r) => r.iifLo && r.fwmark === worker.marks.gateways[gw]), 'no outer packet to keep out of the table');
  const mark = `0x${worker.marks.gateways[gw]!.toString(16).padStart(8, '0')}`;
  const forward = chainText(worker, 'egress_forward');
  const accept = forward.findIndex((r) => r === `meta mark & 0x0000007f == ${mark} oifname "eth0" rt ip nexthop ${nodeIp(gw)} accept`);
  const offTunnel = forward.findIndex((r) => r.includes('marked off the tunnel'));
  assert.ok(accept >= 0 && accept < offTunnel, 'only the planned next hop escapes the fail-closed drop');
  assert.ok(
    chainText(worker, 'egress_snat').includes('oifname "eth0" rt ip nexthop { 198.18.0.12, 198.18.0.13 } ip daddr != @cluster4 snat ip to ip saddr'),
    'no masquerade takes the pod source',
  );
  // failover: the other gateway node's table is there before it carries anything
  const other = gw === 'gateway-1' ? 'gateway-2' : 'gateway-1';
  assert.equal(routeFor(worker, other)?.via, nodeIp(other));
  assert.equal(worker.notices, undefined);
});

test('native gateway: takes pod packets from the LAN NIC only from nodes’ MACs, replies via the worker LAN address, never relays LAN to LAN unmarked', () => {
  const docs = cluster();
  const gw = carrierOf(docs);
  const gateway = plan(snapshotOf(docs), gw);
  const prefix = gateway.policies.find((p) => p.key === 'default/test')!.setPrefix;
  const mark = chainText(gateway, 'egress_mark');
  const otherMac = gw === 'gateway-1' ? mac(3) : mac(2);
  assert.ok(
    mark.some(
      (r) =>
        r.startsWith(`iifname "eth0" ether saddr { ${[mac(1), otherMac].sort().join(', ')} } ct direction original ip saddr @${prefix}_all4`) &&
        r.includes('comment "native default/test"'),
    ),
    mark.join('\n'),
  );
  assert.ok(!mark.some((r) => r.includes(mac(gw === 'gateway-1' ? 2 : 3))), 'not its own MAC');
  assert.ok(
    gateway.routing.routes.some((r) => r.table === 3000 && r.dst === '10.244.1.0/24' && r.via === '198.18.0.11' && r.dev === 'eth0'),
    'replies to the worker LAN address',
  );
  assert.ok(
    chainText(gateway, 'egress_forward').some(
      (r) => r.startsWith('iifname "eth0" oifname "eth0" ct direction original ip saddr @cluster4 meta mark & 0x0000007f != 0x0000007f counter') && r.includes('drop'),
    ),
  );
  assert.ok(gateway.sysctls.some((s) => s.key === 'net.ipv4.conf.eth0.rp_filter' && s.value === '2'));
});

test('a vxlan gateway plans no native rule, route or sysctl', () => {
  const docs = cluster({ transport: 'vxlan' });
  const gw = carrierOf(docs);
  const worker = plan(snapshotOf(docs), 'worker-1');
  assert.equal(routeFor(worker, gw)?.dev, 'egress.vxlan');
  const gateway = plan(snapshotOf(docs), gw);
  for (const p of [worker, gateway]) {
    assert.ok(!p.nft.chains.some((c) => c.rules.map(ruleText).some((r) => r.includes('ether saddr') || r.includes('nexthop') || r.includes('native relay'))));
    assert.ok(!p.sysctls.some((s) => s.key.includes('eth0')));
  }
});

for (const [name, opts, why] of [
  ['whose prefix leaves the gateway node out', { workerLan: '198.18.0.11/30' }, /worker-1 198\.18\.0\.11\/30 and gateway-\d 198\.18\.0\.1[23]\/24 are not on one prefix/],
  ["that the gateway node's prefix leaves out", { gatewayLan: '198.18.0.12/30' }, /worker-1 198\.18\.0\.11\/24 and gateway-\d 198\.18\.0\.1[23]\/30 are not on one prefix/],
  ['whose published LAN address is not its node address', { workerLan: '198.18.1.11/24' }, /no IPv4 LAN address of "worker-1" is known/],
  ['with no published LAN address', { lan: false }, /no IPv4 LAN address of "worker-1" and "gateway-\d" is known/],
] as const) {
  test(`a worker ${name} is not on the gateway node's segment: it fails closed for that gateway, with a notice, and the gateway does not take its MAC`, () => {
    const docs = cluster(opts);
    const gw = carrierOf(docs);
    const worker = plan(snapshotOf(docs), 'worker-1');
    assert.equal(routeFor(worker, gw), undefined, 'no table towards the gateway node');
    const prefix = worker.policies.find((p) => p.key === 'default/test')!.setPrefix;
    assert.ok(
      chainText(worker, 'egress_mark').some((r) => r.includes(`@${prefix}_loc4`) && r.endsWith('drop comment "worker default/test"')),
      'its selected pods’ traffic is dropped, never sent with the pod address',
    );
    assert.ok(
      worker.notices?.some((n) => n.startsWith(`policy default/test: gateway node "${gw}" is reached by native routing, but this node is not on its LAN segment`) && why.test(n)),
      JSON.stringify(worker.notices),
    );
    const gateway = plan(snapshotOf(docs), gw);
    assert.ok(!chainText(gateway, 'egress_mark').some((r) => r.includes(mac(1))), 'the worker MAC is not taken for a node on this segment');
    assert.ok(!gateway.routing.routes.some((r) => r.dst === '10.244.1.0/24'), 'no reply route to a worker off the segment');
  });
}

test('a node that gateways of both transports select is reached by VXLAN, and the plan says why', () => {
  const docs = cluster({
    extraGateway: gateway('tunnelled', { transport: 'vxlan', nodeSelector: { selector: { matchLabels: { egress: 'true' } } }, ippools: { ipv4: ['198.18.0.130'] } }),
  });
  const gw = carrierOf(docs);
  const worker = plan(snapshotOf(docs), 'worker-1');
  assert.equal(routeFor(worker, gw)?.dev, 'egress.vxlan');
  assert.ok(worker.notices?.some((n) => n.includes(`node "${gw}": gateways "default" ask for transport native, "tunnelled" for vxlan; workers reach the node by VXLAN`)));
});

test('failover in native mode: when the carrier is not ready, workers steer to the next owner by its mark and its native table', () => {
  const docs = cluster();
  const gw = carrierOf(docs);
  const index = gw === 'gateway-1' ? 2 : 3;
  const down = docs.map((d) => (d.kind === 'Node' && (d.metadata as { name: string }).name === gw ? node(gw, index, { labels: { egress: 'true' }, ready: false }) : d));
  const next = carrierOf(down);
  assert.notEqual(next, gw);
  const worker = plan(snapshotOf(down), 'worker-1');
  const prefix = worker.policies.find((p) => p.key === 'default/test')!.setPrefix;
  const markText = `0x${worker.marks.gateways[next]!.toString(16).padStart(8, '0')}`;
  assert.ok(chainText(worker, 'egress_mark').some((r) => r.includes(`@${prefix}_loc4`) && r.includes(`| ${markText}`)));
  assert.equal(routeFor(worker, next)?.via, nodeIp(next));
  const successor = plan(snapshotOf(down), next);
  assert.deepEqual(
    successor.eips.map((e) => e.ip),
    ['198.18.0.110'],
  );
});
