import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EgressError } from '../../errors.js';
import { elementText, isNotFound, parseTableJson, chainRuleCommentFromText } from './parse-observed.js';

// `nft -j list ruleset` from nft 1.0.6 (counter values edited), with a second table that must be ignored.
const LISTING = JSON.stringify({
  nftables: [
    { metainfo: { version: '1.0.6', release_name: 'Lester Gooch #5', json_schema_version: 1 } },
    { table: { family: 'inet', name: 'sluice', handle: 164 } },
    {
      set: {
        family: 'inet',
        name: 'cluster4',
        table: 'sluice',
        type: 'ipv4_addr',
        handle: 2,
        flags: ['interval'],
        elem: [{ prefix: { addr: '10.96.0.0', len: 12 } }, { range: ['10.244.1.0', '10.244.3.255'] }, '198.18.0.11'],
      },
    },
    { set: { family: 'inet', name: 'pods6', table: 'sluice', type: 'ipv6_addr', handle: 3, elem: ['fd00::5'] } },
    { chain: { family: 'inet', table: 'sluice', name: 'egress_mark', handle: 1, type: 'filter', hook: 'prerouting', prio: -150, policy: 'accept' } },
    {
      rule: {
        family: 'inet',
        table: 'sluice',
        chain: 'egress_mark',
        handle: 4,
        expr: [{ match: { op: '==', left: { payload: { protocol: 'ip', field: 'daddr' } }, right: '@cluster4' } }, { return: null }],
      },
    },
    {
      rule: {
        family: 'inet',
        table: 'sluice',
        chain: 'egress_mark',
        handle: 5,
        comment: 'local default/test',
        expr: [
          { match: { op: '==', left: { payload: { protocol: 'ip6', field: 'saddr' } }, right: '@pods6' } },
          { counter: { packets: 7, bytes: 588 } },
          { mangle: { key: { meta: { key: 'mark' } }, value: { '|': [{ meta: { key: 'mark' } }, 65280] } } },
          { accept: null },
        ],
      },
    },
    { table: { family: 'inet', name: 'foreign', handle: 165 } },
    { set: { family: 'inet', name: 's', table: 'foreign', type: 'ipv4_addr', handle: 1, elem: ['1.2.3.4'] } },
  ],
});

test('parseTableJson reads sets with elements and chains with rules and counters of one table', () => {
  const { sets, chains } = parseTableJson(LISTING, 'inet', 'sluice');
  assert.deepEqual(sets, [
    { name: 'cluster4', type: 'ipv4_addr', flags: ['interval'], interval: true, elements: ['10.96.0.0/12', '10.244.1.0-10.244.3.255', '198.18.0.11'] },
    { name: 'pods6', type: 'ipv6_addr', flags: [], interval: false, elements: ['fd00::5'] },
  ]);
  assert.deepEqual(chains, [
    {
      name: 'egress_mark',
      type: 'filter',
      hook: 'prerouting',
      priority: -150,
      policy: 'accept',
      rules: [{ handle: 4 }, { handle: 5, comment: 'local default/test', counter: { packets: 7, bytes: 588 } }],
    },
  ]);
});

test('parseTableJson keeps what a learned set holds on each element: time left and the comment', () => {
  // As nft 1.0.6 lists a set with flags timeout after an add with a comment.
  const listing = JSON.stringify({
    nftables: [
      {
        set: {
          family: 'inet',
          name: 'f_x_n0_4',
          table: 'sluice',
          type: 'ipv4_addr',
          handle: 9,
          flags: ['timeout'],
          elem: [{ elem: { val: '198.18.64.1', timeout: 10, expires: 9, comment: 'dns github.com A 198.18.64.1 ttl 5 to 10.244.1.3' } }],
        },
      },
    ],
  });
  assert.deepEqual(parseTableJson(listing, 'inet', 'sluice').sets, [
    {
      name: 'f_x_n0_4',
      type: 'ipv4_addr',
      flags: ['timeout'],
      interval: false,
      elements: ['198.18.64.1'],
      timed: [{ element: '198.18.64.1', expiresSeconds: 9, comment: 'dns github.com A 198.18.64.1 ttl 5 to 10.244.1.3' }],
    },
  ]);
});

test('parseTableJson rejects output that is not a libnftables listing', () => {
  assert.throws(() => parseTableJson('table inet sluice {', 'inet', 'sluice'), EgressError);
  assert.throws(() => parseTableJson('{"tables": []}', 'inet', 'sluice'), EgressError);
});

describe('elementText', () => {
  const cases: [unknown, string][] = [
    ['10.0.0.1', '10.0.0.1'],
    [{ prefix: { addr: 'fd00::', len: 64 } }, 'fd00::/64'],
    [{ range: ['10.0.0.1', '10.0.0.9'] }, '10.0.0.1-10.0.0.9'],
    [{ elem: { val: '10.0.0.2', timeout: 30 } }, '10.0.0.2'],
    [{ concat: ['10.0.0.1', 80] }, '10.0.0.1 . 80'],
  ];
  for (const [input, expected] of cases) test(expected, () => assert.equal(elementText(input), expected));
});

test('chainRuleCommentFromText reads the comment of the first rule of the named chain only', () => {
  const text =
    'table inet sluice {\n\tchain egress_input {\n\t\tudp dport 9 counter comment "probe"\n\t}\n\tchain structure {\n\t\treturn comment "sluice-structure-v2 sha256:00"\n\t}\n}\n';
  assert.equal(chainRuleCommentFromText(text, 'structure'), 'sluice-structure-v2 sha256:00');
  assert.equal(chainRuleCommentFromText(text, 'egress_input'), 'probe');
  assert.equal(chainRuleCommentFromText(text, 'other'), undefined);
  assert.equal(chainRuleCommentFromText('table inet sluice {\n\tchain structure {\n\t\treturn\n\t}\n}\n', 'structure'), undefined);
});

test('isNotFound recognizes the ENOENT of a list command', () => {
  assert.ok(isNotFound('Error: No such file or directory\nlist table inet sluice\n                ^^^^^^\n'));
  assert.ok(!isNotFound('Error: syntax error, unexpected newline'));
});
