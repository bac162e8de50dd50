import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plan } from './plan.js';
import { API_VERSION } from '../api/group.js';
import type { NodePlan, PolicyPlan } from './node-plan.js';
import { ruleText } from './nft/render.js';
import { baseCluster, clusterPolicy, namespace, node, pod, policy, snapshotOf, tunnel } from './testing/cluster.js';

const visitorPolicy = (spec: Record<string, unknown> = {}) =>
  policy('default', 'test', { egressGatewayName: 'default', appliedTo: { podSelector: { matchLabels: { app: 'visitor' } } }, ...spec });

const visitor = pod('default', 'visitor', 'worker-1', ['10.244.1.5'], { app: 'visitor' });
const other = pod('default', 'other', 'worker-1', ['10.244.1.6'], { app: 'other' });

function only(p: NodePlan, key = 'default/test'): PolicyPlan {
  const found = p.policies.find((x) => x.key === key);
  assert.ok(found, `policy ${key} in plan`);
  return found;
}

function set(p: NodePlan, suffix: string, prefix = only(p).setPrefix): readonly string[] | undefined {
  return p.nft.sets.find((s) => s.name === `${prefix}_${suffix}`)?.elements;
}

/** Rules of a chain as nft text (the planner holds them as typed statements). */
function chainText(p: NodePlan, chain: string): readonly string[] {
  return p.nft.chains.find((c) => c.name === chain)!.rules.map(ruleText);
}

const markRules = (p: NodePlan) => chainText(p, 'egress_mark');
const snatRules = (p: NodePlan) => chainText(p, 'egress_snat');

/** The gateway node carrying the policy (rendezvous hashing decides which). */
function carrier(docs: Record<string, unknown>[], key = 'default/test'): string {
  const n = plan(snapshotOf(docs), 'worker-1').policies.find((x) => x.key === key)!.node;
  assert.ok(n, 'policy has a gateway node');
  return n;
}

test('seed 002: the visitor pod is marked into the tunnel on its worker and SNATed to the default EIP on the gateway', () => {
  const docs = [...baseCluster(), visitor, other, visitorPolicy()];
  const gw = carrier(docs);
  const worker = plan(snapshotOf(docs), 'worker-1');
  assert.deepEqual(worker.roles, { worker: true, gateway: false });
  assert.deepEqual(set(worker, 'loc4'), ['10.244.1.5'], 'only the selected pod');
  const mark = worker.marks.gateways[gw]!;
  assert.ok(markRules(worker).some((r) => r.includes(`saddr @${only(worker).setPrefix}_loc4`) && r.includes(`| 0x${mark.toString(16).padStart(8, '0')}`)));
  const markTable = worker.routing.rules.find((r) => r.fwmark === mark && !r.iifLo)?.table;
  const table = worker.routing.routes.find((r) => r.table === markTable);
  assert.ok(table && table.dst === 'default' && table.dev === 'egress.vxlan', 'a tunnel route towards the gateway');
  assert.ok(
    worker.routing.rules.some((r) => r.iifLo && r.fwmark === mark && r.table === 254),
    'outer packets skip the tunnel table',
  );
  assert.equal(only(worker).snatV4, '198.18.0.110');

  const gateway = plan(snapshotOf(docs), gw);
  assert.deepEqual(gateway.roles, { worker: false, gateway: true });
  assert.deepEqual(
    gateway.eips.map((e) => e.ip),
    ['198.18.0.110'],
  );
  assert.ok(snatRules(gateway).some((r) => r.includes('snat ip to 198.18.0.110')));
  assert.deepEqual(set(gateway, 'all4'), ['10.244.1.5']);
  assert.ok(
    gateway.routing.routes.some((r) => r.dst === '10.244.1.0/24' && r.table === 3000),
    'replies go back through the tunnel',
  );
  assert.ok(gateway.vxlan?.peers.some((p) => p.node === 'worker-1'));
});

test('tunnels are prepared before a policy needs them: every node routes to every gateway-capable node, which has every node as a peer', () => {
  const docs = [...baseCluster(), node('idle', 4)];
  const idle = plan(snapshotOf(docs), 'idle');
  assert.deepEqual(
    idle.vxlan?.peers.map((p) => p.node),
    ['gateway-1', 'gateway-2'],
    'an idle node has the gateway nodes as peers',
  );
  const tables = idle.routing.routes
    .filter((r) => r.dst === 'default')
    .map((r) => r.table)
    .sort();
  assert.equal(tables.length, 2, 'a table towards each gateway node');
  assert.deepEqual(
    idle.nft.chains.find((c) => c.name === 'egress_mark')!.rules.filter((r) => ruleText(r).includes('meta mark set')),
    [],
    'and no packet is marked into them',
  );
  const gateway = plan(snapshotOf(docs), 'gateway-1');
  assert.deepEqual(
    gateway.vxlan?.peers.map((p) => p.node),
    ['gateway-2', 'idle', 'worker-1'],
    'a gateway node has every node as a peer',
  );
  assert.ok(!gateway.routing.rules.some((r) => r.table === 3000), 'but routes no reply before it carries a policy');
  // The first selected pod on the idle node changes its nft table and nothing else.
  const withPod = plan(snapshotOf([...docs, pod('default', 'visitor', 'idle', ['10.244.4.5'], { app: 'visitor' }), visitorPolicy()]), 'idle');
  assert.deepEqual([withPod.vxlan, withPod.routing], [idle.vxlan, idle.routing]);
  assert.notDeepEqual(withPod.nft, idle.nft);
  // A gateway node that is not Ready stays prepared: its failover and its return change nft alone.
  const down = [...docs.filter((d) => (d.metadata as { name?: string }).name !== 'gateway-2'), node('gateway-2', 3, { labels: { egress: 'true' }, ready: false })];
  const idleWhileDown = plan(snapshotOf(down), 'idle');
  assert.deepEqual([idleWhileDown.vxlan, idleWhileDown.routing], [idle.vxlan, idle.routing]);
});

test('every node has its tunnel device, with the MAC and address its EgressTunnel publishes, serving a policy or not', () => {
  const docs = [
    node('worker-1', 1),
    node('idle', 4),
    namespace('default'),
    tunnel('idle', { tunnel: { ipv4: '172.31.0.9', mac: '02:00:00:00:00:09', parent: { name: 'eth0', ipv4: '198.18.0.14' } } }),
  ];
  for (const name of ['worker-1', 'idle']) {
    const p = plan(snapshotOf(docs), name);
    assert.equal(p.vxlan?.device, 'egress.vxlan', `${name} has the device, without any gateway in the cluster`);
    assert.deepEqual(p.vxlan?.peers, [], `${name} has no peer`);
    assert.deepEqual(p.routing.routes, [], `${name} routes nothing into it`);
  }
  const idle = plan(snapshotOf(docs), 'idle').vxlan!;
  assert.deepEqual([idle.mac, idle.addressV4], ['02:00:00:00:00:09', '172.31.0.9/16']);
});

test('cluster destinations (pod CIDRs, service CIDR, node IPs) never take the gateway', () => {
  const p = plan(snapshotOf([...baseCluster(), visitor, visitorPolicy()]), 'worker-1');
  const cluster4 = p.nft.sets.find((s) => s.name === 'cluster4')!.elements;
  assert.deepEqual([...cluster4], ['10.96.0.0/12', '10.244.1.0-10.244.3.255', '198.18.0.11-198.18.0.13'], 'merged for nft');
  const rules = markRules(p);
  const clusterReturn = rules.findIndex((r) => r === 'ip daddr @cluster4 return');
  const policyRule = rules.findIndex((r) => r.includes('worker default/test'));
  assert.ok(clusterReturn >= 0 && clusterReturn < policyRule, 'cluster return comes before any policy');
});

interface Case {
  name: string;
  docs: Record<string, unknown>[];
  check: (worker: NodePlan, gateway: NodePlan | undefined) => void;
}

const cases: Case[] = [
  {
    name: 'a cluster-wide podSubnet selects by source CIDR with an interval set',
    docs: [...baseCluster(), visitor, other, clusterPolicy('test', { egressGatewayName: 'default', appliedTo: { podSubnet: ['10.244.1.0/28'] } })],
    check: (w) => {
      const p = only(w, 'test');
      assert.deepEqual(set(w, 'net4', p.setPrefix), ['10.244.1.0/28']);
      assert.equal(p.localEndpoints, 2);
      assert.ok(markRules(w).some((r) => r.includes(`@${p.setPrefix}_net4`)));
    },
  },
  {
    name: "a namespaced podSubnet matches only its own namespace's pods, by address, in the kernel too",
    docs: [
      ...baseCluster(),
      namespace('tenant-b'),
      visitor,
      pod('tenant-b', 'victim', 'worker-1', ['10.244.1.7'], { app: 'x' }),
      policy('default', 'test', { egressGatewayName: 'default', priority: 1000, appliedTo: { podSubnet: ['10.244.1.0/24'] } }),
    ],
    check: (w, g) => {
      assert.deepEqual(set(w, 'loc4'), ['10.244.1.5'], "only the default namespace's pod");
      assert.equal(set(w, 'net4'), undefined, 'no CIDR match');
      assert.ok(!JSON.stringify(w.nft).includes('10.244.1.0/24'), 'the subnet itself appears nowhere in the ruleset');
      assert.deepEqual(set(g!, 'all4'), ['10.244.1.5'], 'the gateway relays and SNATs only that pod');
    },
  },
  {
    name: 'a podSubnet with a namespaceSelector matches only pods of the selected namespaces',
    docs: [
      ...baseCluster(),
      namespace('prod', { env: 'prod' }),
      namespace('dev', { env: 'dev' }),
      pod('prod', 'a', 'worker-1', ['10.244.1.7'], { app: 'x' }),
      pod('dev', 'b', 'worker-1', ['10.244.1.8'], { app: 'x' }),
      clusterPolicy('test', { egressGatewayName: 'default', appliedTo: { podSubnet: ['10.244.1.0/24'], namespaceSelector: { matchLabels: { env: 'prod' } } } }),
    ],
    check: (w) => {
      assert.deepEqual(set(w, 'loc4', only(w, 'test').setPrefix), ['10.244.1.7']);
      assert.equal(set(w, 'net4', only(w, 'test').setPrefix), undefined);
    },
  },
  {
    name: 'namespaceSelector limits an EgressClusterPolicy to matching namespaces',
    docs: [
      ...baseCluster(),
      namespace('prod', { env: 'prod' }),
      namespace('dev', { env: 'dev' }),
      pod('prod', 'a', 'worker-1', ['10.244.1.7'], { app: 'x' }),
      pod('dev', 'b', 'worker-1', ['10.244.1.8'], { app: 'x' }),
      clusterPolicy('test', { egressGatewayName: 'default', appliedTo: { podSelector: { matchLabels: { app: 'x' } }, namespaceSelector: { matchLabels: { env: 'prod' } } } }),
    ],
    check: (w) => assert.deepEqual(set(w, 'loc4', only(w, 'test').setPrefix), ['10.244.1.7']),
  },
  {
    name: 'destSubnet limits the gateway path to the listed destinations',
    docs: [...baseCluster(), visitor, visitorPolicy({ destSubnet: ['198.18.1.0/24', '203.0.113.7'] })],
    check: (w) => {
      assert.deepEqual(set(w, 'dst4'), ['198.18.1.0/24', '203.0.113.7']);
      assert.ok(markRules(w).some((r) => r.includes(`ip daddr @${only(w).setPrefix}_dst4`)));
    },
  },
  {
    name: 'excludeDestSubnet removes destinations',
    docs: [...baseCluster(), visitor, visitorPolicy({ excludeDestSubnet: ['198.18.1.0/24'] })],
    check: (w, g) => {
      assert.deepEqual(set(w, 'exc4'), ['198.18.1.0/24']);
      assert.ok(markRules(w).some((r) => r.includes(`ip daddr != @${only(w).setPrefix}_exc4`)));
      assert.ok(snatRules(g!).some((r) => r.includes(`ip daddr != @${only(w).setPrefix}_exc4`)));
    },
  },
  {
    name: 'an explicit ipv4 inside the pool is used',
    docs: [...baseCluster(), visitor, visitorPolicy({ egressIP: { ipv4: '198.18.0.115' } })],
    check: (w, g) => {
      assert.equal(only(w).snatV4, '198.18.0.115');
      assert.deepEqual(
        g!.eips.map((e) => e.ip),
        ['198.18.0.115'],
      );
    },
  },
  {
    name: 'an explicit ipv4 outside the pool leaves the policy inactive with IPNotInPool',
    docs: [...baseCluster(), visitor, visitorPolicy({ egressIP: { ipv4: '198.18.0.200' } })],
    check: (w) => {
      assert.equal(only(w).active, false);
      assert.equal(only(w).reason, 'IPNotInPool');
      assert.match(only(w).message!, /198\.18\.0\.200 is not inside any pool of gateway "default"/);
      assert.ok(!markRules(w).some((r) => r.includes('default/test')), 'no rules: traffic keeps its normal path');
    },
  },
  {
    name: 'without ipv4DefaultEIP the first pool address is the default EIP',
    docs: [...baseCluster({ pool: { ipv4: ['198.18.0.100-198.18.0.120'] } }), visitor, visitorPolicy()],
    check: (w) => assert.equal(only(w).snatV4, '198.18.0.100'),
  },
  {
    name: 'useNodeIP SNATs to the gateway node IP and holds no EIP',
    docs: [...baseCluster(), visitor, visitorPolicy({ egressIP: { useNodeIP: true } })],
    check: (w, g) => {
      const expected = only(w).node === 'gateway-1' ? '198.18.0.12' : '198.18.0.13';
      assert.equal(only(w).snatV4, expected);
      assert.deepEqual(g!.eips, []);
      assert.ok(snatRules(g!).some((r) => r.includes(`snat ip to ${expected}`)));
    },
  },
  {
    name: 'two rr policies get two distinct pool addresses, never the default EIP',
    docs: [
      ...baseCluster(),
      visitor,
      pod('default', 'v2', 'worker-1', ['10.244.1.9'], { app: 'v2' }),
      policy(
        'default',
        'rr-a',
        { egressGatewayName: 'default', egressIP: { allocatorPolicy: 'rr' }, appliedTo: { podSelector: { matchLabels: { app: 'visitor' } } } },
        { created: '2026-01-01T00:00:01Z' },
      ),
      policy(
        'default',
        'rr-b',
        { egressGatewayName: 'default', egressIP: { allocatorPolicy: 'rr' }, appliedTo: { podSelector: { matchLabels: { app: 'v2' } } } },
        { created: '2026-01-01T00:00:02Z' },
      ),
    ],
    check: (w) => {
      assert.equal(only(w, 'default/rr-a').snatV4, '198.18.0.100');
      assert.equal(only(w, 'default/rr-b').snatV4, '198.18.0.101');
    },
  },
  {
    name: 'overlapping policies: the higher priority rule comes first',
    docs: [
      ...baseCluster(),
      visitor,
      policy('default', 'low', { egressGatewayName: 'default', appliedTo: { podSelector: { matchLabels: { app: 'visitor' } } } }, { created: '2026-01-01T00:00:00Z' }),
      policy(
        'default',
        'high',
        { egressGatewayName: 'default', priority: 10, egressIP: { ipv4: '198.18.0.111' }, appliedTo: { podSelector: { matchLabels: { app: 'visitor' } } } },
        { created: '2026-02-01T00:00:00Z' },
      ),
    ],
    check: (w) => {
      assert.deepEqual(
        w.policies.map((p) => p.key),
        ['default/high', 'default/low'],
      );
      const rules = markRules(w);
      assert.ok(rules.findIndex((r) => r.includes('default/high')) < rules.findIndex((r) => r.includes('default/low')));
    },
  },
  {
    name: 'equal priority: the older policy wins, then namespace/name',
    docs: [
      ...baseCluster(),
      visitor,
      policy('default', 'b-old', { egressGatewayName: 'default', appliedTo: { podSelector: { matchLabels: { app: 'visitor' } } } }, { created: '2026-01-01T00:00:00Z' }),
      policy('default', 'a-new', { egressGatewayName: 'default', appliedTo: { podSelector: { matchLabels: { app: 'visitor' } } } }, { created: '2026-03-01T00:00:00Z' }),
      policy('default', 'a-old', { egressGatewayName: 'default', appliedTo: { podSelector: { matchLabels: { app: 'visitor' } } } }, { created: '2026-01-01T00:00:00Z' }),
    ],
    check: (w) =>
      assert.deepEqual(
        w.policies.map((p) => p.key),
        ['default/a-old', 'default/b-old', 'default/a-new'],
      ),
  },
  {
    name: 'a missing gateway is reported and installs nothing for the policy',
    docs: [...baseCluster(), visitor, visitorPolicy({ egressGatewayName: 'nope' })],
    check: (w) => {
      assert.equal(only(w).reason, 'GatewayNotFound');
      assert.equal(w.roles.worker, false);
      assert.ok(!markRules(w).some((r) => r.includes('default/test')), 'no rule of the policy');
      // The tunnel towards the other gateway's nodes stays prepared, as on every node.
      assert.deepEqual(
        w.vxlan?.peers.map((p) => p.node),
        ['gateway-1', 'gateway-2'],
      );
    },
  },
  {
    name: 'no ready gateway node is reported',
    docs: [node('worker-1', 1), node('gateway-1', 2, { labels: { egress: 'true' }, ready: false }), namespace('default'), ...baseCluster().slice(4), visitor, visitorPolicy()],
    check: (w) => assert.equal(only(w).reason, 'NoReadyGatewayNode'),
  },
];

for (const c of cases) {
  test(c.name, () => {
    const snapshot = snapshotOf(c.docs);
    const worker = plan(snapshot, 'worker-1');
    const gwName = worker.policies.find((p) => p.node)?.node;
    c.check(worker, gwName ? plan(snapshot, gwName) : undefined);
  });
}

test('dual-stack: IPv6 EIP, ip6 rules, tunnel IPv6 routes', () => {
  const docs = [
    ...baseCluster({ ipv6: true, pool: { ipv4: ['198.18.0.100-198.18.0.120'], ipv6: ['fd00:198:18::100-fd00:198:18::1ff'] } }),
    pod('default', 'visitor', 'worker-1', ['10.244.1.5', 'fd00:10:244:1::5'], { app: 'visitor' }),
    visitorPolicy(),
  ];
  const w = plan(snapshotOf(docs), 'worker-1');
  assert.equal(only(w).snatV6, 'fd00:198:18::100');
  assert.deepEqual(set(w, 'loc6'), ['fd00:10:244:1::5']);
  assert.ok(markRules(w).some((r) => r.startsWith('iifname != { "egress.vxlan", "eth0" } ct direction original ip6 saddr')));
  assert.ok(w.routing.routes.some((r) => r.family === 6 && r.dst === 'default'));
  assert.ok(w.routing.rules.some((r) => r.family === 6 && r.iifLo));
  const g = plan(snapshotOf(docs), only(w).node!);
  assert.deepEqual(
    g.eips.map((e) => [e.ip, e.family]),
    [
      ['198.18.0.100', 4],
      ['fd00:198:18::100', 6],
    ],
  );
  assert.ok(snatRules(g).some((r) => r.includes('snat ip6 to fd00:198:18::100')));
  assert.ok(g.routing.routes.some((r) => r.family === 6 && r.dst === 'fd00:10:244:1::/64'));
  assert.ok(g.sysctls.some((s) => s.key === 'net.ipv6.conf.all.forwarding'));
});

test('a pod on the gateway node takes the local path, not the tunnel', () => {
  const base = [...baseCluster(), visitorPolicy()];
  const gw = carrier([...base, visitor]);
  const index = gw === 'gateway-1' ? 2 : 3;
  const docs = [...base, pod('default', 'visitor', gw, [`10.244.${index}.5`], { app: 'visitor' })];
  const g = plan(snapshotOf(docs), gw);
  assert.equal(only(g).role, 'gateway');
  assert.deepEqual(set(g, 'loc4'), [`10.244.${index}.5`]);
  assert.ok(markRules(g).some((r) => r.startsWith('iifname != { "egress.vxlan", "eth0" }') && r.includes('local default/test')));
  assert.ok(!g.routing.routes.some((r) => r.dst.startsWith(`10.244.${index}.`)), 'no reply route for its own pods');
  const ownTunnelIp = g.vxlan!.addressV4!.split('/')[0];
  assert.ok(!g.routing.routes.some((r) => r.via === ownTunnelIp), 'no route into the tunnel towards itself');
});

test('the plan follows status.node and status.eip written by the controller', () => {
  const base = [...baseCluster(), visitor];
  const computed = carrier([...base, visitorPolicy()]);
  const other = computed === 'gateway-1' ? 'gateway-2' : 'gateway-1';
  const docs = [
    ...base,
    policy(
      'default',
      'test',
      { egressGatewayName: 'default', appliedTo: { podSelector: { matchLabels: { app: 'visitor' } } } },
      { status: { eip: { ipv4: '198.18.0.110' }, node: other } },
    ),
  ];
  assert.equal(only(plan(snapshotOf(docs), 'worker-1')).node, other);
});

test('status naming a node that is no longer ready is not followed', () => {
  const docs = [
    node('worker-1', 1),
    node('gateway-1', 2, { labels: { egress: 'true' } }),
    node('gateway-2', 3, { labels: { egress: 'true' }, ready: false }),
    ...baseCluster().slice(3),
    visitor,
    policy(
      'default',
      'test',
      { egressGatewayName: 'default', appliedTo: { podSelector: { matchLabels: { app: 'visitor' } } } },
      { status: { eip: { ipv4: '198.18.0.110' }, node: 'gateway-2' } },
    ),
  ];
  assert.equal(only(plan(snapshotOf(docs), 'worker-1')).node, 'gateway-1');
});

test('determinism: shuffled input gives byte-identical plans', () => {
  const docs = [
    ...baseCluster({ ipv6: true, pool: { ipv4: ['198.18.0.100-198.18.0.120'], ipv6: ['fd00:198:18::100/120'] } }),
    ...Array.from({ length: 30 }, (_, i) =>
      pod('default', `p${i}`, i % 2 ? 'worker-1' : 'gateway-1', [`10.244.${i % 2 ? 1 : 2}.${i + 10}`, `fd00:10:244:${i % 2 ? 1 : 2}::${i + 10}`], { app: i % 3 ? 'visitor' : 'x' }),
    ),
    visitorPolicy({ destSubnet: ['198.18.5.0/24', 'fd00:ee::/64'] }),
    policy('default', 'rr', { egressGatewayName: 'default', egressIP: { allocatorPolicy: 'rr' }, appliedTo: { podSelector: { matchLabels: { app: 'x' } } } }),
  ];
  const shuffled = [...docs].reverse();
  for (const n of ['worker-1', 'gateway-1', 'gateway-2']) {
    assert.equal(JSON.stringify(plan(snapshotOf(docs), n)), JSON.stringify(plan(snapshotOf(shuffled), n)), n);
  }
});

test('planning an unknown node fails with a coded error', () => {
  assert.throws(() => plan(snapshotOf(baseCluster()), 'ghost'), { code: 'EGW_ERR_PLAN' });
});

test('EgressClusterInfo status lists CIDRs as users read them (not merged ranges)', async () => {
  const { computeClusterCidrs } = await import('./cluster-cidrs.js');
  const s = snapshotOf(baseCluster());
  const c = computeClusterCidrs(s.nodes, undefined, ['10.96.0.0/12', '10.96.1.0/24']);
  assert.deepEqual(c.podCIDR, ['10.244.1.0/24', '10.244.2.0/24', '10.244.3.0/24']);
  assert.deepEqual(c.clusterIP, ['10.96.0.0/12']);
  assert.deepEqual(c.nodeIP, ['198.18.0.11', '198.18.0.12', '198.18.0.13']);
});

test("pod-sourced packets arriving on the node's LAN NIC are spoofed: the mark rules skip it", () => {
  const tunnel = { apiVersion: API_VERSION, kind: 'EgressTunnel', metadata: { name: 'worker-1' }, status: { tunnel: { parent: { name: 'ens5' } } } };
  const w = plan(snapshotOf([...baseCluster(), visitor, visitorPolicy(), tunnel]), 'worker-1');
  const worker = markRules(w).filter((r) => r.includes('comment "worker '));
  assert.equal(worker.length, 1);
  assert.ok(worker[0]!.startsWith('iifname != { "egress.vxlan", "ens5" } '), worker[0]);
});

test('the plan holds nft rules as typed statements: no rule text anywhere in its JSON', async () => {
  const { everyRuleCluster } = await import('./testing/cluster.js');
  for (const n of ['worker-1', 'gateway-1', 'gateway-2']) {
    const p = plan(snapshotOf(everyRuleCluster()), n);
    const strings: string[] = [];
    JSON.parse(JSON.stringify(p.nft.chains), (_key, value: unknown) => (typeof value === 'string' && strings.push(value), value));
    assert.ok(
      p.nft.chains.every((c) => c.rules.every((r) => typeof r === 'object' && Array.isArray(r.statements))),
      n,
    );
    const text = strings.filter((s) => /[@{};"]|\b(saddr|daddr|iifname|oifname|mark set|accept|drop|return|snat ip6? to)\b\s/.test(s));
    assert.deepEqual(text, [], n);
    assert.ok(strings.includes('worker default/test') || strings.includes('gateway default/test'), `${n}: comments are plain strings`);
  }
});
