import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chainPriority, ruleToJson } from './rule-json.js';

const meta = (key: string) => ({ meta: { key } });
const ct = (key: string) => ({ ct: { key } });
const payload = (protocol: string, field: string) => ({ payload: { protocol, field } });
const match = (op: string, left: unknown, right: unknown) => ({ match: { op, left, right } });
const COUNTER = { counter: { packets: 0, bytes: 0 } };

test('rules of the planner translate to the JSON libnftables prints for them', () => {
  const cases: [string, unknown][] = [
    ['ip daddr @cluster4 return', { expr: [match('==', payload('ip', 'daddr'), '@cluster4'), { return: null }] }],
    [
      'iifname != { "egress.vxlan", "eth0" } ct direction original ip6 saddr @p_loc6 ip6 daddr != @p_exc6 counter meta mark set meta mark & 0xffff00ff | 0x00000200 accept comment "worker default/x"',
      {
        expr: [
          match('!=', meta('iifname'), { set: ['egress.vxlan', 'eth0'] }),
          match('==', ct('direction'), 'original'),
          match('==', payload('ip6', 'saddr'), '@p_loc6'),
          match('!=', payload('ip6', 'daddr'), '@p_exc6'),
          COUNTER,
          { mangle: { key: meta('mark'), value: { '|': [{ '&': [meta('mark'), 0xffff00ff] }, 0x200] } } },
          { accept: null },
        ],
        comment: 'worker default/x',
      },
    ],
    [
      'ct direction reply ct mark & 0x0000ff00 == 0x0000ff00 meta mark set meta mark & 0xffff00ff | 0x0000ff00 accept',
      {
        expr: [
          match('==', ct('direction'), 'reply'),
          match('==', { '&': [ct('mark'), 0xff00] }, 0xff00),
          { mangle: { key: meta('mark'), value: { '|': [{ '&': [meta('mark'), 0xffff00ff] }, 0xff00] } } },
          { accept: null },
        ],
      },
    ],
    [
      'oifname "egress.vxlan" tcp flags syn tcp option maxseg size set rt mtu',
      {
        expr: [
          match('==', meta('oifname'), 'egress.vxlan'),
          match('in', payload('tcp', 'flags'), 'syn'),
          { mangle: { key: { 'tcp option': { name: 'maxseg', field: 'size' } }, value: { rt: { key: 'mtu' } } } },
        ],
      },
    ],
    ['udp dport 4789 ip saddr != @nodes4 counter drop comment "vxlan from unknown host"', { expr: [match('==', payload('udp', 'dport'), 4789), match('!=', payload('ip', 'saddr'), '@nodes4'), COUNTER, { drop: null }], comment: 'vxlan from unknown host' }],
    ['ip6 daddr @eips6 ct state new,invalid counter drop', { expr: [match('==', payload('ip6', 'daddr'), '@eips6'), match('in', ct('state'), ['new', 'invalid']), COUNTER, { drop: null }] }],
    ['meta mark & 0x0000ff00 == 0x0000ff00 ip6 saddr @a counter snat ip6 to fd00:198:18::100 comment "snat x"', { expr: [match('==', { '&': [meta('mark'), 0xff00] }, 0xff00), match('==', payload('ip6', 'saddr'), '@a'), COUNTER, { snat: { family: 'ip6', addr: 'fd00:198:18::100' } }], comment: 'snat x' }],
    ['ip daddr 10.0.0.0/8 ct mark set 0x10 return', { expr: [match('==', payload('ip', 'daddr'), { prefix: { addr: '10.0.0.0', len: 8 } }), { mangle: { key: ct('mark'), value: 16 } }, { return: null }] }],
  ];
  for (const [text, json] of cases) assert.deepEqual(ruleToJson(text), json, text);
});

test('anything outside the vocabulary gives undefined, so the caller keeps the text', () => {
  for (const text of [
    '',
    'comment "only a comment"',
    'meta skuid 0 accept',
    'ip saddr 10.0.0.1-10.0.0.9 accept',
    'tcp option mss size set 1200',
    'jump other',
    'snat to 198.18.0.1',
    'ip saddr @a accept comment "x" drop',
    'iifname != { "a", "b" accept',
    'meta mark & 0xffff00ff set 1',
    'ct mark & 0xfffffffffffffffff == 1',
  ]) {
    assert.equal(ruleToJson(text), undefined, text);
  }
});

test('chain priorities of the inet family as numbers', () => {
  const cases: [string, number | undefined][] = [
    ['mangle', -150],
    ['filter', 0],
    ['srcnat - 10', 90],
    ['dstnat + 5', -95],
    ['-300', -300],
    ['42', 42],
    ['out', undefined],
    ['filter * 2', undefined],
  ];
  for (const [text, n] of cases) assert.equal(chainPriority(text), n, text);
});
