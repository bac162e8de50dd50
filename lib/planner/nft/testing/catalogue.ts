/**
 * A table that uses every statement, field and value of the vocabulary at least once, in rules
 * that load in a real kernel. The kernel tests load it as text and as JSON and compare the
 * bytecode; a unit test checks that every kind of vocabulary.ts appears in it.
 */
import type { NftTablePlan } from '../../node-plan.js';
import {
  accept,
  addressInSet,
  clampMssToRouteMtu,
  clearMarkBits,
  counter,
  ct,
  ctDirection,
  ctStateAnyOf,
  dnatTo,
  etherSourceAnyOf,
  nextHopIs,
  drop,
  interfaceIs,
  ip,
  ipAddress,
  addressInPrefix,
  l4protoIs,
  limitPerSecond,
  logWithPrefix,
  reject,
  markIs,
  masked,
  masquerade,
  meta,
  num,
  portIs,
  ret,
  rule,
  setMarkBits,
  snatTo,
  snatToSource,
  sourceRoutedBackViaInput,
  tcpFlagsAnyOf,
} from '../statements.js';
import type { NftRule } from '../vocabulary.js';

const prefix4: NftRule = {
  statements: [{ kind: 'match', left: ipAddress(4, 'daddr'), op: '==', right: { kind: 'ip', family: 4, address: '203.0.113.0', prefix: 24 } }, ret],
};

export const CATALOGUE_TABLE: NftTablePlan = {
  family: 'inet',
  name: 'sluice',
  sets: [
    { name: 'hosts4', type: 'ipv4_addr', interval: false, elements: ['198.18.0.11', '198.18.0.12'] },
    { name: 'nets4', type: 'ipv4_addr', interval: true, elements: ['10.96.0.0/12', '10.244.1.0-10.244.3.255', '198.18.0.20'] },
    { name: 'hosts6', type: 'ipv6_addr', interval: false, elements: ['fd00:198:18::11'] },
    { name: 'nets6', type: 'ipv6_addr', interval: true, elements: ['fd00:10:244::/56', 'fd00::1-fd00::9'] },
  ],
  chains: [
    {
      name: 'cat_mark',
      type: 'filter',
      hook: 'prerouting',
      priority: { base: 'mangle', offset: 0 },
      rules: [
        rule([addressInSet(4, 'daddr', '==', 'nets4'), ret]),
        prefix4,
        rule([ctDirection('reply'), markIs('ct', 0xff00, '==', 0xff00), setMarkBits('meta', 0xffff00ff, 0xff00), accept]),
        rule(
          [
            interfaceIs('iifname', '!=', ['egress.vxlan', 'eth0']),
            ctDirection('original'),
            addressInSet(6, 'saddr', '==', 'hosts6'),
            addressInSet(6, 'daddr', '!=', 'nets6'),
            counter,
            setMarkBits('meta', 0xffff00ff, 0x200),
            setMarkBits('ct', 0xffff00ff, 0x200),
            accept,
          ],
          'worker default/x',
        ),
        rule([
          {
            kind: 'match',
            left: meta('l4proto'),
            op: '==',
            right: {
              kind: 'anonymous set',
              items: [
                { kind: 'symbol', name: 'tcp' },
                { kind: 'symbol', name: 'udp' },
              ],
            },
          },
          { kind: 'set', target: ct('mark'), value: num(0x10) },
        ]),
        rule([
          { kind: 'match', left: meta('nfproto'), op: '==', right: { kind: 'symbol', name: 'ipv6' } },
          { kind: 'match', left: masked(meta('mark'), 0xff), op: '!=', right: num(0) },
          counter,
        ]),
      ],
    },
    {
      name: 'cat_after_dnat',
      type: 'filter',
      hook: 'prerouting',
      priority: { base: 'dstnat', offset: 10 },
      rules: [
        rule([{ kind: 'match', left: ct('status'), op: '==', right: { kind: 'flags', names: ['dnat'] } }, counter], 'after dnat'),
        rule(
          [interfaceIs('iifname', '==', 'eth0'), etherSourceAnyOf('==', ['02:00:00:00:00:0b', '02:00:00:00:00:0c']), addressInSet(4, 'saddr', '==', 'hosts4'), accept],
          'native arrival',
        ),
        rule([interfaceIs('iifname', '==', 'eth0'), etherSourceAnyOf('!=', ['02:00:00:00:00:0b']), counter]),
        rule([
          interfaceIs('iifname', '!=', ['egress.vxlan', 'eth0']),
          addressInSet(4, 'saddr', '==', 'hosts4'),
          sourceRoutedBackViaInput,
          setMarkBits('meta', 0xffffff80, 0x7f),
          accept,
        ]),
      ],
    },
    {
      name: 'cat_input',
      type: 'filter',
      hook: 'input',
      priority: { base: 'filter', offset: 0 },
      rules: [
        rule([portIs('udp', 'dport', 4789), addressInSet(4, 'saddr', '!=', 'hosts4'), counter, drop], 'vxlan from unknown host'),
        rule([portIs('tcp', 'sport', 53), ipAddressIs4('198.18.0.2'), accept]),
        rule([addressInSet(6, 'daddr', '==', 'hosts6'), ctStateAnyOf(['new', 'invalid']), counter, drop], 'eip input guard'),
      ],
    },
    {
      name: 'cat_forward',
      type: 'filter',
      hook: 'forward',
      priority: { base: 'filter', offset: 0 },
      rules: [
        rule([interfaceIs('oifname', '==', 'eth0'), nextHopIs(4, '==', ['198.18.0.11']), accept], 'native next hop'),
        rule([interfaceIs('oifname', '==', 'eth0'), nextHopIs(6, '!=', ['fd00:198:18::11', 'fd00:198:18::12']), counter]),
        rule([interfaceIs('oifname', '==', 'egress.vxlan'), tcpFlagsAnyOf(['syn']), clampMssToRouteMtu]),
        rule([interfaceIs('iifname', '==', 'egress.vxlan'), tcpFlagsAnyOf(['syn', 'rst']), counter]),
        rule([interfaceIs('iifname', '==', 'egress.vxlan'), markIs('meta', 0xff00, '!=', 0xff00), counter, drop], 'anti-relay'),
        rule([addressInSet(4, 'saddr', '==', 'hosts4'), addressInPrefix(4, 'daddr', '203.0.113.0', 24), portIs('sctp', 'dport', 9), counter, accept], 'fw apps/a 0'),
        rule([addressInSet(6, 'saddr', '==', 'hosts6'), l4protoIs('sctp'), limitPerSecond(10, 20), logWithPrefix('sluice-fw deny apps/a 1: ')]),
        rule([addressInSet(4, 'saddr', '==', 'hosts4'), l4protoIs('udp'), limitPerSecond(5, 10), logWithPrefix('fw apps/a #1', 7040)]),
        rule([addressInSet(6, 'saddr', '==', 'hosts6'), l4protoIs('tcp'), counter, reject('tcp reset')]),
        rule([addressInSet(4, 'saddr', '==', 'hosts4'), counter, reject('icmpx admin-prohibited')], 'fw apps/a default'),
      ],
    },
    {
      name: 'cat_unmark',
      type: 'filter',
      hook: 'postrouting',
      priority: { base: 'raw', offset: 0 },
      rules: [rule([interfaceIs('oifname', '==', 'egress.vxlan'), clearMarkBits('meta', 0xffffff80)]), rule([markIs('ct', 0x7f, '==', 0x7f), clearMarkBits('meta', 0xffffff80)])],
    },
    {
      name: 'cat_snat',
      type: 'nat',
      hook: 'postrouting',
      priority: { base: 'srcnat', offset: -10 },
      rules: [
        rule([markIs('meta', 0xff00, '==', 0xff00), addressInSet(4, 'saddr', '==', 'hosts4'), counter, snatTo(4, '198.18.0.110')], 'snat default/x'),
        rule([markIs('meta', 0xff00, '==', 0xff00), addressInSet(6, 'saddr', '==', 'hosts6'), counter, snatTo(6, 'fd00:198:18::110')], 'snat default/x'),
        rule([addressInSet(4, 'saddr', '==', 'nets4'), interfaceIs('oifname', '==', 'eth0'), masquerade]),
        rule([interfaceIs('oifname', '==', 'egress.vxlan'), snatToSource(4)]),
        rule([interfaceIs('oifname', '==', 'egress.vxlan'), snatToSource(6)]),
      ],
    },
    {
      name: 'cat_dnat',
      type: 'nat',
      hook: 'prerouting',
      priority: { base: 'dstnat', offset: -5 },
      rules: [
        rule([addressInSet(4, 'saddr', '==', 'hosts4'), portIs('udp', 'dport', 53), dnatTo(4, '198.18.0.10', 5353)]),
        rule([addressInSet(6, 'saddr', '==', 'hosts6'), portIs('tcp', 'dport', 53), dnatTo(6, 'fd00:198:18::10', 5353)]),
      ],
    },
  ],
};

function ipAddressIs4(address: string) {
  return { kind: 'match', left: ipAddress(4, 'saddr'), op: '==', right: ip(4, address) } as const;
}
