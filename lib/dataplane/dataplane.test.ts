import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { EgressError } from '../errors.js';
import type { NodePlan } from '../planner/node-plan.js';
import { parseAddresses } from './addresses/address-observe.js';
import type { AnnouncerLike } from './announcer/index.js';
import type { AnnouncerHook, ApplyReport, NftDriverLike, ObservedDataplane } from './dataplane-types.js';
import { Dataplane, isForwardingSysctl } from './dataplane.js';
import { EipClaims } from './eip-claims.js';
import type { NftDriver } from './nft/nft-driver.js';
import type { DiffLine } from './diff-line.js';
import { diffPlan } from './diff-plan.js';
import { parseRule } from './routes/route-parse.js';
import { privilegedSkipReason, withLab, type HelperOutput, type NetnsLab } from './testing/lab.js';
import { scriptedIproute } from './testing/scripted-iproute.js';
import { seedPlan, withIpv6, withoutPeer } from './testing/seed-plans.js';

const OWNED = { tables: { min: 3000, max: 3254 }, rulePriorities: { min: 9000, max: 9002 } };

function emptyKernel(plan: NodePlan): ObservedDataplane {
  return {
    sysctls: plan.sysctls.map((s) => (s.key.includes('egress') ? { key: s.key } : { key: s.key, value: '0\n' })),
    links: { device: 'egress.vxlan', parent: { name: 'eth0', mtu: 1500 } },
    routes: { owned: OWNED, rules: [], routes: [] },
    addresses: { addresses: [] },
  };
}

/** The plan of a node with no egress role: no tunnel, routes, EIPs or sysctls (as plan.ts builds it). */
function bare(p: NodePlan): NodePlan {
  const { vxlan: _vxlan, ...rest } = p;
  return { ...rest, routing: { ...p.routing, tables: [], routes: [], rules: [] }, eips: [], sysctls: [] };
}

// Pinned at compile time: the real nft driver and announcer plug into the Dataplane as they are.
const fits: [NftDriver extends NftDriverLike ? true : false, AnnouncerLike extends AnnouncerHook ? true : false] = [true, true];
test('the nft driver and the announcer fit the Dataplane hooks', () => assert.deepEqual(fits, [true, true]));

describe('diffPlan', () => {
  test('against an empty kernel every planned item is missing, subsystem by subsystem', async () => {
    const plan = await seedPlan('gateway-1');
    const texts = diffPlan(plan, emptyKernel(plan)).map((l) => l.text);
    assert.deepEqual(texts, [
      'missing sysctl net.ipv4.conf.egress/vxlan.rp_filter (no such key in this kernel yet), want 2',
      'changed sysctl net.ipv4.ip_forward is 0, want 1',
      'changed sysctl net.netfilter.nf_conntrack_tcp_loose is 0, want 1',
      'missing link egress.vxlan vxlan id 100 dstport 4789 local 198.18.0.12 dev eth0 mtu 1450 address 02:ab:3a:ba:d3:8d',
      'missing address 172.31.0.1/16 on egress.vxlan',
      // gateway-2 is a peer too: every node keeps a table towards each eligible gateway node.
      'missing neighbour 172.31.0.2 lladdr 02:2b:b9:95:e2:e6 on egress.vxlan',
      'missing neighbour 172.31.0.3 lladdr 02:94:c6:6a:58:84 on egress.vxlan',
      'missing fdb 02:2b:b9:95:e2:e6 dst 198.18.0.13 on egress.vxlan',
      'missing fdb 02:94:c6:6a:58:84 dst 198.18.0.11 on egress.vxlan',
      'missing route table 3000 10.244.1.0/24 via 172.31.0.3 dev egress.vxlan onlink',
      'missing route table 3002 default via 172.31.0.2 dev egress.vxlan onlink',
      'missing rule pref 9000 fwmark 0x200/0xff00 iif lo lookup main',
      'missing rule pref 9001 fwmark 0x200/0xff00 lookup 3002',
      'missing rule pref 9002 fwmark 0xff00/0xff00 lookup 3000',
      'missing address 198.18.0.110/32 on eth0',
    ]);
  });

  test('extra and conflicting items are named', async () => {
    const plan = bare(await seedPlan('worker-1'));
    const observed: ObservedDataplane = {
      ...emptyKernel(plan),
      routes: { owned: OWNED, rules: [parseRule({ priority: 9001, src: 'all', fwmark: '0x300', fwmask: '0xff00', table: '3003' }, 4)], routes: [] },
      addresses: parseAddresses([{ ifname: 'eth0', addr_info: [{ family: 'inet', local: '198.18.0.7', prefixlen: 32, metric: 0x51ce, scope: 'global' }] }], 0x51ce),
    };
    const lines = diffPlan(plan, observed);
    assert.deepEqual(lines, [
      { subsystem: 'route', change: 'extra', text: 'extra rule pref 9001 fwmark 0x300/0xff00 lookup 3003' },
      { subsystem: 'address', change: 'extra', text: 'extra address 198.18.0.7/32 on eth0' },
    ] satisfies DiffLine[]);
    const noParent = diffPlan(await seedPlan('worker-1'), { ...observed, links: { device: 'egress.vxlan' } });
    assert.ok(noParent.some((l) => l.change === 'conflict' && /parent interface "eth0"/.test(l.text)));
  });
});

describe('Dataplane without iproute2', () => {
  test('every iproute2 subsystem fails and is reported; nft loads, and with the guards in, forwarding is set', async () => {
    const root = await mkdtemp(join(tmpdir(), 'sl-dp-'));
    try {
      await mkdir(join(root, 'net/ipv4'), { recursive: true });
      await writeFile(join(root, 'net/ipv4/ip_forward'), '0\n');
      const nftTables: string[] = [];
      const dataplane = new Dataplane({
        sysctlRoot: root,
        sysClassNet: root,
        exec: async (file) => {
          throw new EgressError('EGW_ERR_NETLINK', `${file} could not run`);
        },
        nft: { observe: async () => ({}), apply: async (table) => void nftTables.push(table.name) },
      });
      const report = await dataplane.apply(await seedPlan('worker-1'));
      assert.equal(report.ok, false);
      assert.equal(report.complete, false);
      assert.equal(report.subsystems.sysctls.writes, 1);
      assert.equal(await readFile(join(root, 'net/ipv4/ip_forward'), 'utf8'), '1\n');
      assert.deepEqual(nftTables, ['sluice']);
      for (const s of ['links', 'routes', 'addresses'] as const) {
        assert.equal(report.subsystems[s].errors.length, 1, s);
        assert.match(report.subsystems[s].errors[0]!.message, /could not run/);
      }
      assert.deepEqual(report.missingSysctls, ['net.ipv4.conf.egress/vxlan.rp_filter']);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('isForwardingSysctl', () => {
  test('names the keys that make the node forward, and no others', () => {
    const keys = [
      'net.ipv4.ip_forward',
      'net.ipv6.conf.all.forwarding',
      'net.ipv4.conf.eth0.forwarding',
      'net.ipv6.conf.egress/vxlan.forwarding',
      'net.ipv4.conf.egress/vxlan.rp_filter',
      'net.netfilter.nf_conntrack_tcp_loose',
      'net.ipv6.conf.all.forwarding.x',
    ];
    assert.deepEqual(keys.filter(isForwardingSysctl), keys.slice(0, 4));
  });
});

const TAG = 0x51ce;
const EIP4 = '198.18.0.110';
const EIP6 = '2001:db8::110';
const FORWARDING = ['net/ipv4/ip_forward', 'net/ipv6/conf/all/forwarding'];

/** One kernel event as a test sees it: which step wrote, and the forwarding sysctls at that moment. */
interface KernelEvent {
  readonly step: string;
  readonly forwarding: string;
}

/**
 * A gateway's Dataplane on scripted iproute2, a sysctl tree in a temporary folder (forwarding off,
 * as on a node sluice has not touched), a scripted nft driver and announcer. Every write records
 * the forwarding sysctls as they were when it happened.
 */
async function scriptedGateway(opts: { held?: readonly string[]; failRoutes?: boolean; lanHosts?: Map<string, string> } = {}) {
  const root = await mkdtemp(join(tmpdir(), 'sl-dp-'));
  for (const key of [...FORWARDING, 'net/netfilter/nf_conntrack_tcp_loose']) {
    await mkdir(join(root, key, '..'), { recursive: true });
    await writeFile(join(root, key), '0\n');
  }
  await mkdir(join(root, 'eth0'), { recursive: true });
  await writeFile(join(root, 'eth0/mtu'), '1500\n');
  const forwarding = () => FORWARDING.map((k) => readFileSync(join(root, k), 'utf8').trim()).join('/');
  const events: KernelEvent[] = [];
  const announcer: string[] = [];
  const iproute = scriptedIproute({
    addresses: [
      { ip: '198.18.0.12', prefixlen: 24, ifname: 'eth0' },
      ...(opts.held ?? []).map((ip) => ({ ip, prefixlen: ip.includes(':') ? 128 : 32, ifname: 'eth0', metric: TAG })),
    ],
    onWrite: (w) => events.push({ step: w.lines.map((l) => l.split(' ').slice(0, 2).join(' ')).join(', '), forwarding: forwarding() }),
    ...(opts.failRoutes ? { fail: (line: string) => line.startsWith('route ') } : {}),
  });
  let nftFails = false;
  let clock = 0;
  const calls: string[] = [];
  const dataplane = new Dataplane({
    sysctlRoot: root,
    sysClassNet: root,
    exec: (file, args, input) => {
      calls.push(`${file} ${args.join(' ')}`);
      return iproute.exec(file, args, input);
    },
    now: () => clock,
    nft: {
      observe: async () => ({}),
      apply: async () => {
        events.push({ step: 'nft', forwarding: forwarding() });
        if (nftFails) throw new EgressError('EGW_ERR_NFT', 'Error: Could not process rule: No such file or directory');
      },
    },
    announcer: { announce: (ip) => void announcer.push(`announce ${ip}`), withdraw: (ip) => void announcer.push(`withdraw ${ip}`) },
    // LAN hosts answering for addresses (ip → MAC), when duplicate address detection is on.
    ...(opts.lanHosts ? { claims: new EipClaims({ probe: { probe: async (ip) => opts.lanHosts!.get(ip) }, now: () => clock, recheckMs: 30_000 }) } : {}),
  });
  const plan = withIpv6(await seedPlan('gateway-1'));
  return {
    dataplane,
    plan,
    events,
    announcer,
    forwarding,
    /** Our EIPs on eth0 now. */
    eips: () => iproute.addresses.filter((a) => a.metric === TAG).map((a) => a.ip),
    writes: () => iproute.writes.flatMap((w) => w.lines),
    /** Every iproute2 process started, reads and writes. */
    calls,
    /** Applies at time `at` (ms) with nft failing or not. */
    applyAt: (at: number, nftOk: boolean, p: NodePlan = plan, options: { full?: boolean } = {}) => {
      clock = at;
      nftFails = !nftOk;
      return dataplane.apply(p, options);
    },
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}

describe('Dataplane order: guards first, forwarding last, EIPs on a complete dataplane (scripted kernel)', () => {
  test('nft loads before anything else is written; forwarding comes on after links and routes; EIPs last', async () => {
    const gw = await scriptedGateway();
    try {
      const report = await gw.applyAt(0, true);
      assert.equal(report.ok, true, JSON.stringify(report.subsystems));
      assert.deepEqual([report.complete, report.failedApplies], [true, 0]);
      assert.deepEqual(
        gw.events.map((e) => `${e.step} [${e.forwarding}]`),
        [
          'nft [0/0]',
          'link add, addr add, addr add, neigh replace, neigh replace, neigh replace, neigh replace [0/0]',
          'fdb append, fdb append [0/0]',
          'route replace, route replace, rule add, rule add, rule add [0/0]',
          'route replace, route replace, rule add, rule add, rule add [0/0]',
          'addr add, addr add [1/1]',
        ],
      );
      assert.equal(gw.forwarding(), '1/1');
      assert.deepEqual(gw.eips().sort(), [EIP4, EIP6].sort());
      assert.deepEqual(gw.announcer, [`announce ${EIP4}`, `announce ${EIP6}`]);
    } finally {
      await gw.cleanup();
    }
  });

  test('EIPs the plan no longer holds are removed before the new table loads, which no longer guards them', async () => {
    const gw = await scriptedGateway();
    try {
      await gw.applyAt(0, true);
      gw.events.length = 0;
      gw.announcer.length = 0;
      const report = await gw.applyAt(1_000, true, { ...gw.plan, eips: gw.plan.eips.filter((e) => e.ip !== EIP4) });
      assert.equal(report.ok, true, JSON.stringify(report.subsystems));
      // (the scripted kernel keeps no links or routes: they are written again after)
      assert.deepEqual(
        gw.events.slice(0, 2).map((e) => e.step),
        ['addr del', 'nft'],
        'the release, then the table',
      );
      assert.deepEqual(gw.eips(), [EIP6]);
      assert.deepEqual(gw.announcer, [`withdraw ${EIP4}`]);
      assert.deepEqual(report.withdrawn, [`${EIP4}|eth0`]);
      // an EIP removed behind sluice's back is no error to release
      const again = await gw.applyAt(2_000, true, { ...gw.plan, eips: [] });
      assert.deepEqual([again.ok, gw.eips()], [true, []]);
    } finally {
      await gw.cleanup();
    }
  });

  test('a partial apply reads and writes only the parts of the plan that changed since the last clean apply', async () => {
    const gw = await scriptedGateway();
    try {
      assert.equal((await gw.applyAt(0, true)).ok, true);
      // The link read asks bridge for the FDB; the routing read is one -N -json batch per family.
      const readsAll = () => gw.calls.some((c) => c.startsWith('bridge -json fdb show')) && gw.calls.some((c) => c.startsWith('ip -4 -N -json'));
      gw.calls.length = 0;
      gw.events.length = 0;
      const same = await gw.applyAt(1, true, gw.plan, { full: false });
      assert.deepEqual([same.ok, same.complete, same.writes], [true, true, 0]);
      assert.deepEqual(gw.calls, [], 'nothing read or written but nft');
      assert.deepEqual(
        gw.events.map((e) => e.step),
        ['nft'],
      );

      const fewerEips = { ...gw.plan, eips: gw.plan.eips.filter((e) => e.family === 4) };
      const changed = await gw.applyAt(2, true, fewerEips, { full: false });
      assert.equal(changed.ok, true);
      assert.deepEqual(gw.calls, ['ip -force -batch -', 'ip -json address show'], 'only the addresses: the dropped EIP released first, then read');
      assert.deepEqual(gw.eips(), [EIP4]);

      gw.calls.length = 0;
      await gw.applyAt(3, true, fewerEips, { full: true });
      assert.ok(readsAll(), `a full apply reads everything: ${gw.calls.join('; ')}`);

      // After a failed apply nothing is trusted: the next partial apply reads everything again.
      await gw.applyAt(4, false, fewerEips, { full: false });
      gw.calls.length = 0;
      assert.equal((await gw.applyAt(5, true, fewerEips, { full: false })).ok, true);
      assert.ok(readsAll(), `after a failure: ${gw.calls.join('; ')}`);
    } finally {
      await gw.cleanup();
    }
  });

  test('a partial apply reads the addresses while an EIP conflict is known, so its recheck takes the EIP once the LAN host is gone', async () => {
    const lanHosts = new Map([[EIP4, '02:aa:bb:cc:dd:ee']]);
    const gw = await scriptedGateway({ lanHosts });
    try {
      const first = await gw.applyAt(0, true);
      assert.deepEqual(
        first.eipConflicts?.map((c) => c.ip),
        [EIP4],
      );
      assert.deepEqual(gw.eips(), [EIP6]);
      assert.deepEqual(first.held, [EIP6], 'what the node tells its peers it holds leaves out the address a LAN host answers for');
      lanHosts.clear();
      gw.calls.length = 0;
      const before = await gw.applyAt(10_000, true, gw.plan, { full: false });
      assert.ok(gw.calls.includes('ip -json address show'), `addresses read: ${gw.calls.join('; ')}`);
      assert.deepEqual([before.eipConflicts?.length, gw.eips()], [1, [EIP6]], 'not rechecked before it is due');
      const after = await gw.applyAt(31_000, true, gw.plan, { full: false });
      assert.deepEqual([after.eipConflicts, gw.eips().sort()], [[], [EIP4, EIP6].sort()]);
      assert.deepEqual(after.held, [EIP4, EIP6].sort());
      gw.calls.length = 0;
      await gw.applyAt(32_000, true, gw.plan, { full: false });
      assert.deepEqual(gw.calls, [], 'no conflict left: nothing read');
    } finally {
      await gw.cleanup();
    }
  });

  test('nft failing: no link, route or sysctl is written, no EIP is added, and the report says why', async () => {
    const gw = await scriptedGateway();
    try {
      const report = await gw.applyAt(0, false);
      assert.deepEqual([report.ok, report.complete, report.failedApplies], [false, false, 1]);
      assert.deepEqual(
        gw.events.map((e) => e.step),
        ['nft'],
        'only the nft load was attempted',
      );
      assert.deepEqual(gw.writes(), []);
      assert.equal(gw.forwarding(), '0/0');
      assert.deepEqual([gw.eips(), gw.announcer], [[], []]);
      assert.equal(report.subsystems.nft.errors[0]!.code, 'EGW_ERR_NFT');
      for (const s of ['links', 'sysctls', 'routes'] as const) assert.match(report.subsystems[s].skipped.join(), /guards\) did not load/, s);
      assert.deepEqual(report.subsystems.addresses.skipped, ['2 EIP(s) not added: the dataplane is not complete']);
    } finally {
      await gw.cleanup();
    }
  });

  test('a later step failing (routes): the guards and forwarding are in, but no EIP is added', async () => {
    const gw = await scriptedGateway({ failRoutes: true });
    try {
      const report = await gw.applyAt(0, true);
      assert.deepEqual([report.ok, report.complete], [false, false]);
      assert.ok(report.subsystems.routes.errors.length > 0);
      assert.equal(gw.forwarding(), '1/1', 'forwarding only needs the guards');
      assert.deepEqual(gw.eips(), []);
      assert.ok(!gw.writes().some((l) => l.startsWith('addr add 198.18.0.110') || l.startsWith('addr add 2001:db8::110')));
    } finally {
      await gw.cleanup();
    }
  });

  test('held EIPs survive failing applies until the streak passes both bounds, then go; a complete apply brings them back', async () => {
    const gw = await scriptedGateway({ held: [EIP4] });
    const s = 1000;
    try {
      // A burst of quick retries: five failures in four seconds withdraw nothing.
      for (const at of [0, 1, 2, 3, 4]) {
        const r = await gw.applyAt(at * s, false);
        assert.equal(r.failedApplies, at + 1);
        assert.deepEqual(gw.eips(), [EIP4], `after ${at} s`);
      }
      assert.deepEqual(gw.announcer, [`announce ${EIP4}`], 'a kept EIP stays announced');
      assert.ok(!gw.writes().length, 'the EIP not yet held was not added');
      const kept = await gw.applyAt(29 * s, false);
      assert.deepEqual(kept.subsystems.addresses.skipped, [
        '1 EIP(s) not added: the dataplane is not complete',
        '1 held EIP(s) kept through 6 incomplete apply(s) in a row over 29.0 s',
      ]);
      // Past 30 s (and 3 applies): the node lets go.
      const gone = await gw.applyAt(31 * s, false);
      assert.deepEqual(gw.eips(), []);
      assert.deepEqual(gw.announcer, [`announce ${EIP4}`, `withdraw ${EIP4}`]);
      assert.match(gone.subsystems.addresses.skipped.join(), /1 held EIP\(s\) withdrawn: 7 incomplete apply\(s\) in a row over 31.0 s passed the hold limit/);
      // Complete again: both EIPs, announced; the streak starts over.
      const back = await gw.applyAt(40 * s, true);
      assert.deepEqual([back.complete, back.failedApplies], [true, 0]);
      assert.deepEqual(gw.eips().sort(), [EIP4, EIP6].sort());
      const again = await gw.applyAt(100 * s, false);
      assert.equal(again.failedApplies, 1);
      assert.deepEqual(gw.eips().sort(), [EIP4, EIP6].sort(), 'one failure after a long quiet spell withdraws nothing');
    } finally {
      await gw.cleanup();
    }
  });

  test('an EIP the plan gives up is released even while applies fail (another node may be taking it over)', async () => {
    const gw = await scriptedGateway({ held: [EIP4, EIP6] });
    try {
      const r = await gw.applyAt(0, false, { ...gw.plan, eips: gw.plan.eips.filter((e) => e.family === 6) });
      assert.equal(r.complete, false);
      assert.deepEqual(gw.eips(), [EIP6]);
      assert.deepEqual(gw.writes(), [`addr del ${EIP4}/32 dev eth0`]);
    } finally {
      await gw.cleanup();
    }
  });
});

// ---- privileged: the whole dataplane in throwaway namespaces ----

const W: [string, { ipv4: string }] = ['w', { ipv4: '198.18.0.11' }];
const G: [string, { ipv4: string }] = ['g', { ipv4: '198.18.0.12' }];

type Step = { op: 'dataplane.apply'; plan: NodePlan; nftFails?: boolean; probeAtNft?: boolean } | { op: 'dataplane.diff'; plan: NodePlan } | { op: 'sh'; script: string };

async function run(lab: NetnsLab, node: string, ...steps: Step[]): Promise<HelperOutput> {
  return lab.helper(node, { steps });
}

/** The forwarding sysctls of a node, as `ipv4/ipv6`. */
const forwardingOf = async (lab: NetnsLab, node: string) => (await lab.sh(node, 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv6/conf/all/forwarding')).split('\n').join('/');

const reports = (out: HelperOutput) => out.results as (ApplyReport & DiffLine[])[];
const nftCalls = (out: HelperOutput) => out.calls.filter((c) => c.call === 'nft.apply').map((c) => c.args as { rules?: string[]; routes?: string[]; device?: boolean });

describe('Dataplane in network namespaces', { skip: privilegedSkipReason() }, () => {
  test('worker and gateway: full apply in order, no-op second apply, empty diff, traffic through the tunnel', async (t) => {
    await withLab('dp', W, G, async (lab) => {
      const worker = withIpv6(await seedPlan('worker-1'));
      const gateway = withIpv6(await seedPlan('gateway-1'));
      const out = await run(
        lab,
        'w',
        { op: 'dataplane.diff', plan: worker },
        { op: 'dataplane.apply', plan: worker, probeAtNft: true },
        { op: 'dataplane.apply', plan: worker },
        { op: 'dataplane.diff', plan: worker },
      );
      const [before, first, second, after] = reports(out);
      assert.ok(before!.some((l) => l.text === 'missing route table 3001 default via 172.31.0.1 dev egress.vxlan onlink'));
      assert.ok(before!.some((l) => l.text === 'missing rule pref 9001 fwmark 0x100/0xff00 lookup 3001'));
      assert.equal(first!.ok, true, JSON.stringify(first!.subsystems));
      assert.equal(first!.subsystems.links.writes, 9);
      assert.equal(first!.subsystems.routes.writes, 12);
      assert.deepEqual(first!.missingSysctls, []);
      assert.equal(second!.writes, 0);
      assert.deepEqual(after, []);
      // guards first: when nft ran, none of our rules, routes or the device existed yet
      assert.deepEqual(nftCalls(out)[0], { table: 'sluice', rules: [], routes: [], device: false });
      assert.equal(await lab.sh('w', 'cat /proc/sys/net/ipv4/conf/egress.vxlan/rp_filter'), '2');

      const restarted = reports(await run(lab, 'w', { op: 'dataplane.apply', plan: worker }))[0]!;
      assert.equal(restarted.writes, 0, 'a restarted agent adopts everything');

      const gw = await run(lab, 'g', { op: 'dataplane.apply', plan: gateway }, { op: 'dataplane.apply', plan: gateway });
      const [g1, g2] = reports(gw);
      assert.equal(g1!.ok, true, JSON.stringify(g1!.subsystems));
      assert.equal(g1!.subsystems.addresses.writes, 2);
      assert.equal(g2!.writes, 0);
      assert.deepEqual(
        gw.calls.filter((c) => c.call === 'announce').map((c) => c.args),
        [
          { ip: '198.18.0.110', ifname: 'eth0' },
          { ip: '2001:db8::110', ifname: 'eth0' },
        ],
      );
      await lab.sh('w', 'ping -c1 -W2 172.31.0.1 >/dev/null && ping -c1 -W2 fd00:5c:e::1 >/dev/null');

      t.diagnostic(
        `worker: full apply ${first!.durationMs.toFixed(1)} ms (${first!.writes} writes), no-op ${second!.durationMs.toFixed(1)} ms, restarted no-op ${restarted.durationMs.toFixed(1)} ms`,
      );
      t.diagnostic(`gateway: full apply ${g1!.durationMs.toFixed(1)} ms (${g1!.writes} writes), no-op ${g2!.durationMs.toFixed(1)} ms`);
    });
  });

  test('the periodic full apply of an unchanged plan repairs what was changed behind its back, and only that', async () => {
    await withLab('dp-drift', W, G, async (lab) => {
      const gateway = withIpv6(await seedPlan('gateway-1'));
      const foreign = 'ip route show table 100; ip -6 rule list pref 8999';
      const out = await run(
        lab,
        'g',
        { op: 'dataplane.apply', plan: gateway },
        { op: 'dataplane.apply', plan: gateway },
        {
          op: 'sh',
          script: [
            // ours, deleted or changed by hand
            'ip route del 10.244.1.0/24 table 3000',
            'ip -6 route del default table 3002',
            'ip rule del pref 9001',
            'ip -6 rule del pref 9002',
            'ip addr del 198.18.0.110/32 dev eth0',
            'ip addr del fd00:5c:e::1/112 dev egress.vxlan',
            'ip neigh del 172.31.0.3 dev egress.vxlan',
            'bridge fdb del 02:2b:b9:95:e2:e6 dev egress.vxlan dst 198.18.0.13',
            // stale, in our ranges: a table the plan does not use
            'ip route add 10.8.0.0/16 dev eth0 table 3100',
            // not ours: outside the ranges
            'ip route add 10.9.0.0/16 dev eth0 table 100',
            'ip -6 rule add pref 8999 fwmark 0x100/0xff00 table 100',
          ].join('\n'),
        },
        { op: 'dataplane.apply', plan: gateway },
        { op: 'dataplane.apply', plan: gateway },
        { op: 'dataplane.diff', plan: gateway },
      );
      const [first, noop, edited, repaired, again, diff] = reports(out);
      assert.equal(first!.ok, true, JSON.stringify(first!.subsystems));
      assert.equal(noop!.writes, 0);
      assert.equal((edited as unknown as { exitCode: number }).exitCode, 0, 'the hand edits were made');
      assert.equal(repaired!.ok, true, JSON.stringify(repaired!.subsystems));
      // two routes and two rules back, the stale route gone; the EIP; the tunnel address, neighbour and FDB entry
      assert.deepEqual(
        [repaired!.subsystems.routes.writes, repaired!.subsystems.addresses.writes, repaired!.subsystems.links.writes],
        [5, 1, 3],
        JSON.stringify(repaired!.subsystems),
      );
      assert.equal(again!.writes, 0);
      assert.deepEqual(diff, []);
      assert.equal(await lab.ip('g', ['route', 'show', 'table', '3100']), '');
      assert.match(await lab.sh('g', foreign), /10\.9\.0\.0\/16 dev eth0[\s\S]*8999:\s+from all fwmark 0x100\/0xff00 lookup 100/);
    });
  });

  test('a gateway leaving the plan: nft stops marking while its routes still exist, then they go', async () => {
    await withLab('dp-peer', W, G, async (lab) => {
      const full = withIpv6(await seedPlan('worker-1'));
      const reduced = withoutPeer(full, 'gateway-2');
      const out = await run(lab, 'w', { op: 'dataplane.apply', plan: full }, { op: 'dataplane.apply', plan: reduced, probeAtNft: true }, { op: 'dataplane.diff', plan: reduced });
      const [, dropped, diff] = reports(out);
      assert.equal(dropped!.ok, true);
      assert.equal(dropped!.subsystems.routes.writes, 6);
      assert.equal(dropped!.subsystems.links.writes, 3);
      const atNft = nftCalls(out)[1]!;
      assert.ok(
        atNft.routes!.some((r) => r.includes('table 3002')),
        'table 3002 still routed when nft switched',
      );
      assert.ok(atNft.rules!.some((r) => r.includes('0x200')));
      assert.deepEqual(diff, []);
      const rules = await lab.ip('w', ['rule', 'list']);
      assert.doesNotMatch(rules, /0x200/);
    });
  });

  test('nft failing: nothing else is written (no add, no removal, no sysctl); the retry does it all', async () => {
    await withLab('dp-nft', W, G, async (lab) => {
      const full = withIpv6(await seedPlan('worker-1'));
      const reduced = withoutPeer(full, 'gateway-2');
      // The plan also asks for ip_forward 0, so a sysctl write would show.
      const changed = { ...reduced, sysctls: reduced.sysctls.map((s) => (s.key === 'net.ipv4.ip_forward' ? { ...s, value: '0' } : s)) };
      const out = await run(lab, 'w', { op: 'dataplane.apply', plan: full }, { op: 'dataplane.apply', plan: changed, nftFails: true });
      const [, failed] = reports(out);
      assert.deepEqual([failed!.ok, failed!.complete, failed!.writes], [false, false, 0]);
      assert.equal(failed!.subsystems.nft.errors.length, 1);
      assert.equal(failed!.subsystems.nft.errors[0]!.code, 'EGW_ERR_NFT');
      for (const s of ['links', 'sysctls', 'routes'] as const) assert.match(failed!.subsystems[s].skipped[0]!, /guards\) did not load/, s);
      assert.equal(await lab.sh('w', 'cat /proc/sys/net/ipv4/ip_forward'), '1');
      assert.match(await lab.ip('w', ['rule', 'list']), /0x200/, 'rules into the old table survive the failed switch');
      const retried = reports(await run(lab, 'w', { op: 'dataplane.apply', plan: reduced }))[0]!;
      assert.deepEqual([retried.ok, retried.complete, retried.failedApplies], [true, true, 0]);
      assert.equal(retried.subsystems.routes.writes, 6);
      assert.doesNotMatch(await lab.ip('w', ['rule', 'list']), /0x200/);
    });
  });

  test('a fresh gateway whose nft load fails: forwarding stays off, no tunnel, no route, no EIP', async () => {
    await withLab('dp-fresh', W, G, async (lab) => {
      const gateway = withIpv6(await seedPlan('gateway-1'));
      await lab.sh('g', 'sysctl -qw net.ipv4.ip_forward=0 net.ipv6.conf.all.forwarding=0');
      // Global addresses only: the kernel adds link-local ones by itself as the veth comes up.
      const globals = async () =>
        (await lab.ipJson<{ ifname: string; addr_info: { local: string; scope: string }[] }>('g', ['address', 'show'])).flatMap((l) =>
          l.addr_info.filter((a) => a.scope === 'global').map((a) => `${a.local} ${l.ifname}`),
        );
      const before = await globals();
      const [failed] = reports(await run(lab, 'g', { op: 'dataplane.apply', plan: gateway, nftFails: true }));
      assert.deepEqual([failed!.ok, failed!.complete, failed!.writes], [false, false, 0]);
      assert.equal(await forwardingOf(lab, 'g'), '0/0', 'a forwarding sysctl was turned on');
      assert.deepEqual(await globals(), before, 'an address (EIP or tunnel) was added');
      assert.doesNotMatch(await lab.ip('g', ['link', 'show']), /egress\.vxlan/);
      assert.equal(await lab.ip('g', ['rule', 'list', 'pref', '9002']), '');
    });
  });

  test('EIPs held when nft starts failing are kept through the hold limit, then withdrawn and no longer announced', async () => {
    await withLab('dp-hold', W, G, async (lab) => {
      const gateway = withIpv6(await seedPlan('gateway-1'));
      const apply = (nftFails: boolean): Step => ({ op: 'dataplane.apply', plan: gateway, nftFails });
      const out = await lab.helper<HelperOutput>('g', { eipHold: { failedApplies: 2, ms: 0 }, steps: [apply(false), apply(true), apply(true)] });
      const [held, kept, gone] = reports(out);
      assert.deepEqual([held!.complete, kept!.failedApplies, gone!.failedApplies], [true, 1, 2]);
      assert.equal(kept!.subsystems.addresses.writes, 0);
      assert.equal(gone!.subsystems.addresses.writes, 2);
      assert.doesNotMatch(await lab.ip('g', ['address', 'show', 'dev', 'eth0']), /198\.18\.0\.110|2001:db8::110/);
      assert.deepEqual(
        out.calls.filter((c) => c.call !== 'nft.apply').map((c) => `${c.call} ${(c.args as { ip: string }).ip}`),
        ['announce 198.18.0.110', 'announce 2001:db8::110', 'withdraw 198.18.0.110', 'withdraw 2001:db8::110'],
      );
    });
  });

  test('EIPs: a restarted agent announces adopted EIPs once; removed EIPs are withdrawn', async () => {
    await withLab('dp-eip', W, G, async (lab) => {
      const gateway = withIpv6(await seedPlan('gateway-1'));
      await run(lab, 'g', { op: 'dataplane.apply', plan: gateway });
      const out = await run(
        lab,
        'g',
        { op: 'dataplane.apply', plan: gateway },
        { op: 'dataplane.apply', plan: gateway },
        { op: 'dataplane.apply', plan: { ...gateway, eips: [] } },
        { op: 'dataplane.apply', plan: { ...gateway, eips: [] } },
      );
      const [adopt, noop, removed, again] = reports(out);
      assert.deepEqual([adopt!.writes, noop!.writes, removed!.writes, again!.writes], [0, 0, 2, 0]);
      assert.deepEqual(
        out.calls.filter((c) => c.call !== 'nft.apply').map((c) => `${c.call} ${(c.args as { ip: string }).ip} ${(c.args as { ifname: string }).ifname}`),
        ['announce 198.18.0.110 eth0', 'announce 2001:db8::110 eth0', 'withdraw 198.18.0.110 eth0', 'withdraw 2001:db8::110 eth0'],
      );
    });
  });

  test('a plan without a tunnel removes only what sluice owns', async () => {
    await withLab('dp-bare', W, G, async (lab) => {
      const foreign = async () => ({
        links: (await lab.ipJson<{ ifname: string }>('w', ['link', 'show'])).map((l) => l.ifname).sort(),
        rules: await lab.ip('w', ['rule', 'list', 'pref', '100']),
        routes: await lab.ip('w', ['route', 'show', 'table', '100']),
        addrs: await lab.ip('w', ['-br', 'address', 'show', 'dev', 'eth0']),
      });
      await lab.sh(
        'w',
        [
          'ip link add xtra0 type veth peer name xtra1',
          'ip rule add pref 100 fwmark 0x1 table 100',
          'ip route add 10.9.0.0/16 dev eth0 table 100',
          'ip addr add 198.18.0.50/24 dev eth0',
        ].join('\n'),
      );
      const before = await foreign();
      const worker = withIpv6(await seedPlan('worker-1'));
      const out = await run(
        lab,
        'w',
        { op: 'dataplane.apply', plan: worker },
        { op: 'dataplane.apply', plan: bare(worker) },
        { op: 'dataplane.apply', plan: bare(worker) },
        { op: 'dataplane.diff', plan: bare(worker) },
      );
      const [, torn, again, diff] = reports(out);
      assert.equal(torn!.ok, true);
      assert.equal(torn!.subsystems.links.writes, 1);
      assert.equal(torn!.subsystems.routes.writes, 12);
      assert.equal(again!.writes, 0);
      assert.deepEqual(diff, []);
      assert.deepEqual(await foreign(), before);
      assert.equal(await lab.ip('w', ['rule', 'list', 'pref', '9001']), '');
    });
  });
});
