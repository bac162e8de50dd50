import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeCleanup, planCleanup, sysctlDevice, type CleanupObservation, type CleanupTarget } from './cleanup.js';
import type { ObservedDevice } from './links/link-types.js';
import type { ObservedRoute, ObservedRule } from './routes/route-types.js';
import { SysctlJournal, type Journal } from './sysctl-journal.js';
import { DEFAULT_CONFIG, ownedRanges } from '../planner/config.js';

const TARGET: CleanupTarget = { config: DEFAULT_CONFIG, stateDir: '/nonexistent' };
const OWNED = ownedRanges(DEFAULT_CONFIG);

const vxlan: ObservedDevice = { kind: 'vxlan', vni: 100, port: 4789, mtu: 1450, mac: '02:00:00:00:00:01', up: true, addresses: [], neighbours: [], fdb: [] };
const rule = (priority: number, table: number): ObservedRule => ({
  family: 4,
  priority,
  fwmark: 0x100,
  mask: 0xff00,
  table,
  foreign: [],
  selector: `pref ${priority} fwmark 0x100/0xff00 lookup ${table}`,
});
const route = (table: number): ObservedRoute => ({
  family: 4,
  table,
  type: 'unicast',
  dst: 'default',
  via: '172.31.0.2',
  dev: 'egress.vxlan',
  onlink: true,
  metric: 0,
  foreign: [],
  selector: `default table ${table}`,
});
const entry = (before: string, set: string) => ({ before, set, at: '2026-01-01T00:00:00.000Z' });

function observation(over: Partial<CleanupObservation> = {}): CleanupObservation {
  return {
    nft: true,
    // already filtered to the owned ranges, as RouteDriver.observe() returns them
    routing: { owned: OWNED, rules: [rule(9001, 3001)], routes: [route(3001)] },
    links: { device: 'egress.vxlan', link: vxlan },
    addresses: {
      addresses: [
        { ip: '198.18.0.40', family: 4, prefixlen: 32, ifname: 'eth0', ours: true },
        { ip: '198.18.0.11', family: 4, prefixlen: 24, ifname: 'eth0', ours: false },
        { ip: '198.18.0.41', family: 4, prefixlen: 32, ifname: 'eth0', ours: false },
      ],
    },
    journal: {},
    sysctls: new Map(),
    ...over,
  };
}

test('removes the nft table, the rules and routes in the owned ranges, the VXLAN device and tagged EIPs only', () => {
  const plan = planCleanup(TARGET, observation());
  assert.equal(plan.nft, true);
  assert.equal(plan.link, true);
  assert.deepEqual(
    plan.addresses.map((a) => a.ip),
    ['198.18.0.40'],
    'an untagged /32 on the NIC is not ours',
  );
  assert.deepEqual(
    plan.routeDeletes.map((op) => op.kind),
    ['rule-del', 'route-del'],
  );
  assert.deepEqual(
    describeCleanup(TARGET, plan).map((a) => `${a.subsystem}: ${a.text}`),
    [
      'nft: delete table inet sluice',
      'route: delete rule pref 9001 fwmark 0x100/0xff00 lookup 3001',
      'route: delete route table 3001 default via 172.31.0.2 dev egress.vxlan onlink',
      'link: delete link egress.vxlan (its tunnel addresses, neighbours, FDB entries and rp_filter go with it)',
      'address: delete address 198.18.0.40/32 on eth0 (no more ARP/NDP answers for it)',
    ],
  );
});

test('a node without sluice state: nothing to do', () => {
  const plan = planCleanup(TARGET, observation({ nft: false, routing: { owned: OWNED, rules: [], routes: [] }, links: { device: 'egress.vxlan' }, addresses: { addresses: [] } }));
  assert.deepEqual(describeCleanup(TARGET, plan), []);
  assert.deepEqual(plan.kept, []);
});

test('a link of another kind under our device name is left alone and said so', () => {
  const plan = planCleanup(TARGET, observation({ links: { device: 'egress.vxlan', link: { ...vxlan, kind: 'veth' } } }));
  assert.equal(plan.link, false);
  assert.match(plan.kept.join('\n'), /link egress\.vxlan is a veth link/);
});

const sysctlCases: Array<{
  name: string;
  journal: Journal;
  now: Record<string, string | undefined>;
  restoreForwarding?: boolean;
  restores: string[];
  kept: RegExp[];
  journalAfter: string[];
}> = [
  {
    name: 'a value sluice changed is put back',
    journal: { 'net.netfilter.nf_conntrack_tcp_loose': entry('0', '1') },
    now: { 'net.netfilter.nf_conntrack_tcp_loose': '1\n' },
    restores: ['net.netfilter.nf_conntrack_tcp_loose=0'],
    kept: [],
    journalAfter: [],
  },
  {
    name: 'a value changed by someone since is left as it is',
    journal: { 'net.netfilter.nf_conntrack_tcp_loose': entry('0', '1') },
    now: { 'net.netfilter.nf_conntrack_tcp_loose': '0\n' },
    restores: [],
    kept: [],
    journalAfter: [],
  },
  {
    name: 'a value that another writer moved elsewhere is kept and reported',
    journal: { 'net.ipv4.conf.all.rp_filter': entry('1', '2') },
    now: { 'net.ipv4.conf.all.rp_filter': '0\n' },
    restores: [],
    kept: [/net\.ipv4\.conf\.all\.rp_filter = 0: changed since sluice set it to 2/],
    journalAfter: [],
  },
  {
    name: 'forwarding stays on (the pod network needs it) and stays in the journal',
    journal: { 'net.ipv4.ip_forward': entry('0', '1'), 'net.ipv6.conf.all.forwarding': entry('0', '1') },
    now: { 'net.ipv4.ip_forward': '1\n', 'net.ipv6.conf.all.forwarding': '1\n' },
    restores: [],
    kept: [/net\.ipv4\.ip_forward = 1: sluice turned it on/, /net\.ipv6\.conf\.all\.forwarding = 1/],
    journalAfter: ['net.ipv4.ip_forward', 'net.ipv6.conf.all.forwarding'],
  },
  {
    name: '--restore-forwarding turns it off',
    journal: { 'net.ipv4.ip_forward': entry('0', '1') },
    now: { 'net.ipv4.ip_forward': '1\n' },
    restoreForwarding: true,
    restores: ['net.ipv4.ip_forward=0'],
    kept: [],
    journalAfter: [],
  },
  {
    name: 'keys of the tunnel device go with it; keys of a device already gone are dropped',
    journal: { 'net.ipv4.conf.egress/vxlan.rp_filter': entry('1', '2'), 'net.ipv4.conf.old0.rp_filter': entry('1', '2') },
    now: { 'net.ipv4.conf.egress/vxlan.rp_filter': '2\n', 'net.ipv4.conf.old0.rp_filter': undefined },
    restores: [],
    kept: [],
    journalAfter: [],
  },
];

for (const c of sysctlCases) {
  test(`sysctls: ${c.name}`, () => {
    const plan = planCleanup(TARGET, observation({ journal: c.journal, sysctls: new Map(Object.entries(c.now)) }), c.restoreForwarding ? { restoreForwarding: true } : {});
    assert.deepEqual(
      plan.sysctls.map((s) => `${s.key}=${s.value}`),
      c.restores,
    );
    assert.equal(plan.kept.length, c.kept.length, plan.kept.join('\n'));
    for (const re of c.kept)
      assert.ok(
        plan.kept.some((k) => re.test(k)),
        `${re} in ${plan.kept.join('\n')}`,
      );
    assert.deepEqual(Object.keys(plan.journalAfter).sort(), c.journalAfter);
  });
}

test("the tunnel device's keys are restored when the device stays (another kind took the name)", () => {
  const journal = { 'net.ipv4.conf.egress/vxlan.rp_filter': entry('1', '2') };
  const plan = planCleanup(
    TARGET,
    observation({ links: { device: 'egress.vxlan', link: { ...vxlan, kind: 'veth' } }, journal, sysctls: new Map([['net.ipv4.conf.egress/vxlan.rp_filter', '2']]) }),
  );
  assert.deepEqual(plan.sysctls, [{ key: 'net.ipv4.conf.egress/vxlan.rp_filter', value: '1' }]);
});

test('an unreadable journal leaves sysctls alone and says why', () => {
  const plan = planCleanup(TARGET, observation({ journalError: '/var/lib/sluice/sysctls.json: not a sluice sysctl journal' }));
  assert.deepEqual(plan.sysctls, []);
  assert.match(plan.kept.join('\n'), /not a sluice sysctl journal; sysctls left as they are/);
});

test('sysctlDevice', () => {
  assert.equal(sysctlDevice('net.ipv4.conf.egress/vxlan.rp_filter'), 'egress.vxlan');
  assert.equal(sysctlDevice('net.ipv6.conf.all.forwarding'), 'all');
  assert.equal(sysctlDevice('net.ipv4.ip_forward'), undefined);
  assert.equal(sysctlDevice('net.netfilter.nf_conntrack_tcp_loose'), undefined);
});

test('SysctlJournal: the first value found is kept across changes; the file is replaced whole and read back', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sl-journal-'));
  try {
    const journal = new SysctlJournal(join(dir, 'state'));
    assert.deepEqual(await journal.read(), {}, 'no file: empty');
    await journal.record([{ key: 'net.ipv4.ip_forward', from: '0', to: '1' }]);
    // someone turned it off; sluice turns it on again: the value before sluice is still 0
    await journal.record([
      { key: 'net.ipv4.ip_forward', from: '0', to: '1' },
      { key: 'net.netfilter.nf_conntrack_tcp_loose', from: '0', to: '1' },
    ]);
    const again = new SysctlJournal(join(dir, 'state'));
    const read = await again.read();
    assert.deepEqual(Object.fromEntries(Object.entries(read).map(([k, e]) => [k, [e.before, e.set]])), {
      'net.ipv4.ip_forward': ['0', '1'],
      'net.netfilter.nf_conntrack_tcp_loose': ['0', '1'],
    });
    // a later value sluice sets keeps the original "before"
    await again.record([{ key: 'net.ipv4.ip_forward', from: '1', to: '2' }]);
    assert.deepEqual([(await again.read())['net.ipv4.ip_forward']!.before, (await again.read())['net.ipv4.ip_forward']!.set], ['0', '2']);
    await again.remove();
    assert.deepEqual(await again.read(), {});
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('SysctlJournal: a file that is not a journal (or holds non-numeric values) is refused with EGW_ERR_INPUT', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sl-journal-'));
  try {
    const journal = new SysctlJournal(dir);
    for (const text of [
      '{',
      '{"version":2,"sysctls":{}}',
      '{"version":1,"sysctls":{"net.ipv4.ip_forward":{"before":"0; rm -rf /","set":"1"}}}',
      '{"version":1,"sysctls":{"../../etc/passwd":{"before":"0","set":"1"}}}',
    ]) {
      await writeFile(journal.path, text);
      await assert.rejects(journal.read(), { code: 'EGW_ERR_INPUT' }, text);
    }
    await writeFile(journal.path, '{"version":1,"sysctls":{"net.ipv4.tcp_rmem":{"before":"4096\\t131072\\t6291456","set":"4096 131072 6291456","at":""}}}');
    assert.equal((await journal.read())['net.ipv4.tcp_rmem']!.before, '4096\t131072\t6291456');
    assert.match(await readFile(journal.path, 'utf8'), /tcp_rmem/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
