import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { EipPlan } from '../../planner/node-plan.js';
import { privilegedSkipReason, withLab, type NetnsLab } from '../testing/lab.js';
import { seedPlan, withIpv6 } from '../testing/seed-plans.js';
import { addressCommand } from './address-commands.js';
import type { StepResult } from '../report.js';
import type { AddressApplyResult } from './address-driver.js';
import { parseAddresses } from './address-observe.js';
import { planAddressOps } from './address-ops.js';
import { DEFAULT_ADDRESS_TAG } from './address-tag.js';

const TAG = DEFAULT_ADDRESS_TAG;
const eip = (ip: string, iface = 'eth0'): EipPlan => ({ ip, family: ip.includes(':') ? 6 : 4, interface: iface, policies: ['default/test'] });

/** `ip -json addr` rows as iproute2 6.1 prints them. */
const ROWS = [
  {
    ifname: 'eth0',
    addr_info: [
      { family: 'inet', local: '198.18.0.12', prefixlen: 24, scope: 'global' },
      { family: 'inet', local: '198.18.0.110', prefixlen: 32, metric: TAG, scope: 'global' },
      { family: 'inet', local: '198.18.0.99', prefixlen: 32, scope: 'global' },
      { family: 'inet', local: '198.18.0.98', prefixlen: 24, metric: TAG, scope: 'global' },
      { family: 'inet6', local: '2001:db8:0::110', prefixlen: 128, metric: TAG, scope: 'global', nodad: true },
      { family: 'inet6', local: 'fe80::1', prefixlen: 64, scope: 'link' },
    ],
  },
];

describe('address ownership', () => {
  test('ours = host prefix carrying the tag; link-local skipped; IPs canonical', () => {
    const seen = parseAddresses(ROWS, TAG).addresses;
    assert.deepEqual(
      seen.map((a) => `${a.ip}/${a.prefixlen} ${a.ours}`),
      ['198.18.0.12/24 false', '198.18.0.110/32 true', '198.18.0.99/32 false', '198.18.0.98/24 false', '2001:db8::110/128 true'],
    );
  });

  test('add missing, keep present, delete only tagged extras, never take a node address', () => {
    const plan = planAddressOps([eip('198.18.0.111'), eip('2001:db8::110'), eip('198.18.0.99')], parseAddresses(ROWS, TAG));
    assert.deepEqual(
      plan.ops.map((o) => addressCommand(o, TAG)),
      ['addr add 198.18.0.111/32 dev eth0 metric 20942', 'addr del 198.18.0.110/32 dev eth0'],
    );
    assert.deepEqual(
      plan.present.map((p) => p.ip),
      ['2001:db8::110'],
    );
    assert.equal(plan.conflicts.length, 1);
    assert.match(plan.conflicts[0]!.reason, /198\.18\.0\.99 is already on eth0/);
  });

  test('an unusable interface name or IP is rejected, the other EIPs still planned', () => {
    const plan = planAddressOps([eip('198.18.0.111', 'eth0\nlink del eth0'), eip('198.18.0.112 dev lo'), eip('198.18.0.113')], { addresses: [] });
    assert.equal(plan.rejected.length, 2);
    assert.deepEqual(
      plan.ops.map((o) => o.address.ip),
      ['198.18.0.113'],
    );
  });

  test('IPv6 EIPs skip DAD, make no prefix route and are never picked as a source address', () => {
    const plan = planAddressOps([eip('2001:db8::5')], { addresses: [] });
    assert.equal(addressCommand(plan.ops[0]!, TAG), 'addr add 2001:db8::5/128 dev eth0 metric 20942 nodad noprefixroute preferred_lft 0');
  });

  test('an EIP moving to another interface is added there before it leaves the old one', () => {
    const plan = planAddressOps([eip('198.18.0.110', 'eth1')], parseAddresses(ROWS, TAG));
    assert.deepEqual(
      plan.ops.map((o) => `${o.kind} ${o.address.ip} ${o.address.ifname}`),
      ['add 198.18.0.110 eth1', 'del 198.18.0.110 eth0', 'del 2001:db8::110 eth0'],
    );
  });
});

// ---- privileged ----

interface AddrRow {
  ifname: string;
  addr_info: { local: string; prefixlen: number; metric?: number; scope: string }[];
}

async function addresses(lab: NetnsLab, node: string): Promise<string[]> {
  const rows = await lab.ipJson<AddrRow>(node, ['address', 'show']);
  return rows.flatMap((l) => l.addr_info.filter((a) => a.scope === 'global').map((a) => `${l.ifname} ${a.local}/${a.prefixlen}${a.metric ? ` metric ${a.metric}` : ''}`)).sort();
}

async function applyEips(lab: NetnsLab, ...plans: EipPlan[][]): Promise<AddressApplyResult[]> {
  return (await lab.helper('g', { steps: plans.map((eips) => ({ op: 'addresses.apply', eips })) })).results as AddressApplyResult[];
}

/** Every attribute `ip -details -json address` shows of the node's global addresses but the lifetimes' clocks. */
async function addressDetails(lab: NetnsLab, node: string): Promise<unknown[]> {
  const rows = await lab.ipJson<{ ifname: string; addr_info: Record<string, unknown>[] }>(node, ['-details', 'address', 'show']);
  return rows
    .flatMap((l) => l.addr_info.filter((a) => a['scope'] === 'global').map((a): Record<string, unknown> => ({ ifname: l.ifname, ...a })))
    .sort((a, b) => String(a['local']).localeCompare(String(b['local'])));
}

describe('AddressDriver in a network namespace', { skip: privilegedSkipReason() }, () => {
  test('adds tagged EIPs, adopts them after a restart, removes only its own', async () => {
    await withLab('addr', ['w', { ipv4: '198.18.0.11' }], ['g', { ipv4: '198.18.0.12', ipv6: '2001:db8:18::12' }], async (lab) => {
      await lab.sh(
        'g',
        [
          'ip addr add 198.18.0.50/24 dev eth0',
          'ip addr add 198.18.0.99/32 dev eth0',
          'ip addr add 2001:db8::50/64 dev eth0 nodad',
          'ip link add xtra0 type veth peer name xtra1',
          'ip addr add 198.18.9.1/24 dev xtra0',
        ].join('\n'),
      );
      const foreign = await addresses(lab, 'g');
      const eips = withIpv6(await seedPlan('gateway-1')).eips;
      assert.deepEqual(
        eips.map((e) => e.ip),
        ['198.18.0.110', '2001:db8::110'],
      );

      const [first, second] = await applyEips(lab, [...eips], [...eips]);
      assert.deepEqual(first!.errors, []);
      assert.equal(first!.writes, 2);
      assert.deepEqual(
        first!.added.map((a) => a.ip),
        ['198.18.0.110', '2001:db8::110'],
      );
      assert.equal(second!.writes, 0);
      assert.deepEqual(
        second!.held.map((a) => a.ip),
        ['198.18.0.110', '2001:db8::110'],
      );
      assert.deepEqual(await addresses(lab, 'g'), [...foreign, 'eth0 198.18.0.110/32 metric 20942', 'eth0 2001:db8::110/128 metric 20942'].sort());

      const [restarted] = await applyEips(lab, [...eips]);
      assert.equal(restarted!.writes, 0, 'a fresh driver recognises its addresses by the tag');

      const [conflict] = await applyEips(lab, [...eips, eip('198.18.0.99')]);
      assert.equal(conflict!.writes, 0);
      assert.deepEqual(
        conflict!.errors.map((e) => e.code),
        ['EGW_ERR_ADDRESS_CONFLICT'],
      );

      const [one] = await applyEips(lab, [eips[0]!]);
      assert.equal(one!.writes, 1);
      assert.deepEqual(
        one!.removed.map((a) => a.ip),
        ['2001:db8::110'],
      );

      const [none, again] = await applyEips(lab, [], []);
      assert.equal(none!.writes, 1);
      assert.equal(again!.writes, 0);
      assert.deepEqual(await addresses(lab, 'g'), foreign, 'the node addresses are exactly as before');
    });
  });

  test('an EIP written over rtnetlink is, in every attribute, what `ip addr add` makes of the command', async () => {
    await withLab('addrnl', ['w', { ipv4: '198.18.0.11' }], ['g', { ipv4: '198.18.0.12', ipv6: '2001:db8:18::12' }], async (lab) => {
      const eips = withIpv6(await seedPlan('gateway-1')).eips;
      const written = async (addressWrites: 'rtnetlink' | 'ip') => {
        const [added] = (await lab.helper('g', { addressWrites, steps: [{ op: 'addresses.apply', eips }] })).results as AddressApplyResult[];
        assert.deepEqual(added!.errors, [], addressWrites);
        assert.equal(added!.writes, 2, addressWrites);
        const details = await addressDetails(lab, 'g');
        const [removed] = (await lab.helper('g', { addressWrites, steps: [{ op: 'addresses.apply', eips: [] }] })).results as AddressApplyResult[];
        assert.deepEqual([removed!.errors, removed!.writes], [[], 2], addressWrites);
        return details;
      };
      const before = await addressDetails(lab, 'g');
      const overNetlink = await written('rtnetlink');
      const byIp = await written('ip');
      assert.deepEqual(overNetlink, byIp);
      assert.ok(
        overNetlink.some(
          (a) => JSON.stringify(a).includes('"local":"2001:db8::110"') && JSON.stringify(a).includes('"nodad":true') && JSON.stringify(a).includes('"preferred_life_time":0'),
        ),
        JSON.stringify(overNetlink),
      );
      assert.deepEqual(await addressDetails(lab, 'g'), before);

      for (const addressWrites of ['rtnetlink', 'ip'] as const) {
        const held = eips.map((e) => ({ ip: e.ip, family: e.family, ifname: e.interface }));
        const [, , released] = (
          await lab.helper('g', {
            addressWrites,
            steps: [
              { op: 'addresses.apply', eips },
              { op: 'sh', script: 'ip addr del 2001:db8::110/128 dev eth0' },
              { op: 'addresses.release', addresses: held },
            ],
          })
        ).results as StepResult[];
        assert.deepEqual([released!.errors, released!.writes], [[], 1], `${addressWrites}: an EIP already gone is no error, nor a write`);
        assert.deepEqual(await addressDetails(lab, 'g'), before);
      }

      const [refused] = (await lab.helper('g', { steps: [{ op: 'addresses.apply', eips: [{ ...eips[0]!, interface: 'nosuch0' }] }] })).results as AddressApplyResult[];
      assert.equal(refused!.writes, 0);
      assert.match(refused!.errors[0]!.message, /ENODEV/);
      assert.match(refused!.errors[0]!.op, /^ip addr add 198\.18\.0\.110\/32 dev nosuch0 metric 20942$/);
    });
  });
});
