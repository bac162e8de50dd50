import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { execa } from 'execa';
import { privilegedSkipReason, withLab } from '../testing/lab.js';
import type { ObserveBothRequest } from './testing/observe-both.js';

const OBSERVE_BOTH = fileURLToPath(new URL('./testing/observe-both.js', import.meta.url));
const WORKER = { ipv4: '198.18.0.1', ipv6: 'fd00:18::1' };
const GATEWAY = { ipv4: '198.18.0.2', ipv6: 'fd00:18::2' };
const TAG = 7777;

/** Ours and the kind that lands in our ranges by someone else's hand (foreign attributes, other types). */
const SETUP = [
  'link add egress.vxlan type vxlan id 4242 dstport 4789 local 198.18.0.1 dev eth0 nolearning',
  'link set egress.vxlan mtu 1400 up',
  'addr add 10.250.0.1/24 dev egress.vxlan',
  'addr add fd10:250::1/64 dev egress.vxlan nodad',
  'neigh add 10.250.0.2 lladdr 02:ab:3a:ba:d3:8d dev egress.vxlan nud permanent',
  'neigh add fd10:250::2 lladdr 02:ab:3a:ba:d3:8d dev egress.vxlan nud permanent',
  'neigh add 10.250.0.3 lladdr 02:ab:3a:ba:d3:8e dev egress.vxlan nud reachable',
  `addr add 198.18.0.100/32 dev eth0 metric ${TAG}`,
  'addr add 198.18.0.101/32 dev eth0',
  `addr add fd00:18::100/128 dev eth0 metric ${TAG} nodad`,
  'link add v6only type vxlan id 7 dstport 8472 local fd00:18::1 dev eth0 learning',
  'route replace default via 10.250.0.2 dev egress.vxlan onlink table 5001',
  'route replace 10.96.0.0/12 via 10.250.0.2 dev egress.vxlan onlink table 5001',
  'route replace blackhole 10.0.0.0/8 table 5002',
  'route replace 198.51.100.0/24 dev egress.vxlan src 10.250.0.1 table 5002',
  'route replace 203.0.113.0/24 via 10.250.0.2 dev egress.vxlan onlink tos 0x10 table 5002',
  'route replace 10.250.9.0/24 via 10.250.0.2 dev egress.vxlan onlink metric 50 table 5001',
  'route replace unreachable 192.0.2.0/24 table 5003',
  '-6 route replace default via fd10:250::2 dev egress.vxlan onlink table 5001',
  '-6 route replace fd99::/16 dev egress.vxlan metric 7 table 5002',
  'rule add pref 9001 fwmark 0x100/0xff00 table 5001',
  'rule add pref 9000 fwmark 0x100/0xff00 iif lo lookup main',
  'rule add pref 9002 fwmark 0x200 table 5002',
  'rule add pref 9003 from 10.1.0.0/16 oif eth0 table 5003',
  'rule add pref 9004 not to 192.0.2.0/24 ipproto tcp dport 80-90 prohibit',
  'rule add pref 9005 goto 9007',
  'rule add pref 9007 uidrange 100-200 sport 53 table 5003',
  'route replace 10.77.0.0/16 table 5003 nexthop via 10.250.0.2 dev egress.vxlan onlink nexthop via 10.250.0.3 dev egress.vxlan onlink',
  'route replace 10.78.0.0/16 via 10.250.0.2 dev egress.vxlan onlink mtu 1300 table 5003',
  '-6 route replace fd98::/16 table 5003 nexthop via fd10:250::2 dev egress.vxlan onlink nexthop via fd10:250::3 dev egress.vxlan onlink',
  '-6 rule add pref 9001 fwmark 0x100/0xff00 table 5001',
  '-6 rule add pref 9006 from fd00::/8 tos 0x10 table 5002',
];

async function observeBoth(ns: string, request: ObserveBothRequest): Promise<{ iproute: unknown; rtnetlink: unknown }> {
  const r = await execa('ip', ['netns', 'exec', ns, process.execPath, OBSERVE_BOTH, JSON.stringify(request)]);
  return JSON.parse(r.stdout) as { iproute: unknown; rtnetlink: unknown };
}

describe('rtnetlink reads: the same observations as the ip -json processes', { skip: privilegedSkipReason() }, () => {
  test('links, addresses, rules and routes, ours and foreign, in a namespace', async () => {
    await withLab('rtnl', ['w', WORKER], ['g', GATEWAY], async (lab) => {
      const batch = (family: string[], lines: string[]) => execa('ip', ['-n', lab.ns('w'), ...family, '-batch', '-'], { input: lines.join('\n') + '\n' });
      await batch(
        [],
        SETUP.filter((l) => !l.startsWith('-6 ')),
      );
      await batch(
        ['-6'],
        SETUP.filter((l) => l.startsWith('-6 ')).map((l) => l.slice(3)),
      );
      await lab.settleAddresses('w');
      // Our ranges, and every table and priority: the kernel's own routes and rules read alike too.
      for (const owned of [
        { tables: { min: 5000, max: 5099 }, rulePriorities: { min: 9000, max: 9099 } },
        { tables: { min: 0, max: 0xffffffff }, rulePriorities: { min: 0, max: 0xffffffff } },
      ]) {
        const both = await observeBoth(lab.ns('w'), { devices: ['egress.vxlan', 'v6only', 'eth0', 'lo', 'absent0'], tag: TAG, owned });
        assert.deepEqual(both.rtnetlink, both.iproute);
      }
      const ours = await observeBoth(lab.ns('w'), { devices: ['egress.vxlan'], tag: TAG, owned: { tables: { min: 5000, max: 5099 }, rulePriorities: { min: 9000, max: 9099 } } });
      // Not vacuous: what was set up is there.
      const seen = JSON.stringify(ours.rtnetlink);
      for (const fact of ['"vni":4242', '"permanent":true', '"fdb":[]', '"ours":true', 'blackhole', '"prefsrc"', 'table 5003', '"iif":"lo"'])
        assert.ok(seen.includes(fact), `${fact} in ${seen}`);
    });
  });
});
