import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { VxlanPlan } from '../../planner/node-plan.js';
import { privilegedSkipReason, withLab, type NetnsLab } from '../testing/lab.js';
import { seedPlan, withIpv6, withoutPeer } from '../testing/seed-plans.js';
import { linkCommand } from './link-commands.js';
import { describeLinkOp } from './link-describe.js';
import { desiredVxlan } from './link-desired.js';
import type { StandaloneApplyResult as LinkApplyResult } from '../testing/standalone-apply.js';
import { planLinkOps } from './link-ops.js';
import type { ObservedDevice, ObservedLinks } from './link-types.js';

const PLAN: VxlanPlan = {
  device: 'egress.vxlan',
  vni: 100,
  port: 4789,
  parent: 'eth0',
  localIp: '198.18.0.11',
  mtu: 0,
  mac: '02:94:C6:6A:58:84',
  addressV4: '172.31.0.3/16',
  addressV6: 'fd00:5c:e:0::3/112',
  peers: [
    { node: 'gateway-1', underlayIp: '198.18.0.12', mac: '02:ab:3a:ba:d3:8d', tunnelIpv4: '172.31.0.1', tunnelIpv6: 'fd00:5c:e::1' },
    { node: 'gateway-2', underlayIp: '198.18.0.13', mac: '02:2b:b9:95:e2:e6', tunnelIpv4: '172.31.0.2' },
  ],
};

/** The kernel state that exactly matches PLAN on a 1500-byte parent. */
function matching(overrides: Partial<ObservedDevice> = {}): ObservedLinks {
  return {
    device: 'egress.vxlan',
    parent: { name: 'eth0', mtu: 1500 },
    link: {
      kind: 'vxlan',
      vni: 100,
      port: 4789,
      local: '198.18.0.11',
      parent: 'eth0',
      learning: false,
      mtu: 1450,
      mac: '02:94:c6:6a:58:84',
      up: true,
      addresses: [
        { cidr: '172.31.0.3/16', family: 4 },
        { cidr: 'fd00:5c:e::3/112', family: 6 },
      ],
      neighbours: [
        { ip: '172.31.0.1', mac: '02:ab:3a:ba:d3:8d', permanent: true },
        { ip: 'fd00:5c:e::1', mac: '02:ab:3a:ba:d3:8d', permanent: true },
        { ip: '172.31.0.2', mac: '02:2b:b9:95:e2:e6', permanent: true },
        { ip: '172.31.0.77', permanent: false },
      ],
      fdb: [
        { mac: '02:ab:3a:ba:d3:8d', dst: '198.18.0.12' },
        { mac: '02:2b:b9:95:e2:e6', dst: '198.18.0.13' },
      ],
      ...overrides,
    },
  };
}

const kinds = (ops: readonly { kind: string }[]) => ops.map((o) => o.kind);

describe('desiredVxlan', () => {
  test('MTU 0 is the parent MTU minus 50 over an IPv4 underlay, 70 over IPv6', () => {
    assert.equal(desiredVxlan(PLAN, 1500).mtu, 1450);
    assert.equal(desiredVxlan({ ...PLAN, localIp: '2001:db8::11' }, 1500).mtu, 1430);
    assert.equal(desiredVxlan({ ...PLAN, mtu: 1400 }, undefined).mtu, 1400);
  });
  test('a peer MAC that is empty or carries extra words is refused, not written', () => {
    for (const mac of ['', '02:ab:3a:ba:d3:8d\nlink del eth0']) {
      assert.throws(() => desiredVxlan({ ...PLAN, peers: [{ ...PLAN.peers[0]!, mac }] }, 1500), { code: 'EGW_ERR_PLAN' });
    }
    assert.throws(() => desiredVxlan({ ...PLAN, parent: 'eth0 up' }, 1500), { code: 'EGW_ERR_PLAN' });
  });
  test('an unknown parent with MTU 0 is an error', () => {
    assert.throws(() => desiredVxlan(PLAN, undefined), { code: 'EGW_ERR_NETLINK' });
  });
  test('addresses and MACs are canonical', () => {
    const d = desiredVxlan(PLAN, 1500);
    assert.deepEqual(d.addresses, ['172.31.0.3/16', 'fd00:5c:e::3/112']);
    assert.equal(d.mac, '02:94:c6:6a:58:84');
    assert.equal(d.neighbours.length, 3);
  });
});

describe('planLinkOps', () => {
  const want = desiredVxlan(PLAN, 1500);
  const cases: { name: string; observed: ObservedLinks; plan?: VxlanPlan | null; adds: string[]; deletes: string[] }[] = [
    {
      name: 'absent device: create it and everything on it',
      observed: { device: 'egress.vxlan' },
      adds: ['create', 'addr-add', 'addr-add', 'neigh-set', 'neigh-set', 'neigh-set', 'fdb-add', 'fdb-add'],
      deletes: [],
    },
    { name: 'matching device: nothing (kernel neighbours ignored)', observed: matching(), adds: [], deletes: [] },
    {
      name: 'other VNI: delete and create again',
      observed: matching({ vni: 7 }),
      adds: ['delete', 'create', 'addr-add', 'addr-add', 'neigh-set', 'neigh-set', 'neigh-set', 'fdb-add', 'fdb-add'],
      deletes: [],
    },
    {
      name: 'learning on: recreate',
      observed: matching({ learning: true }),
      adds: ['delete', 'create', 'addr-add', 'addr-add', 'neigh-set', 'neigh-set', 'neigh-set', 'fdb-add', 'fdb-add'],
      deletes: [],
    },
    {
      name: 'a veth took the name: recreate',
      observed: matching({ kind: 'veth' }),
      adds: ['delete', 'create', 'addr-add', 'addr-add', 'neigh-set', 'neigh-set', 'neigh-set', 'fdb-add', 'fdb-add'],
      deletes: [],
    },
    { name: 'MTU and state fixed in place', observed: matching({ mtu: 1400, up: false }), adds: ['modify'], deletes: [] },
    {
      name: 'a new MAC flushes the neighbours in the kernel: set them again after it',
      observed: matching({ mac: '02:00:00:00:00:01' }),
      adds: ['modify', 'neigh-set', 'neigh-set', 'neigh-set'],
      deletes: [],
    },
    { name: 'stale peer: only its entries go, after the adds', observed: matching(), plan: { ...PLAN, peers: [PLAN.peers[0]!] }, adds: [], deletes: ['neigh-del', 'fdb-del'] },
    {
      name: 'peer moved to another underlay IP: new FDB first, then old',
      observed: matching(),
      plan: { ...PLAN, peers: [PLAN.peers[0]!, { ...PLAN.peers[1]!, underlayIp: '198.18.0.14' }] },
      adds: ['fdb-add'],
      deletes: ['fdb-del'],
    },
    {
      name: 'neighbour learnt by the kernel for a peer IP becomes permanent',
      observed: matching({ neighbours: [...matching().link!.neighbours.filter((n) => n.ip !== '172.31.0.2'), { ip: '172.31.0.2', mac: '02:2b:b9:95:e2:e6', permanent: false }] }),
      adds: ['neigh-set'],
      deletes: [],
    },
    { name: 'tunnel address changed: add new, then remove old', observed: matching(), plan: { ...PLAN, addressV4: '172.31.0.9/16' }, adds: ['addr-add'], deletes: ['addr-del'] },
    { name: 'no vxlan in the plan: delete the device, last', observed: matching(), plan: null, adds: [], deletes: ['delete'] },
    { name: 'no vxlan and no device: nothing', observed: { device: 'egress.vxlan' }, plan: null, adds: [], deletes: [] },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const plan = c.plan === null ? undefined : desiredVxlan(c.plan ?? PLAN, 1500);
      const ops = planLinkOps(plan, c.observed);
      assert.deepEqual(kinds(ops.adds), c.adds);
      assert.deepEqual(kinds(ops.deletes), c.deletes);
    });
  }

  test('commands and diff lines', () => {
    const ops = planLinkOps(want, { device: 'egress.vxlan' });
    assert.deepEqual(linkCommand(ops.adds[0]!), {
      tool: 'ip',
      command: 'link add egress.vxlan mtu 1450 address 02:94:c6:6a:58:84 up type vxlan id 100 dstport 4789 local 198.18.0.11 dev eth0 nolearning',
    });
    assert.equal(linkCommand(ops.adds[2]!).command, 'addr add fd00:5c:e::3/112 dev egress.vxlan nodad');
    assert.equal(linkCommand(ops.adds.at(-1)!).command, 'fdb append 02:2b:b9:95:e2:e6 dev egress.vxlan dst 198.18.0.13');
    assert.equal(describeLinkOp(ops.adds[3]!).text, 'missing neighbour 172.31.0.1 lladdr 02:ab:3a:ba:d3:8d on egress.vxlan');
    const recreate = planLinkOps(want, matching({ port: 8472 }));
    assert.equal(describeLinkOp(recreate.adds[0]!).text, 'changed link egress.vxlan: dstport 8472 → 4789 (recreated)');
  });
});

// ---- privileged: real devices in throwaway namespaces ----

interface Kernel {
  link: Record<string, unknown> & { linkinfo: { info_kind: string; info_data: Record<string, unknown> } };
  addrs: string[];
  neigh: string[];
  fdb: string[];
}

async function kernel(lab: NetnsLab, node: string, device = 'egress.vxlan'): Promise<Kernel | undefined> {
  const links = await lab.ipJson<Kernel['link'] & { ifname: string; addr_info: { local: string; prefixlen: number; scope: string }[] }>(node, ['-d', 'address', 'show']);
  const link = links.find((l) => l.ifname === device);
  if (!link) return undefined;
  const neigh = await lab.ipJson<{ dst: string; lladdr?: string; state: string[] }>(node, ['neigh', 'show', 'dev', device]);
  const fdb = JSON.parse(await lab.sh(node, `bridge -json fdb show dev ${device}`)) as { mac: string; dst?: string }[];
  return {
    link,
    addrs: link.addr_info
      .filter((a) => a.scope === 'global')
      .map((a) => `${a.local}/${a.prefixlen}`)
      .sort(),
    neigh: neigh
      .filter((n) => n.state.includes('PERMANENT'))
      .map((n) => `${n.dst} ${n.lladdr}`)
      .sort(),
    fdb: fdb
      .filter((f) => f.dst)
      .map((f) => `${f.mac} ${f.dst}`)
      .sort(),
  };
}

const WORKER: [string, { ipv4: string }] = ['w', { ipv4: '198.18.0.11' }];
const GATEWAY: [string, { ipv4: string }] = ['g', { ipv4: '198.18.0.12' }];

async function applyLinks(lab: NetnsLab, node: string, ...plans: (VxlanPlan | undefined)[]): Promise<LinkApplyResult[]> {
  const out = await lab.helper(node, { steps: plans.map((vxlan) => ({ op: 'links.apply', vxlan: vxlan ?? null })) });
  return out.results as LinkApplyResult[];
}

describe('LinkDriver in network namespaces', { skip: privilegedSkipReason() }, () => {
  test('creates exactly the planned device, neighbours and FDB; a second apply and a fresh instance write nothing; the tunnel carries traffic', async () => {
    await withLab('links', WORKER, GATEWAY, async (lab) => {
      const worker = withIpv6(await seedPlan('worker-1')).vxlan!;
      const gateway = withIpv6(await seedPlan('gateway-1')).vxlan!;
      const [first, second] = await applyLinks(lab, 'w', worker, worker);
      assert.deepEqual(first!.errors, []);
      // link add (with mtu, address, up) + 2 addresses + 4 neighbours + 2 FDB entries
      assert.equal(first!.writes, 9);
      assert.equal(second!.writes, 0);
      assert.equal((await applyLinks(lab, 'w', worker))[0]!.writes, 0, 'a fresh driver adopts the device');

      const k = (await kernel(lab, 'w'))!;
      const data = k.link.linkinfo.info_data;
      assert.equal(k.link.linkinfo.info_kind, 'vxlan');
      assert.deepEqual([data.id, data.port, data.local, data.link, data.learning], [100, 4789, '198.18.0.11', 'eth0', false]);
      assert.equal(k.link.mtu, 1450);
      assert.equal(k.link.address, '02:94:c6:6a:58:84');
      assert.ok((k.link.flags as string[]).includes('UP'));
      assert.deepEqual(k.addrs, ['172.31.0.3/16', 'fd00:5c:e::3/112']);
      assert.deepEqual(k.neigh, ['172.31.0.1 02:ab:3a:ba:d3:8d', '172.31.0.2 02:2b:b9:95:e2:e6', 'fd00:5c:e::1 02:ab:3a:ba:d3:8d', 'fd00:5c:e::2 02:2b:b9:95:e2:e6']);
      assert.deepEqual(k.fdb, ['02:2b:b9:95:e2:e6 198.18.0.13', '02:ab:3a:ba:d3:8d 198.18.0.12']);

      assert.equal((await applyLinks(lab, 'g', gateway))[0]!.errors.length, 0);
      await lab.sh('w', 'ping -c1 -W2 172.31.0.1 >/dev/null && ping -c1 -W2 fd00:5c:e::1 >/dev/null');
    });
  });

  test('a peer dropped from the plan loses only its neighbours and FDB entry', async () => {
    await withLab('links-peer', WORKER, GATEWAY, async (lab) => {
      const full = withIpv6(await seedPlan('worker-1'));
      const reduced = withoutPeer(full, 'gateway-2').vxlan!;
      const [, dropped, again] = await applyLinks(lab, 'w', full.vxlan!, reduced, reduced);
      assert.equal(dropped!.writes, 3, 'two neighbour deletes and one FDB delete');
      assert.equal(dropped!.adds.writes, 0);
      assert.equal(again!.writes, 0);
      const k = (await kernel(lab, 'w'))!;
      assert.deepEqual(k.neigh, ['172.31.0.1 02:ab:3a:ba:d3:8d', 'fd00:5c:e::1 02:ab:3a:ba:d3:8d']);
      assert.deepEqual(k.fdb, ['02:ab:3a:ba:d3:8d 198.18.0.12']);
    });
  });

  test('immutable changes recreate the device; MTU changes it in place; IPv6 underlay derives MTU − 70', async () => {
    const w6: [string, { ipv4: string; ipv6: string }] = ['w', { ipv4: '198.18.0.11', ipv6: '2001:db8:18::11' }];
    await withLab('links-change', w6, GATEWAY, async (lab) => {
      const plan = (await seedPlan('worker-1')).vxlan!;
      const overV6: VxlanPlan = {
        ...plan,
        localIp: '2001:db8:18::11',
        peers: plan.peers.map((p) => ({ ...p, underlayIp: p.underlayIp.replace('198.18.0.', '2001:db8:18::') })),
      };
      const newMac = { ...plan, vni: 101, mtu: 1400, mac: '02:00:00:00:00:09' };
      const [, vni, mtu, mac, macAgain, v6] = await applyLinks(lab, 'w', plan, { ...plan, vni: 101 }, { ...plan, vni: 101, mtu: 1400 }, newMac, newMac, overV6);
      assert.equal(vni!.writes, 1 + 1 + 1 + 2 + 2, 'delete, create, address, 2 neighbours, 2 FDB');
      assert.equal(mtu!.writes, 1);
      assert.equal(mac!.writes, 1 + 2, 'link set, then the 2 neighbours the MAC change flushed');
      assert.equal(macAgain!.writes, 0);
      assert.deepEqual(v6!.errors, []);
      const k = (await kernel(lab, 'w'))!;
      assert.equal(k.link.linkinfo.info_data.local6, '2001:db8:18::11');
      assert.equal(k.link.linkinfo.info_data.id, 100);
      assert.equal(k.link.mtu, 1430);
      assert.deepEqual(k.fdb, ['02:2b:b9:95:e2:e6 2001:db8:18::13', '02:ab:3a:ba:d3:8d 2001:db8:18::12']);
    });
  });

  test('without vxlan in the plan only our device goes; foreign links stay', async () => {
    await withLab('links-gone', WORKER, GATEWAY, async (lab) => {
      await lab.ip('w', ['link', 'add', 'xtra0', 'type', 'veth', 'peer', 'name', 'xtra1']);
      await lab.ip('w', ['link', 'add', 'other.vxlan', 'type', 'vxlan', 'id', '200', 'dstport', '4790', 'local', '198.18.0.11', 'dev', 'eth0']);
      const before = (await lab.ipJson<{ ifname: string }>('w', ['link', 'show'])).map((l) => l.ifname).sort();
      const plan = (await seedPlan('worker-1')).vxlan!;
      const [created, removed, again] = await applyLinks(lab, 'w', plan, undefined, undefined);
      assert.equal(created!.errors.length, 0);
      assert.equal(removed!.writes, 1);
      assert.equal(again!.writes, 0);
      assert.equal(await kernel(lab, 'w'), undefined);
      const after = (await lab.ipJson<{ ifname: string }>('w', ['link', 'show'])).map((l) => l.ifname).sort();
      assert.deepEqual(after, before);
      assert.ok(after.includes('other.vxlan') && after.includes('xtra0'));
    });
  });

  test('refuses a plan naming another device', async () => {
    await withLab('links-name', WORKER, GATEWAY, async (lab) => {
      const plan = (await seedPlan('worker-1')).vxlan!;
      const [r] = await applyLinks(lab, 'w', { ...plan, device: 'eth0' });
      assert.equal(r!.writes, 0);
      assert.match(r!.errors[0]!.message, /owns "egress.vxlan"/);
    });
  });
});
