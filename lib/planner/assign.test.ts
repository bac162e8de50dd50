import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Assignment } from './assign.js';
import { rendezvousPick } from './hrw.js';
import { resolveCluster } from './resolve.js';
import { plan } from './plan.js';
import { markIndexes } from './tunnels.js';
import { resolveConfig } from './config.js';
import { baseCluster, gateway, node, pod, policy, snapshotOf, tunnel } from './testing/cluster.js';
import { parseDocument } from '../api/parse-document.js';

type Doc = Record<string, unknown>;

function assignOf(docs: readonly Doc[]): ReadonlyMap<string, Assignment> {
  return resolveCluster(snapshotOf(docs)).assignment.policies;
}

const subnet = (n: number) => ({ podSubnet: [`10.244.${n}.0/24`] });
const rrPolicy = (name: string, created: string, status?: Doc) =>
  policy('default', name, { egressGatewayName: 'default', egressIP: { allocatorPolicy: 'rr' }, appliedTo: subnet(1) }, { created, ...(status ? { status } : {}) });

test('rendezvous hashing spreads keys and moves only the keys of a node that leaves', () => {
  const nodes = ['gw-a', 'gw-b', 'gw-c', 'gw-d'];
  const keys = Array.from({ length: 400 }, (_, i) => `198.18.${Math.floor(i / 250)}.${i % 250}`);
  const before = new Map(keys.map((k) => [k, rendezvousPick(k, nodes)!]));
  const counts = nodes.map((n) => [...before.values()].filter((v) => v === n).length);
  assert.ok(Math.min(...counts) > 60, `roughly even spread: ${counts}`);
  const after = new Map(
    keys.map((k) => [
      k,
      rendezvousPick(
        k,
        nodes.filter((n) => n !== 'gw-b'),
      )!,
    ]),
  );
  for (const k of keys) {
    if (before.get(k) !== 'gw-b') assert.equal(after.get(k), before.get(k), `${k} must not move`);
  }
});

test("a gateway whose pools overlap an older gateway's is rejected; the older one keeps working", () => {
  const docs = [
    ...baseCluster(),
    gateway('second', { nodeSelector: { selector: { matchLabels: { egress: 'true' } } }, ippools: { ipv4: ['198.18.0.119-198.18.0.130'] } }, '2026-02-01T00:00:00Z'),
    policy('default', 'first', { egressGatewayName: 'default', egressIP: { ipv4: '198.18.0.119' }, appliedTo: subnet(1) }),
    policy('default', 'later', { egressGatewayName: 'second', egressIP: { ipv4: '198.18.0.125' }, appliedTo: subnet(2) }),
  ];
  const r = resolveCluster(snapshotOf(docs));
  assert.equal(r.assignment.policies.get('default/first')!.active, true);
  const later = r.assignment.policies.get('default/later')!;
  assert.equal(later.reason, 'PoolOverlap');
  assert.match(later.message!, /overlaps the pools of the older gateway "default"/);
  assert.equal(r.assignment.pools.get('second')!.rejected?.reason, 'PoolOverlap');
  assert.equal(r.assignment.pools.get('default')!.rejected, undefined);
});

test('a gateway whose own pool entries overlap is rejected; a later gateway may then use those addresses', () => {
  const own = gateway(
    'own',
    { nodeSelector: { selector: { matchLabels: { egress: 'true' } } }, ippools: { ipv4: ['198.18.5.0/24'], ipv6: ['fd00:5::9', 'fd00:5::1-fd00:5::ff'] } },
    '2026-01-15T00:00:00Z',
  );
  // the CRD cannot compare the entries of a list with each other, so the parser leaves it to the planner too
  assert.deepEqual(parseDocument(own).problems, []);
  const docs = [
    ...baseCluster(),
    own,
    gateway('later', { nodeSelector: { selector: { matchLabels: { egress: 'true' } } }, ippools: { ipv6: ['fd00:5::/120'] } }, '2026-02-01T00:00:00Z'),
    policy('default', 'on-own', { egressGatewayName: 'own', egressIP: { ipv4: '198.18.5.7' }, appliedTo: subnet(1) }),
    policy('default', 'on-later', { egressGatewayName: 'later', egressIP: { ipv6: 'fd00:5::9' }, appliedTo: subnet(2) }),
  ];
  const r = resolveCluster(snapshotOf(docs));
  assert.equal(r.assignment.pools.get('own')!.rejected?.reason, 'PoolOverlap');
  assert.match(r.assignment.pools.get('own')!.rejected!.message, /pools fd00:5::1-fd00:5::ff and fd00:5::9 of gateway "own" overlap/);
  assert.equal(r.assignment.policies.get('default/on-own')!.reason, 'PoolOverlap');
  assert.equal(r.assignment.pools.get('later')!.rejected, undefined, 'a rejected gateway claims no addresses');
  assert.equal(r.assignment.policies.get('default/on-later')!.active, true);
});

test('rr keeps the address status already names (stable across restarts)', () => {
  const docs = [...baseCluster(), rrPolicy('a', '2026-01-01T00:00:00Z', { eip: { ipv4: '198.18.0.117' }, node: 'gateway-1' })];
  assert.equal(assignOf(docs).get('default/a')!.eipV4, '198.18.0.117');
});

test('rr pool exhaustion is reported; rr takes the default EIP last', () => {
  const docs = [...baseCluster({ pool: { ipv4: ['198.18.0.100-198.18.0.102'] } }), ...[1, 2, 3, 4].map((n) => rrPolicy(`${n}`, `2026-01-01T00:00:0${n}Z`))];
  const r = assignOf(docs);
  assert.equal(r.get('default/1')!.eipV4, '198.18.0.101', 'the default EIP .100 comes last');
  assert.equal(r.get('default/2')!.eipV4, '198.18.0.102');
  assert.equal(r.get('default/3')!.eipV4, '198.18.0.100', 'a pool of 3 serves 3 rr policies');
  assert.equal(r.get('default/4')!.reason, 'PoolExhausted');
  assert.match(r.get('default/4')!.message!, /no free IPv4 address left in the pool of gateway "default"/);
});

test('an older rr policy keeps its address against a newer explicit policy naming it', () => {
  const docs = [
    ...baseCluster(),
    rrPolicy('rr', '2026-01-01T00:00:00Z', { eip: { ipv4: '198.18.0.115' }, node: 'gateway-1' }),
    policy('default', 'explicit', { egressGatewayName: 'default', egressIP: { ipv4: '198.18.0.115' }, appliedTo: subnet(2) }, { created: '2026-02-01T00:00:00Z' }),
  ];
  const r = assignOf(docs);
  assert.equal(r.get('default/rr')!.eipV4, '198.18.0.115');
  assert.equal(r.get('default/explicit')!.active, false);
  assert.equal(r.get('default/explicit')!.reason, 'EIPInUse');
  assert.match(r.get('default/explicit')!.message!, /round-robin address of the older policy "default\/rr"/);
});

test('an older explicit policy takes its address from a newer rr policy holding it', () => {
  const docs = [
    ...baseCluster(),
    policy('default', 'explicit', { egressGatewayName: 'default', egressIP: { ipv4: '198.18.0.115' }, appliedTo: subnet(2) }, { created: '2026-01-01T00:00:00Z' }),
    rrPolicy('rr', '2026-02-01T00:00:00Z', { eip: { ipv4: '198.18.0.115' }, node: 'gateway-1' }),
  ];
  const r = assignOf(docs);
  assert.equal(r.get('default/explicit')!.eipV4, '198.18.0.115');
  assert.notEqual(r.get('default/rr')!.eipV4, '198.18.0.115');
  assert.equal(r.get('default/rr')!.active, true);
});

test("policies spread over gateway nodes and only the failed node's policies move", () => {
  const gws = ['gateway-1', 'gateway-2', 'gateway-3'];
  const make = (down?: string) => [
    node('worker-1', 1),
    ...gws.map((g, i) => node(g, i + 2, { labels: { egress: 'true' }, ready: g !== down })),
    ...baseCluster({ pool: { ipv4: ['198.18.0.100-198.18.0.199'] } }).slice(3),
    pod('default', 'v', 'worker-1', ['10.244.1.5'], { app: 'v' }),
    ...Array.from({ length: 30 }, (_, i) =>
      policy(
        'default',
        `p${i}`,
        { egressGatewayName: 'default', egressIP: { allocatorPolicy: 'rr' }, appliedTo: { podSelector: { matchLabels: { app: 'v' } } } },
        { created: `2026-01-01T00:00:${String(i).padStart(2, '0')}Z` },
      ),
    ),
  ];
  const before = assignOf(make());
  const perNode = gws.map((g) => [...before.values()].filter((a) => a.node === g).length);
  assert.ok(
    perNode.every((n) => n >= 4),
    `spread: ${perNode}`,
  );
  const after = assignOf(make('gateway-2'));
  for (const [key, a] of before) {
    const b = after.get(key)!;
    assert.equal(b.eipV4, a.eipV4, 'EIPs never change on failover');
    if (a.node !== 'gateway-2') assert.equal(b.node, a.node, `${key} stays`);
    else assert.notEqual(b.node, 'gateway-2');
  }
});

/** Three gateway nodes; policies on the default EIP .110, written to status as the controller would. */
function sharedEipCluster(statusNodes: readonly (string | undefined)[], down: readonly string[] = []): Doc[] {
  return [
    node('worker-1', 1),
    ...['gateway-1', 'gateway-2', 'gateway-3'].map((g, i) => node(g, i + 2, { labels: { egress: 'true' }, ready: !down.includes(g) })),
    ...baseCluster().slice(3),
    ...statusNodes.map((n, i) =>
      policy(
        'default',
        `p${i}`,
        { egressGatewayName: 'default', appliedTo: subnet(1) },
        { created: `2026-01-01T00:00:0${i}Z`, ...(n ? { status: { eip: { ipv4: '198.18.0.110' }, node: n } } : {}) },
      ),
    ),
  ];
}

test('sticky: a node that heals does not take its EIP back', () => {
  const initial = assignOf(sharedEipCluster([undefined, undefined]));
  const home = initial.get('default/p0')!.node!;
  // home fails: the EIP moves
  const failed = assignOf(sharedEipCluster([home, home], [home]));
  const successor = failed.get('default/p0')!.node!;
  assert.notEqual(successor, home);
  // the controller has written the move; home heals: nothing moves back
  const healed = assignOf(sharedEipCluster([successor, successor]));
  assert.equal(healed.get('default/p0')!.node, successor);
  assert.equal(healed.get('default/p1')!.node, successor);
});

test("one holder per EIP: policies sharing an address follow the oldest one's status, not each their own", () => {
  // the controller was rewriting them one by one: p0 (oldest) already says gateway-3, p1 and p2 still say gateway-1
  const mid = assignOf(sharedEipCluster(['gateway-3', 'gateway-1', 'gateway-1']));
  assert.deepEqual(
    ['p0', 'p1', 'p2'].map((p) => mid.get(`default/${p}`)!.node),
    ['gateway-3', 'gateway-3', 'gateway-3'],
  );
  // and before p0 was written, while gateway-1 is down, every policy goes to the same successor
  const down = assignOf(sharedEipCluster(['gateway-1', 'gateway-2', 'gateway-1'], ['gateway-1']));
  const nodes = new Set(['p0', 'p1', 'p2'].map((p) => down.get(`default/${p}`)!.node));
  assert.equal(nodes.size, 1, `one node for the EIP: ${[...nodes]}`);
  // every agent computes that successor from (EIP, eligible nodes) alone, whatever the others' status says
  const other = assignOf(sharedEipCluster(['gateway-1', undefined, 'gateway-3'], ['gateway-1']));
  assert.equal(other.get('default/p0')!.node, [...nodes][0]);
});

test('one holder per EIP: the plans of all nodes put the EIP on exactly one node', () => {
  const docs = sharedEipCluster(['gateway-3', 'gateway-1', 'gateway-2']);
  const snapshot = snapshotOf(docs);
  const holders = ['gateway-1', 'gateway-2', 'gateway-3'].filter((n) => plan(snapshot, n).eips.some((e) => e.ip === '198.18.0.110'));
  assert.deepEqual(holders, ['gateway-3']);
});

test('the IPv4 and IPv6 addresses of a policy, and the policies sharing either, live on one node', () => {
  const docs = [
    ...baseCluster({ ipv6: true, pool: { ipv4: ['198.18.0.100-198.18.0.120'], ipv6: ['fd00:198:18::100/120'] } }),
    policy(
      'default',
      'a',
      { egressGatewayName: 'default', egressIP: { ipv4: '198.18.0.105', ipv6: 'fd00:198:18::105' }, appliedTo: subnet(1) },
      { status: { eip: { ipv4: '198.18.0.105' }, node: 'gateway-1' } },
    ),
    policy(
      'default',
      'b',
      { egressGatewayName: 'default', egressIP: { ipv6: 'fd00:198:18::105' }, appliedTo: subnet(2) },
      { created: '2026-02-01T00:00:00Z', status: { eip: { ipv6: 'fd00:198:18::105' }, node: 'gateway-2' } },
    ),
  ];
  const r = assignOf(docs);
  assert.equal(r.get('default/a')!.node, 'gateway-1');
  assert.equal(r.get('default/b')!.node, 'gateway-1', "b shares a's IPv6 address, so it follows a");
});

test('status naming a node the gateway does not select is not followed', () => {
  const docs = sharedEipCluster(['worker-1']);
  assert.notEqual(assignOf(docs).get('default/p0')!.node, 'worker-1');
});

test('egress IPs from status are checked: outside the pool, not unicast, node or pod addresses are ignored and reported', () => {
  const bad = ['8.8.8.8', '127.0.0.1', '224.0.0.1', '198.18.0.12', '10.244.1.9'];
  const poolWithEverything = { ipv4: ['198.18.0.100-198.18.0.120', '198.18.0.12', '10.244.1.0/24', '127.0.0.1', '224.0.0.1'], ipv4DefaultEIP: '198.18.0.110' };
  for (const ip of bad) {
    const docs = [...baseCluster({ pool: poolWithEverything }), rrPolicy('a', '2026-01-01T00:00:00Z', { eip: { ipv4: ip }, node: 'gateway-1' })];
    const r = resolveCluster(snapshotOf(docs));
    const a = r.assignment.policies.get('default/a')!;
    assert.notEqual(a.eipV4, ip, `${ip} from status is not used`);
    assert.ok(a.eipV4?.startsWith('198.18.0.1'), `a pool address instead (${a.eipV4})`);
    assert.equal(a.ignoredStatus.length, 1, `${ip} is reported`);
    assert.ok(
      r.notices.some((n) => n.includes(ip)),
      `notice for ${ip}`,
    );
  }
  // an address removed from the pool is dropped at once, without waiting for the controller
  const removed = [...baseCluster({ pool: { ipv4: ['198.18.0.100-198.18.0.110'] } }), rrPolicy('a', '2026-01-01T00:00:00Z', { eip: { ipv4: '198.18.0.117' }, node: 'gateway-1' })];
  assert.equal(assignOf(removed).get('default/a')!.eipV4, '198.18.0.101');
  // a default policy never takes an EIP from status
  const forged = [...baseCluster(), policy('default', 'd', { egressGatewayName: 'default', appliedTo: subnet(1) }, { status: { eip: { ipv4: '8.8.8.8' }, node: 'gateway-1' } })];
  const snapshot = snapshotOf(forged);
  assert.equal(resolveCluster(snapshot).assignment.policies.get('default/d')!.eipV4, '198.18.0.110');
  for (const n of ['gateway-1', 'gateway-2']) assert.ok(!plan(snapshot, n).eips.some((e) => e.ip === '8.8.8.8'), `${n} never holds 8.8.8.8`);
  assert.ok(
    plan(snapshot, 'worker-1').notices?.some((n) => n.includes('8.8.8.8')),
    'the plan reports it',
  );
  // what the controller itself writes is never reported: a useNodeIP policy's status shows its node's address
  const nodeIp = [
    ...baseCluster(),
    policy('default', 'n', { egressGatewayName: 'default', egressIP: { useNodeIP: true }, appliedTo: subnet(1) }, { status: { eip: { ipv4: '198.18.0.12' }, node: 'gateway-1' } }),
  ];
  const n = resolveCluster(snapshotOf(nodeIp));
  assert.equal(n.assignment.policies.get('default/n')!.snatV4, '198.18.0.12');
  assert.deepEqual(n.notices, []);
});

test('CIDR pools: the network and IPv4 broadcast addresses are never handed out; /31 and ranges are used whole', () => {
  const rr = (n: number) => rrPolicy(`r${n}`, `2026-01-01T00:00:0${n}Z`);
  const cidr = assignOf([...baseCluster({ pool: { ipv4: ['198.18.7.0/29'] } }), ...[1, 2, 3, 4, 5, 6, 7].map(rr)]);
  const got = [1, 2, 3, 4, 5, 6, 7].map((n) => cidr.get(`default/r${n}`)!.eipV4 ?? cidr.get(`default/r${n}`)!.reason);
  assert.deepEqual(got, ['198.18.7.2', '198.18.7.3', '198.18.7.4', '198.18.7.5', '198.18.7.6', '198.18.7.1', 'PoolExhausted'], 'the default .1 last, .0 and .7 held back');
  const def = assignOf([...baseCluster({ pool: { ipv4: ['198.18.7.0/29'] } }), policy('default', 'd', { egressGatewayName: 'default', appliedTo: subnet(1) })]);
  assert.equal(def.get('default/d')!.eipV4, '198.18.7.1', 'the default EIP of a CIDR pool is its first host address');
  const explicit = assignOf([
    ...baseCluster({ pool: { ipv4: ['198.18.7.0/29'] } }),
    policy('default', 'x', { egressGatewayName: 'default', egressIP: { ipv4: '198.18.7.7' }, appliedTo: subnet(1) }),
  ]);
  assert.equal(explicit.get('default/x')!.reason, 'ReservedAddress');
  assert.match(explicit.get('default/x')!.message!, /broadcast address/);
  const v6 = assignOf([...baseCluster({ ipv6: true, pool: { ipv6: ['fd00:198:18::/126'] } }), policy('default', 'd', { egressGatewayName: 'default', appliedTo: subnet(1) })]);
  assert.equal(v6.get('default/d')!.eipV6, 'fd00:198:18::1', 'IPv6: the Subnet-Router anycast address is held back');
  const slash31 = assignOf([...baseCluster({ pool: { ipv4: ['198.18.7.0/31'] } }), rr(1)]);
  assert.equal(slash31.get('default/r1')!.eipV4, '198.18.7.1', '/31: both addresses are hosts (.0 is the default)');
  const range = assignOf([...baseCluster({ pool: { ipv4: ['198.18.7.0-198.18.7.7'] } }), policy('default', 'd', { egressGatewayName: 'default', appliedTo: subnet(1) })]);
  assert.equal(range.get('default/d')!.eipV4, '198.18.7.0', 'a range names its addresses exactly');
});

test('pools holding node or pod addresses: those are never handed out, and a policy that names one is inactive', () => {
  const pool = { ipv4: ['198.18.0.10-198.18.0.14'] }; // nodes are .11-.13, .10 is the default
  const r = resolveCluster(snapshotOf([...baseCluster({ pool }), ...['a', 'b', 'c'].map((n, i) => rrPolicy(n, `2026-01-01T00:00:0${i + 1}Z`))]));
  assert.equal(r.assignment.policies.get('default/a')!.eipV4, '198.18.0.14');
  assert.equal(r.assignment.policies.get('default/b')!.eipV4, '198.18.0.10', 'then the default EIP');
  assert.equal(r.assignment.policies.get('default/c')!.reason, 'PoolExhausted');
  assert.deepEqual(r.assignment.pools.get('default')!.excluded, [{ reason: 'ClusterAddress', text: '198.18.0.11-198.18.0.13' }]);
  const named = assignOf([...baseCluster({ pool: { ipv4: ['198.18.0.12-198.18.0.14'] } }), policy('default', 'd', { egressGatewayName: 'default', appliedTo: subnet(1) })]);
  assert.equal(named.get('default/d')!.reason, 'ClusterAddress', 'the default EIP is a node address: not used, not silently moved');
  const podIp = assignOf([
    ...baseCluster({ pool: { ipv4: ['10.244.9.0/24', '198.18.0.100'] } }),
    node('w-9', 9),
    policy('default', 'x', { egressGatewayName: 'default', egressIP: { ipv4: '10.244.9.5' }, appliedTo: subnet(1) }),
  ]);
  assert.equal(podIp.get('default/x')!.reason, 'ClusterAddress');
});

test('tunnel marks from status: a duplicate, one outside --mark-mask or the "SNAT here" mark is not used', () => {
  const docs = [
    ...baseCluster(),
    pod('default', 'v', 'worker-1', ['10.244.1.5'], { app: 'v' }),
    policy('default', 'p', { egressGatewayName: 'default', appliedTo: { podSelector: { matchLabels: { app: 'v' } } } }),
  ];
  // With the default mask 0x7f: 300 lies outside it, 127 is "SNAT here".
  for (const [m1, m2] of [
    ['7', '7'],
    ['7', '300'],
    ['7', '127'],
  ] as const) {
    const withMarks = [...docs, tunnel('gateway-1', { mark: m1 }), tunnel('gateway-2', { mark: m2 })];
    const snapshot = snapshotOf(withMarks);
    const worker = plan(snapshot, 'worker-1');
    const marks = worker.marks.gateways;
    assert.equal(marks['gateway-1'], 7);
    assert.notEqual(marks['gateway-2'], marks['gateway-1'], `${m1}/${m2}: unique`);
    assert.ok(marks['gateway-2']! > 0 && marks['gateway-2']! < 0x7f, `${m1}/${m2}: inside the mask, not "SNAT here" (${marks['gateway-2']})`);
    const tables = worker.routing.rules.filter((r) => !r.iifLo && r.table !== 3000).map((r) => r.fwmark);
    assert.equal(new Set(tables).size, tables.length, 'one table per mark');
    assert.ok(
      worker.notices?.some((n) => n.includes(`status.mark ${m2} ignored`)),
      `reported: ${worker.notices}`,
    );
  }
});

test('a gateway node without a routing mark (more gateway nodes than --mark-mask allows) carries nothing', () => {
  const config = resolveConfig({ markMask: 0x3 }); // marks 1 and 2; 3 = "SNAT here"
  const docs = [
    node('worker-1', 1),
    ...['gateway-1', 'gateway-2', 'gateway-3'].map((g, i) => node(g, i + 2, { labels: { egress: 'true' } })),
    ...baseCluster().slice(3),
    ...Array.from({ length: 12 }, (_, i) => rrPolicy(`p${i}`, `2026-01-01T00:00:${String(i).padStart(2, '0')}Z`)),
  ];
  const r = resolveCluster(snapshotOf(docs, config));
  assert.deepEqual(r.eligible.get('default'), ['gateway-1', 'gateway-2']);
  assert.ok([...r.assignment.policies.values()].every((a) => a.node !== 'gateway-3'));
});

test('rr over the whole pool: 50 addresses serve 50 rr policies; a default policy arriving later shares the default EIP, and nothing moves', () => {
  const pool = { ipv4: ['198.18.0.100-198.18.0.149'], ipv4DefaultEIP: '198.18.0.100' };
  const at = (i: number) => `2026-01-01T00:${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}Z`;
  const names = Array.from({ length: 51 }, (_, i) => `r${String(i).padStart(2, '0')}`);
  const first = assignOf([...baseCluster({ pool }), ...names.map((n, i) => rrPolicy(n, at(i)))]);
  const held = names.slice(0, 50).map((n) => first.get(`default/${n}`)!.eipV4);
  assert.equal(new Set(held).size, 50, 'fifty distinct addresses');
  assert.equal(first.get('default/r49')!.eipV4, '198.18.0.100', 'the default EIP last');
  assert.equal(first.get('default/r50')!.reason, 'PoolExhausted');

  // status as the controller writes it, then a default policy, newer than all of them
  const withStatus = names.slice(0, 50).map((n, i) => rrPolicy(n, at(i), { eip: { ipv4: first.get(`default/${n}`)!.eipV4 }, node: first.get(`default/${n}`)!.node }));
  const late = policy('default', 'late-default', { egressGatewayName: 'default', appliedTo: subnet(2) }, { created: '2026-03-01T00:00:00Z' });
  const second = assignOf([...baseCluster({ pool }), ...withStatus, late]);
  for (const n of names.slice(0, 50)) {
    assert.equal(second.get(`default/${n}`)!.eipV4, first.get(`default/${n}`)!.eipV4, `${n} keeps its address`);
    assert.equal(second.get(`default/${n}`)!.node, first.get(`default/${n}`)!.node, `${n} keeps its node`);
  }
  const d = second.get('default/late-default')!;
  assert.equal(d.active, true);
  assert.equal(d.eipV4, '198.18.0.100');
  assert.equal(d.node, second.get('default/r49')!.node, 'one address, one node');

  // the same with the default policy older than the rr holder (a restart reads both from status): same result
  const older = policy(
    'default',
    'late-default',
    { egressGatewayName: 'default', appliedTo: subnet(2) },
    { created: '2025-12-01T00:00:00Z', status: { eip: { ipv4: '198.18.0.100' }, node: d.node } },
  );
  const third = assignOf([...baseCluster({ pool }), ...withStatus, older]);
  assert.equal(third.get('default/r49')!.eipV4, '198.18.0.100');
  assert.equal(third.get('default/late-default')!.eipV4, '198.18.0.100');
  assert.equal(third.get('default/r49')!.node, third.get('default/late-default')!.node);
});

test('rr shares the default EIP only with policies that use the default: never with a second rr policy', () => {
  const pool = { ipv4: ['198.18.0.100-198.18.0.101'], ipv4DefaultEIP: '198.18.0.100' };
  const docs = [
    ...baseCluster({ pool }),
    rrPolicy('a', '2026-01-01T00:00:01Z', { eip: { ipv4: '198.18.0.101' }, node: 'gateway-1' }),
    rrPolicy('b', '2026-01-01T00:00:02Z', { eip: { ipv4: '198.18.0.100' }, node: 'gateway-1' }),
    rrPolicy('c', '2026-01-01T00:00:03Z', { eip: { ipv4: '198.18.0.100' }, node: 'gateway-2' }),
    policy('default', 'x', { egressGatewayName: 'default', egressIP: { ipv4: '198.18.0.100' }, appliedTo: subnet(2) }, { created: '2026-02-01T00:00:00Z' }),
  ];
  const r = assignOf(docs);
  assert.equal(r.get('default/b')!.eipV4, '198.18.0.100');
  assert.equal(r.get('default/c')!.reason, 'PoolExhausted', 'a stale status naming the same address does not make two rr owners');
  assert.equal(r.get('default/x')!.active, true, 'an explicit policy naming the default EIP shares it too');
  assert.equal(r.get('default/x')!.node, 'gateway-1');
  // a fresh rr policy never takes the default EIP while a default policy uses it
  const fresh = assignOf([
    ...baseCluster({ pool }),
    policy('default', 'd', { egressGatewayName: 'default', appliedTo: subnet(2) }),
    rrPolicy('a', '2026-01-01T00:00:01Z'),
    rrPolicy('b', '2026-01-01T00:00:02Z'),
  ]);
  assert.equal(fresh.get('default/a')!.eipV4, '198.18.0.101');
  assert.equal(fresh.get('default/b')!.reason, 'PoolExhausted');
});

test('a node keeps the mark of the last plan whatever status says; status decides for nodes new to the planner', () => {
  const docs = [
    ...baseCluster(),
    pod('default', 'v', 'worker-1', ['10.244.1.5'], { app: 'v' }),
    policy('default', 'p', { egressGatewayName: 'default', appliedTo: { podSelector: { matchLabels: { app: 'v' } } } }),
  ];
  const last = plan(snapshotOf([...docs, tunnel('gateway-1', { mark: '1' }), tunnel('gateway-2', { mark: '2' })]), 'worker-1');
  const lastMarks = markIndexes(last);
  assert.deepEqual(lastMarks, { 'gateway-1': 1, 'gateway-2': 2 });
  // a compromised node made gateway-1's mark unusable and gave gateway-2 the mark of gateway-1
  const forged = snapshotOf([...docs, tunnel('gateway-1', { mark: '255' }), tunnel('gateway-2', { mark: '1' })]);
  assert.deepEqual(markIndexes(plan(forged, 'worker-1')), { 'gateway-1': 2, 'gateway-2': 1 }, 'from status alone: swapped');
  const kept = plan({ ...forged, lastMarks }, 'worker-1');
  assert.deepEqual(markIndexes(kept), lastMarks, 'with the last plan: as they were');
  assert.deepEqual(kept.routing, last.routing, 'no rule or route changes');
  assert.ok(
    kept.notices?.some((n) => n.includes('EgressTunnel "gateway-2": status.mark 1 ignored: node "gateway-1" has it too; using 2')),
    `${kept.notices}`,
  );
  // a status mark that changed to a free value is not followed either; a node the last plan did not have takes status
  const moved = plan(
    { ...snapshotOf([...docs, tunnel('gateway-1', { mark: '7' }), tunnel('gateway-2', { mark: '2' })]), lastMarks: { 'gateway-2': 2, 'gone-node': 1 } },
    'worker-1',
  );
  assert.deepEqual(markIndexes(moved), { 'gateway-1': 7, 'gateway-2': 2 });
  const stays = plan({ ...snapshotOf([...docs, tunnel('gateway-1', { mark: '7' }), tunnel('gateway-2', { mark: '2' })]), lastMarks }, 'worker-1');
  assert.deepEqual(markIndexes(stays), lastMarks);
  assert.ok(
    stays.notices?.some((n) => n.includes('status.mark 7 ignored: a node keeps its mark while this process runs; using 1')),
    `${stays.notices}`,
  );
});
