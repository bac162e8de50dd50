import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RoutingPlan } from '../../planner/node-plan.js';
import { privilegedSkipReason, withLab, type NetnsLab } from '../testing/lab.js';
import { seedPlan, withIpv6, withoutPeer } from '../testing/seed-plans.js';
import { routeCommand } from './route-commands.js';
import { describeRouteOp } from './route-describe.js';
import type { StandaloneApplyResult as RouteApplyResult } from '../testing/standalone-apply.js';
import { planRouteOps } from './route-ops.js';
import { parseRoute, parseRule } from './route-parse.js';
import type { ObservedRouting } from './route-types.js';

const OWNED = { tables: { min: 3000, max: 3254 }, rulePriorities: { min: 9000, max: 9002 } };

const ROUTING: RoutingPlan = {
  tables: [3001],
  routes: [
    { family: 4, table: 3001, dst: 'default', via: '172.31.0.1', dev: 'egress.vxlan', onlink: true },
    { family: 6, table: 3001, dst: 'default', via: 'fd00:5c:e:0::1', dev: 'egress.vxlan', onlink: true },
  ],
  rules: [
    { family: 4, priority: 9000, fwmark: 0x100, mask: 0xff00, iifLo: true, table: 254 },
    { family: 4, priority: 9001, fwmark: 0x100, mask: 0xff00, iifLo: false, table: 3001 },
  ],
  ownedTables: OWNED.tables,
  ownedRulePriorities: OWNED.rulePriorities,
};

/** `ip -N -json` rows (captured from iproute2 6.1) matching ROUTING exactly. */
const RULE_ROWS = [
  { priority: 9000, src: 'all', fwmark: '0x100', fwmask: '0xff00', iif: 'lo', table: '254' },
  { priority: 9001, src: 'all', fwmark: '0x100', fwmask: '0xff00', table: '3001' },
];
const V4_ROUTE = { dst: 'default', gateway: '172.31.0.1', dev: 'egress.vxlan', table: '3001', flags: ['onlink'] };
const V6_ROUTE = { dst: 'default', gateway: 'fd00:5c:e::1', dev: 'egress.vxlan', table: '3001', metric: 1024, flags: ['onlink'], pref: 'medium' };

function observed(extraRules: Record<string, unknown>[] = [], extraRoutes: [Record<string, unknown>, 4 | 6][] = []): ObservedRouting {
  return {
    owned: OWNED,
    rules: [...RULE_ROWS, ...extraRules].map((r) => parseRule(r, 4)),
    routes: [[V4_ROUTE, 4] as const, [V6_ROUTE, 6] as const, ...extraRoutes].map(([r, f]) => parseRoute(r, f)),
  };
}

describe('parse', () => {
  test('rules: shape, selector, foreign selectors', () => {
    const r = parseRule(RULE_ROWS[0]!, 4);
    assert.deepEqual(r, { family: 4, priority: 9000, fwmark: 0x100, mask: 0xff00, iif: 'lo', table: 254, foreign: [], selector: 'pref 9000 fwmark 0x100/0xff00 iif lo table 254' });
    const odd = parseRule(
      { priority: 9002, not: null, src: '10.0.0.0', srclen: 8, tos: '0x10', fwmark: '0x5', oif: 'lo', uid_start: 5, uid_end: 6, ipproto: 'ipproto-6', dport: 80, table: '3001' },
      4,
    );
    assert.deepEqual(odd.foreign, ['dport', 'ipproto', 'not', 'oif', 'src', 'srclen', 'tos', 'uid_end', 'uid_start']);
    assert.equal(odd.selector, 'not pref 9002 from 10.0.0.0/8 tos 0x10 fwmark 0x5/0xffffffff oif lo ipproto 6 dport 80 uidrange 5-6 table 3001');
    assert.equal(parseRule({ priority: 9001, src: 'all', action: '7' }, 4).selector, 'pref 9001 unreachable');
    const ranged = parseRule({ priority: 9004, src: 'all', sport_start: 1000, sport_end: 2000, dport_start: 80, dport_end: 90, action: 'prohibit' }, 4);
    assert.equal(ranged.selector, 'pref 9004 sport 1000-2000 dport 80-90 prohibit', 'port ranges are part of what a rule selects');
  });
  test('routes: host prefixes, metrics, types', () => {
    assert.equal(parseRoute({ dst: '10.244.1.5', gateway: '172.31.0.3', dev: 'egress.vxlan', table: '3000', flags: ['onlink'] }, 4).dst, '10.244.1.5/32');
    const v6 = parseRoute(V6_ROUTE, 6);
    assert.equal(v6.metric, 1024);
    assert.equal(v6.selector, 'default table 3001 metric 1024 via fd00:5c:e::1 dev egress.vxlan');
    const bh = parseRoute({ type: '6', dst: '2001:db8::/64', dev: 'lo', table: '3001', metric: 1024, flags: [], pref: 'medium' }, 6);
    assert.equal(bh.type, 'blackhole');
    assert.equal(bh.selector, 'blackhole 2001:db8::/64 table 3001 metric 1024');
  });
});

describe('planRouteOps', () => {
  test('matching kernel: nothing to do', () => {
    const ops = planRouteOps(ROUTING, observed());
    assert.deepEqual([ops.adds, ops.deletes, ops.rejected], [[], [], []]);
  });
  test('empty kernel: routes first, then rules; nothing to delete', () => {
    const ops = planRouteOps(ROUTING, { owned: OWNED, rules: [], routes: [] });
    assert.deepEqual(
      ops.adds.map((o) => o.kind),
      ['route-replace', 'route-replace', 'rule-add', 'rule-add'],
    );
    assert.deepEqual(ops.adds.map(routeCommand), [
      'route replace default via 172.31.0.1 dev egress.vxlan onlink table 3001',
      'route replace default via fd00:5c:e::1 dev egress.vxlan onlink table 3001',
      'rule add pref 9000 fwmark 0x100/0xff00 iif lo table 254',
      'rule add pref 9001 fwmark 0x100/0xff00 table 3001',
    ]);
    assert.deepEqual(
      ops.adds.map((o) => describeRouteOp(o).text),
      [
        'missing route table 3001 default via 172.31.0.1 dev egress.vxlan onlink',
        'missing route table 3001 default via fd00:5c:e::1 dev egress.vxlan onlink (IPv6)',
        'missing rule pref 9000 fwmark 0x100/0xff00 iif lo lookup main',
        'missing rule pref 9001 fwmark 0x100/0xff00 lookup 3001',
      ],
    );
  });
  test('a route with another gateway is replaced in place, not deleted', () => {
    const ops = planRouteOps(ROUTING, { ...observed(), routes: [parseRoute({ ...V4_ROUTE, gateway: '172.31.0.9' }, 4), parseRoute(V6_ROUTE, 6)] });
    assert.deepEqual(
      ops.adds.map((o) => o.kind),
      ['route-replace'],
    );
    assert.deepEqual(ops.deletes, []);
    assert.equal(
      describeRouteOp(ops.adds[0]!).text,
      'changed route table 3001 default via 172.31.0.9 dev egress.vxlan onlink, want default via 172.31.0.1 dev egress.vxlan onlink',
    );
  });
  test('stale and foreign-shaped entries in our ranges are deleted: rules first, then routes', () => {
    const ops = planRouteOps(
      ROUTING,
      observed(
        [
          { priority: 9001, src: 'all', fwmark: '0x200', fwmask: '0xff00', table: '3002' },
          { priority: 9001, src: '10.0.0.0', srclen: 8, fwmark: '0x100', fwmask: '0xff00', table: '3001' },
        ],
        [
          [{ dst: 'default', gateway: '172.31.0.2', dev: 'egress.vxlan', table: '3002', flags: ['onlink'] }, 4],
          [{ ...V4_ROUTE, metric: 5 }, 4],
        ],
      ),
    );
    assert.deepEqual(ops.adds, []);
    assert.deepEqual(ops.deletes.map(routeCommand), [
      'rule del pref 9001 fwmark 0x200/0xff00 table 3002',
      'rule del pref 9001 from 10.0.0.0/8 fwmark 0x100/0xff00 table 3001',
      'route del default table 3002 metric 0 via 172.31.0.2 dev egress.vxlan',
      'route del default table 3001 metric 5 via 172.31.0.1 dev egress.vxlan',
    ]);
    assert.equal(describeRouteOp(ops.deletes[0]!).text, 'extra rule pref 9001 fwmark 0x200/0xff00 lookup 3002');
  });
  test('a duplicated rule keeps one copy', () => {
    const ops = planRouteOps(ROUTING, observed([RULE_ROWS[1]!]));
    assert.deepEqual(ops.deletes.map(routeCommand), ['rule del pref 9001 fwmark 0x100/0xff00 table 3001']);
  });
  test('plan entries with unusable values are rejected one by one; the rest still apply', () => {
    const ops = planRouteOps(
      {
        ...ROUTING,
        routes: [{ ...ROUTING.routes[0]!, dst: '10.0.0.0/8 table 5' }, { ...ROUTING.routes[0]!, dev: 'eth0 x' }, { ...ROUTING.routes[0]!, via: 'fd00::1' }, ROUTING.routes[1]!],
      },
      { owned: OWNED, rules: [], routes: [] },
    );
    assert.equal(ops.rejected.length, 3);
    assert.deepEqual(ops.adds.map(routeCommand), [
      'route replace default via fd00:5c:e::1 dev egress.vxlan onlink table 3001',
      'rule add pref 9000 fwmark 0x100/0xff00 iif lo table 254',
      'rule add pref 9001 fwmark 0x100/0xff00 table 3001',
    ]);
  });
  test('plan entries outside the owned ranges are rejected, never written', () => {
    const ops = planRouteOps(
      { ...ROUTING, routes: [{ ...ROUTING.routes[0]!, table: 100 }], rules: [{ ...ROUTING.rules[0]!, priority: 100 }] },
      { owned: OWNED, rules: [], routes: [] },
    );
    assert.deepEqual(ops.adds, []);
    assert.equal(ops.rejected.length, 2);
  });
});

// ---- privileged ----

interface RuleRow {
  priority: number;
  [k: string]: unknown;
}

async function snapshot(lab: NetnsLab, node: string) {
  const rules = [...(await lab.ipJson<RuleRow>(node, ['-4', '-N', 'rule', 'list'])), ...(await lab.ipJson<RuleRow>(node, ['-6', '-N', 'rule', 'list']))];
  const routes = [
    ...(await lab.ipJson<Record<string, unknown>>(node, ['-4', '-N', 'route', 'show', 'table', 'all'])),
    ...(await lab.ipJson<Record<string, unknown>>(node, ['-6', '-N', 'route', 'show', 'table', 'all'])),
  ];
  const ours = (t: unknown) => Number(t) >= 3000 && Number(t) <= 3254;
  return {
    ourRules: rules
      .filter((r) => r.priority >= 9000 && r.priority <= 9002)
      .map((r) => JSON.stringify(r))
      .sort(),
    foreignRules: rules
      .filter((r) => r.priority < 9000 || r.priority > 9002)
      .map((r) => JSON.stringify(r))
      .sort(),
    ourRoutes: routes
      .filter((r) => ours(r.table))
      .map((r) => `${r.table} ${r.dst} ${r.gateway}`)
      .sort(),
    foreignRoutes: routes
      .filter((r) => !ours(r.table) && r.table !== '255')
      .map((r) => JSON.stringify(r))
      .sort(),
  };
}

async function tunnel(lab: NetnsLab, node: string): Promise<void> {
  await lab.sh(
    node,
    [
      'ip link add egress.vxlan type vxlan id 100 dstport 4789 local 198.18.0.11 dev eth0 nolearning',
      'ip link set egress.vxlan up',
      'ip addr add 172.31.0.3/16 dev egress.vxlan',
      'ip addr add fd00:5c:e::3/112 dev egress.vxlan nodad',
      // The node's own policy routing, which must survive every apply:
      'ip rule add pref 100 fwmark 0x1 table 100',
      'ip -6 rule add pref 100 table 100',
      'ip route add 10.9.0.0/16 dev eth0 table 100',
      'ip -6 route add 2001:db8:9::/64 dev eth0 table 100',
      'ip route add 10.8.0.0/16 dev eth0 table 2999',
      'ip rule add pref 8999 table 2999',
      'ip rule add pref 9003 table 3255',
    ].join('\n'),
  );
}

async function applyRoutes(lab: NetnsLab, ...plans: RoutingPlan[]): Promise<RouteApplyResult[]> {
  return (await lab.helper('w', { steps: plans.map((routing) => ({ op: 'routes.apply', routing })) })).results as RouteApplyResult[];
}

describe('RouteDriver in a network namespace', { skip: privilegedSkipReason() }, () => {
  test('adds exactly the planned rules and routes, collects stale ones in our ranges, never touches others', async () => {
    await withLab('routes', ['w', { ipv4: '198.18.0.11' }], ['g', { ipv4: '198.18.0.12' }], async (lab) => {
      await tunnel(lab, 'w');
      // Leftovers of an earlier run: a stale gateway table and a route that moved.
      await lab.sh(
        'w',
        [
          'ip rule add pref 9001 fwmark 0x300/0xff00 table 3003',
          'ip route add default via 172.31.0.9 dev egress.vxlan onlink table 3003',
          'ip route add default via 172.31.0.7 dev egress.vxlan onlink table 3001',
          'ip -6 route add blackhole 2001:db8::/64 table 3001',
        ].join('\n'),
      );
      const before = await snapshot(lab, 'w');
      const plan = withIpv6(await seedPlan('worker-1')).routing;
      const [first, second] = await applyRoutes(lab, plan, plan);
      assert.deepEqual(first!.errors, []);
      // adds: replace 3001 v4 (changed), add 3002 v4, 2 v6 routes, 8 rules; deletes: rule 3003, route 3003, v6 blackhole
      assert.equal(first!.adds.writes, 12);
      assert.equal(first!.deletes.writes, 3);
      assert.equal(second!.writes, 0);
      assert.equal((await applyRoutes(lab, plan))[0]!.writes, 0, 'a fresh driver adopts the state');

      const after = await snapshot(lab, 'w');
      assert.deepEqual(after.foreignRules, before.foreignRules);
      assert.deepEqual(after.foreignRoutes, before.foreignRoutes);
      assert.deepEqual(after.ourRoutes, ['3001 default 172.31.0.1', '3001 default fd00:5c:e::1', '3002 default 172.31.0.2', '3002 default fd00:5c:e::2']);
      assert.equal(after.ourRules.length, 8);
      assert.ok(after.ourRules.every((r) => !r.includes('3003')));
    });
  });

  test('a gateway dropped from the plan loses only its table and rules; an empty plan clears only our ranges', async () => {
    await withLab('routes-peer', ['w', { ipv4: '198.18.0.11' }], ['g', { ipv4: '198.18.0.12' }], async (lab) => {
      await tunnel(lab, 'w');
      const full = withIpv6(await seedPlan('worker-1'));
      const reduced = withoutPeer(full, 'gateway-2').routing;
      const empty: RoutingPlan = { ...full.routing, tables: [], routes: [], rules: [] };
      const before = await snapshot(lab, 'w');
      const [, dropped] = await applyRoutes(lab, full.routing, reduced);
      assert.equal(dropped!.adds.writes, 0);
      assert.equal(dropped!.deletes.writes, 2 + 4, 'two routes, four rules');
      const mid = await snapshot(lab, 'w');
      assert.deepEqual(mid.ourRoutes, ['3001 default 172.31.0.1', '3001 default fd00:5c:e::1']);
      assert.ok(mid.ourRules.every((r) => !r.includes('0x200')));

      const [cleared] = await applyRoutes(lab, empty);
      assert.equal(cleared!.writes, 2 + 4);
      const after = await snapshot(lab, 'w');
      assert.deepEqual([after.ourRules, after.ourRoutes], [[], []]);
      assert.deepEqual(after.foreignRules, before.foreignRules);
      assert.deepEqual(after.foreignRoutes, before.foreignRoutes);
    });
  });

  test('a failing command is reported and the rest still land', async () => {
    await withLab('routes-fail', ['w', { ipv4: '198.18.0.11' }], ['g', { ipv4: '198.18.0.12' }], async (lab) => {
      await tunnel(lab, 'w');
      const plan = (await seedPlan('worker-1')).routing;
      const broken: RoutingPlan = { ...plan, routes: [{ ...plan.routes[0]!, dev: 'nosuch0' }, ...plan.routes.slice(1)] };
      const [r] = await applyRoutes(lab, broken);
      assert.equal(r!.errors.length, 1);
      assert.match(r!.errors[0]!.op, /nosuch0/);
      assert.equal(r!.writes, 1 + 4);
    });
  });
});
