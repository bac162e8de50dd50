import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { EgressError } from '../errors.js';
import type { NodePlan } from '../planner/node-plan.js';
import { parseAddresses } from './addresses/address-observe.js';
import type { AnnouncerLike } from './announcer/index.js';
import type { AnnouncerHook, ApplyReport, NftDriverLike, ObservedDataplane } from './dataplane-types.js';
import { Dataplane } from './dataplane.js';
import type { NftDriver } from './nft/nft-driver.js';
import type { DiffLine } from './diff-line.js';
import { diffPlan } from './diff-plan.js';
import { parseRule } from './routes/route-parse.js';
import { privilegedSkipReason, withLab, type HelperOutput, type NetnsLab } from './testing/lab.js';
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
  test('against an empty kernel every planned item is missing, in apply order', async () => {
    const plan = await seedPlan('gateway-1');
    const texts = diffPlan(plan, emptyKernel(plan)).map((l) => l.text);
    assert.deepEqual(texts, [
      'missing sysctl net.ipv4.conf.egress/vxlan.rp_filter (no such key in this kernel yet), want 2',
      'changed sysctl net.ipv4.ip_forward is 0, want 1',
      'changed sysctl net.netfilter.nf_conntrack_tcp_loose is 0, want 1',
      'missing link egress.vxlan vxlan id 100 dstport 4789 local 198.18.0.12 dev eth0 mtu 1450 address 02:ab:3a:ba:d3:8d',
      'missing address 172.31.0.1/16 on egress.vxlan',
      'missing neighbour 172.31.0.3 lladdr 02:94:c6:6a:58:84 on egress.vxlan',
      'missing fdb 02:94:c6:6a:58:84 dst 198.18.0.11 on egress.vxlan',
      'missing route table 3000 10.244.1.0/24 via 172.31.0.3 dev egress.vxlan onlink',
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
  test('every iproute2 subsystem fails and is reported; sysctls and nft still run', async () => {
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

// ---- privileged: the whole dataplane in throwaway namespaces ----

const W: [string, { ipv4: string }] = ['w', { ipv4: '198.18.0.11' }];
const G: [string, { ipv4: string }] = ['g', { ipv4: '198.18.0.12' }];

type Step = { op: 'dataplane.apply'; plan: NodePlan; nftFails?: boolean; probeAtNft?: boolean } | { op: 'dataplane.diff'; plan: NodePlan };

async function run(lab: NetnsLab, node: string, ...steps: Step[]): Promise<HelperOutput> {
  return lab.helper(node, { steps });
}

const reports = (out: HelperOutput) => out.results as (ApplyReport & DiffLine[])[];
const nftCalls = (out: HelperOutput) => out.calls.filter((c) => c.call === 'nft.apply').map((c) => c.args as { rules?: string[]; routes?: string[] });

describe('Dataplane in network namespaces', { skip: privilegedSkipReason() }, () => {
  test('worker and gateway: full apply in order, no-op second apply, empty diff, traffic through the tunnel', async (t) => {
    await withLab('dp', W, G, async (lab) => {
      const worker = withIpv6(await seedPlan('worker-1'));
      const gateway = withIpv6(await seedPlan('gateway-1'));
      const out = await run(lab, 'w', { op: 'dataplane.diff', plan: worker }, { op: 'dataplane.apply', plan: worker, probeAtNft: true }, { op: 'dataplane.apply', plan: worker }, { op: 'dataplane.diff', plan: worker });
      const [before, first, second, after] = reports(out);
      assert.ok(before!.some((l) => l.text === 'missing route table 3001 default via 172.31.0.1 dev egress.vxlan onlink'));
      assert.ok(before!.some((l) => l.text === 'missing rule pref 9001 fwmark 0x100/0xff00 lookup 3001'));
      assert.equal(first!.ok, true, JSON.stringify(first!.subsystems));
      assert.equal(first!.subsystems.links.writes, 9);
      assert.equal(first!.subsystems.routes.writes, 12);
      assert.deepEqual(first!.missingSysctls, []);
      assert.equal(second!.writes, 0);
      assert.deepEqual(after, []);
      // make-before-break: when nft ran, every planned rule and route was already there
      const atNft = nftCalls(out)[0]!;
      assert.equal(atNft.rules!.length, 8);
      assert.equal(atNft.routes!.length, 4);
      assert.equal(await lab.sh('w', 'cat /proc/sys/net/ipv4/conf/egress.vxlan/rp_filter'), '2');

      const restarted = reports(await run(lab, 'w', { op: 'dataplane.apply', plan: worker }))[0]!;
      assert.equal(restarted.writes, 0, 'a restarted agent adopts everything');

      const gw = await run(lab, 'g', { op: 'dataplane.apply', plan: gateway }, { op: 'dataplane.apply', plan: gateway });
      const [g1, g2] = reports(gw);
      assert.equal(g1!.ok, true, JSON.stringify(g1!.subsystems));
      assert.equal(g1!.subsystems.addresses.writes, 2);
      assert.equal(g2!.writes, 0);
      assert.deepEqual(gw.calls.filter((c) => c.call === 'announce').map((c) => c.args), [{ ip: '198.18.0.110', ifname: 'eth0' }, { ip: '2001:db8::110', ifname: 'eth0' }]);
      await lab.sh('w', 'ping -c1 -W2 172.31.0.1 >/dev/null && ping -c1 -W2 fd00:5c:e::1 >/dev/null');

      t.diagnostic(`worker: full apply ${first!.durationMs.toFixed(1)} ms (${first!.writes} writes), no-op ${second!.durationMs.toFixed(1)} ms, restarted no-op ${restarted.durationMs.toFixed(1)} ms`);
      t.diagnostic(`gateway: full apply ${g1!.durationMs.toFixed(1)} ms (${g1!.writes} writes), no-op ${g2!.durationMs.toFixed(1)} ms`);
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
      assert.ok(atNft.routes!.some((r) => r.includes('table 3002')), 'table 3002 still routed when nft switched');
      assert.ok(atNft.rules!.some((r) => r.includes('0x200')));
      assert.deepEqual(diff, []);
      const rules = await lab.ip('w', ['rule', 'list']);
      assert.doesNotMatch(rules, /0x200/);
    });
  });

  test('nft failing holds removals back, reports it, and still applies the rest', async () => {
    await withLab('dp-nft', W, G, async (lab) => {
      const full = withIpv6(await seedPlan('worker-1'));
      const reduced = withoutPeer(full, 'gateway-2');
      const changed = { ...reduced, sysctls: reduced.sysctls.map((s) => (s.key === 'net.ipv4.ip_forward' ? { ...s, value: '0' } : s)) };
      const out = await run(lab, 'w', { op: 'dataplane.apply', plan: full }, { op: 'dataplane.apply', plan: changed, nftFails: true });
      const [, failed] = reports(out);
      assert.equal(failed!.ok, false);
      assert.equal(failed!.subsystems.nft.errors.length, 1);
      assert.equal(failed!.subsystems.nft.errors[0]!.code, 'EGW_ERR_NFT');
      assert.equal(failed!.subsystems.sysctls.writes, 1, 'other subsystems still ran');
      assert.equal(failed!.subsystems.routes.writes, 0);
      assert.match(failed!.subsystems.routes.skipped[0]!, /6 deletions: nft failed/);
      assert.match(failed!.subsystems.links.skipped[0]!, /3 deletions/);
      assert.match(await lab.ip('w', ['rule', 'list']), /0x200/, 'rules into the old table survive the failed switch');
      const retried = reports(await run(lab, 'w', { op: 'dataplane.apply', plan: reduced }))[0]!;
      assert.equal(retried.ok, true);
      assert.equal(retried.subsystems.routes.writes, 6);
      assert.doesNotMatch(await lab.ip('w', ['rule', 'list']), /0x200/);
    });
  });

  test('EIPs: a restarted agent announces adopted EIPs once; removed EIPs are withdrawn', async () => {
    await withLab('dp-eip', W, G, async (lab) => {
      const gateway = withIpv6(await seedPlan('gateway-1'));
      await run(lab, 'g', { op: 'dataplane.apply', plan: gateway });
      const out = await run(lab, 'g', { op: 'dataplane.apply', plan: gateway }, { op: 'dataplane.apply', plan: gateway }, { op: 'dataplane.apply', plan: { ...gateway, eips: [] } }, { op: 'dataplane.apply', plan: { ...gateway, eips: [] } });
      const [adopt, noop, removed, again] = reports(out);
      assert.deepEqual([adopt!.writes, noop!.writes, removed!.writes, again!.writes], [0, 0, 2, 0]);
      assert.deepEqual(out.calls.filter((c) => c.call !== 'nft.apply').map((c) => `${c.call} ${(c.args as { ip: string }).ip} ${(c.args as { ifname: string }).ifname}`), [
        'announce 198.18.0.110 eth0', 'announce 2001:db8::110 eth0', 'withdraw 198.18.0.110 eth0', 'withdraw 2001:db8::110 eth0',
      ]);
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
      await lab.sh('w', [
        'ip link add xtra0 type veth peer name xtra1',
        'ip rule add pref 100 fwmark 0x1 table 100',
        'ip route add 10.9.0.0/16 dev eth0 table 100',
        'ip addr add 198.18.0.50/24 dev eth0',
      ].join('\n'));
      const before = await foreign();
      const worker = withIpv6(await seedPlan('worker-1'));
      const out = await run(lab, 'w', { op: 'dataplane.apply', plan: worker }, { op: 'dataplane.apply', plan: bare(worker) }, { op: 'dataplane.apply', plan: bare(worker) }, { op: 'dataplane.diff', plan: bare(worker) });
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
