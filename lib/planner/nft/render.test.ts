import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forgottenElementsJson, learnedElementsJson, ruleJson, ruleText, replaceJson, replaceText, tableText } from './render.js';
import {
  accept,
  addressInSet,
  clampMssToRouteMtu,
  clearMarkBits,
  counter,
  ctDirection,
  ctStateAnyOf,
  drop,
  interfaceIs,
  markIs,
  portIs,
  ret,
  rule,
  setMarkBits,
  snatTo,
  snatToSource,
  sourceRoutedBackViaInput,
  tcpFlagsAnyOf,
} from './statements.js';
import { CATALOGUE_TABLE } from './testing/catalogue.js';
import type { Expr, Field, NftRule, Statement, Value } from './vocabulary.js';

const meta = (key: string) => ({ meta: { key } });
const ct = (key: string) => ({ ct: { key } });
const payload = (protocol: string, field: string) => ({ payload: { protocol, field } });
const match = (op: string, left: unknown, right: unknown) => ({ match: { op, left, right } });
const COUNTER = { counter: { packets: 0, bytes: 0 } };
const markSet = (key: unknown, keep: number, value: number) => ({ mangle: { key, value: { '|': [{ '&': [key, keep] }, value] } } });

test('the planner rule shapes in nft text and in libnftables JSON', () => {
  const cases: [NftRule, string, unknown][] = [
    [rule([addressInSet(4, 'daddr', '==', 'cluster4'), ret]), 'ip daddr @cluster4 return', { expr: [match('==', payload('ip', 'daddr'), '@cluster4'), { return: null }] }],
    [
      rule(
        [
          interfaceIs('iifname', '!=', ['egress.vxlan', 'eth0']),
          ctDirection('original'),
          addressInSet(6, 'saddr', '==', 'p_loc6'),
          addressInSet(6, 'daddr', '!=', 'p_exc6'),
          counter,
          setMarkBits('meta', 0xffff00ff, 0x200),
          accept,
        ],
        'worker default/x',
      ),
      'iifname != { "egress.vxlan", "eth0" } ct direction original ip6 saddr @p_loc6 ip6 daddr != @p_exc6 counter meta mark set meta mark & 0xffff00ff | 0x00000200 accept comment "worker default/x"',
      {
        expr: [
          match('!=', meta('iifname'), { set: ['egress.vxlan', 'eth0'] }),
          match('==', ct('direction'), 'original'),
          match('==', payload('ip6', 'saddr'), '@p_loc6'),
          match('!=', payload('ip6', 'daddr'), '@p_exc6'),
          COUNTER,
          markSet(meta('mark'), 0xffff00ff, 0x200),
          { accept: null },
        ],
        comment: 'worker default/x',
      },
    ],
    [
      rule([ctDirection('reply'), markIs('ct', 0xff00, '==', 0xff00), setMarkBits('meta', 0xffff00ff, 0xff00), setMarkBits('ct', 0xffff00ff, 0xff00), accept]),
      'ct direction reply ct mark & 0x0000ff00 == 0x0000ff00 meta mark set meta mark & 0xffff00ff | 0x0000ff00 ct mark set ct mark & 0xffff00ff | 0x0000ff00 accept',
      {
        expr: [
          match('==', ct('direction'), 'reply'),
          match('==', { '&': [ct('mark'), 0xff00] }, 0xff00),
          markSet(meta('mark'), 0xffff00ff, 0xff00),
          markSet(ct('mark'), 0xffff00ff, 0xff00),
          { accept: null },
        ],
      },
    ],
    [
      rule([interfaceIs('oifname', '==', 'egress.vxlan'), tcpFlagsAnyOf(['syn']), clampMssToRouteMtu]),
      'oifname "egress.vxlan" tcp flags syn tcp option maxseg size set rt mtu',
      {
        expr: [
          match('==', meta('oifname'), 'egress.vxlan'),
          match('in', payload('tcp', 'flags'), 'syn'),
          { mangle: { key: { 'tcp option': { name: 'maxseg', field: 'size' } }, value: { rt: { key: 'mtu' } } } },
        ],
      },
    ],
    [
      rule([portIs('udp', 'dport', 4789), addressInSet(4, 'saddr', '!=', 'nodes4'), counter, drop], 'vxlan from unknown host'),
      'udp dport 4789 ip saddr != @nodes4 counter drop comment "vxlan from unknown host"',
      { expr: [match('==', payload('udp', 'dport'), 4789), match('!=', payload('ip', 'saddr'), '@nodes4'), COUNTER, { drop: null }], comment: 'vxlan from unknown host' },
    ],
    [
      rule([addressInSet(6, 'daddr', '==', 'eips6'), ctStateAnyOf(['new', 'invalid']), counter, drop]),
      'ip6 daddr @eips6 ct state new,invalid counter drop',
      { expr: [match('==', payload('ip6', 'daddr'), '@eips6'), match('in', ct('state'), ['new', 'invalid']), COUNTER, { drop: null }] },
    ],
    [
      rule([markIs('meta', 0xff00, '==', 0xff00), addressInSet(6, 'saddr', '==', 'a'), counter, snatTo(6, 'fd00:198:18::100')], 'snat x'),
      'meta mark & 0x0000ff00 == 0x0000ff00 ip6 saddr @a counter snat ip6 to fd00:198:18::100 comment "snat x"',
      {
        expr: [match('==', { '&': [meta('mark'), 0xff00] }, 0xff00), match('==', payload('ip6', 'saddr'), '@a'), COUNTER, { snat: { family: 'ip6', addr: 'fd00:198:18::100' } }],
        comment: 'snat x',
      },
    ],
    [
      rule([interfaceIs('iifname', '!=', 'egress.vxlan'), addressInSet(4, 'saddr', '==', 'p_loc4'), sourceRoutedBackViaInput, setMarkBits('meta', 0xffffff80, 0x1), accept]),
      'iifname != "egress.vxlan" ip saddr @p_loc4 fib saddr . iif oif != 0 meta mark set meta mark & 0xffffff80 | 0x00000001 accept',
      {
        expr: [
          match('!=', meta('iifname'), 'egress.vxlan'),
          match('==', payload('ip', 'saddr'), '@p_loc4'),
          match('!=', { fib: { result: 'oif', flags: ['saddr', 'iif'] } }, 0),
          markSet(meta('mark'), 0xffffff80, 0x1),
          { accept: null },
        ],
      },
    ],
    [
      rule([interfaceIs('oifname', '==', 'egress.vxlan'), clearMarkBits('meta', 0xffffff80)]),
      'oifname "egress.vxlan" meta mark set meta mark & 0xffffff80',
      { expr: [match('==', meta('oifname'), 'egress.vxlan'), { mangle: { key: meta('mark'), value: { '&': [meta('mark'), 0xffffff80] } } }] },
    ],
    [
      rule([interfaceIs('oifname', '==', 'egress.vxlan'), snatToSource(6)]),
      'oifname "egress.vxlan" snat ip6 to ip6 saddr',
      { expr: [match('==', meta('oifname'), 'egress.vxlan'), { snat: { family: 'ip6', addr: payload('ip6', 'saddr') } }] },
    ],
  ];
  for (const [r, text, json] of cases) {
    assert.equal(ruleText(r), text);
    assert.deepEqual(ruleJson(r), json, text);
  }
});

test('chain priorities: standard names with offsets, numbers in JSON', () => {
  const text = tableText(CATALOGUE_TABLE);
  assert.match(text, /type filter hook prerouting priority mangle; policy accept;/);
  assert.match(text, /type filter hook prerouting priority dstnat \+ 10; policy accept;/);
  assert.match(text, /type nat hook postrouting priority srcnat - 10; policy accept;/);
  const chains = (JSON.parse(replaceJson(CATALOGUE_TABLE)) as { nftables: { add?: { chain?: { name: string; prio?: number } } }[] }).nftables.flatMap((c) =>
    c.add?.chain ? [[c.add.chain.name, c.add.chain.prio]] : [],
  );
  assert.deepEqual(chains, [
    ['cat_mark', -150],
    ['cat_after_dnat', -90],
    ['cat_input', 0],
    ['cat_forward', 0],
    ['cat_unmark', -300],
    ['cat_snat', 90],
    ['cat_dnat', -105],
  ]);
});

/** Every kind of every union, by the type checker: a kind added to vocabulary.ts must be listed here. */
const KINDS = {
  statement: { match: 0, counter: 0, set: 0, snat: 0, 'snat to source': 0, masquerade: 0, dnat: 0, reject: 0, limit: 0, log: 0, verdict: 0 } satisfies Record<Statement['kind'], 0>,
  field: { meta: 0, ct: 0, address: 0, port: 0, 'tcp flags': 0, fib: 0, 'rt mtu': 0, 'rt nexthop': 0, 'ether saddr': 0, 'tcp mss': 0 } satisfies Record<Field['kind'], 0>,
  expr: { bitwise: 0 } satisfies Record<Exclude<Expr['kind'], Field['kind']>, 0>,
  value: { number: 0, interface: 0, symbol: 0, flags: 0, ip: 0, mac: 0, 'named set': 0, 'anonymous set': 0 } satisfies Record<Value['kind'], 0>,
};

test('the kernel-checked catalogue uses every statement, field, expression and value kind', () => {
  const seen = new Set<string>();
  const walk = (x: unknown): void => {
    if (Array.isArray(x)) x.forEach(walk);
    else if (typeof x === 'object' && x !== null) {
      const kind = (x as { kind?: unknown }).kind;
      if (typeof kind === 'string') seen.add(kind);
      Object.values(x).forEach(walk);
    }
  };
  walk(CATALOGUE_TABLE.chains);
  for (const [what, kinds] of Object.entries(KINDS)) for (const kind of Object.keys(kinds)) assert.ok(seen.has(kind), `the catalogue has no ${what} of kind "${kind}"`);
  const verdicts = new Set(CATALOGUE_TABLE.chains.flatMap((c) => c.rules.flatMap((r) => r.statements.flatMap((s) => (s.kind === 'verdict' ? [s.verdict] : [])))));
  assert.deepEqual([...verdicts].sort(), ['accept', 'drop', 'return']);
});

test('hand-made tables are checked as they render: no kind, key or value outside the vocabulary gets through', () => {
  const base = rule([interfaceIs('iifname', '==', 'eth0'), accept]);
  const edits: [string, (r: { statements: Record<string, unknown>[]; comment?: unknown }) => void][] = [
    ['unknown statement kind', (r) => (r.statements[1] = { kind: 'queue' })],
    ['unknown verdict', (r) => (r.statements[1] = { kind: 'verdict', verdict: 'accept; add table ip evil' })],
    ['meta key', (r) => ((r.statements[0]!.left as Record<string, unknown>).key = 'iifname accept; flush ruleset;')],
    ['interface name with a quote', (r) => ((r.statements[0]!.right as Record<string, unknown>).name = 'eth0" accept; add table ip evil {')],
    ['interface name of 16 bytes', (r) => ((r.statements[0]!.right as Record<string, unknown>).name = '0123456789abcdef')],
    ['operator', (r) => (r.statements[0]!.op = '== "x" accept;')],
    ['comment', (r) => (r.comment = 'x" drop')],
    ['empty rule', (r) => (r.statements = [])],
    ['a prototype key as a kind', (r) => (r.statements[1] = { kind: 'toString' })],
    [
      'fib flag',
      (r) =>
        (r.statements[0] = {
          kind: 'match',
          left: { kind: 'fib', flags: ['saddr', 'iif oif 0 accept; flush ruleset;'], result: 'oif' },
          op: '!=',
          right: { kind: 'number', value: 0 },
        }),
    ],
    ['fib without flags', (r) => (r.statements[0] = { kind: 'match', left: { kind: 'fib', flags: [], result: 'oif' }, op: '!=', right: { kind: 'number', value: 0 } })],
    ['fib result', (r) => (r.statements[0] = { kind: 'match', left: { kind: 'fib', flags: ['saddr'], result: 'oif drop' }, op: '!=', right: { kind: 'number', value: 0 } })],
    ['snat to source of no family', (r) => (r.statements[1] = { kind: 'snat to source', family: 5 })],
  ];
  for (const [what, edit] of edits) {
    const hostile = JSON.parse(JSON.stringify(base)) as { statements: Record<string, unknown>[]; comment?: unknown };
    edit(hostile);
    const table = { ...CATALOGUE_TABLE, chains: [{ ...CATALOGUE_TABLE.chains[0]!, rules: [hostile as unknown as NftRule] }] };
    for (const render of [replaceText, replaceJson]) assert.throws(() => render(table), { code: 'EGW_ERR_NFT_VALUE' }, `${what} (${render.name})`);
  }
});

test('learned elements carry their comment (which answer put them there); a comment that could break out is refused', () => {
  const table = { family: 'inet' as const, name: 'sluice' };
  const comment = 'dns github.com A 198.18.64.1 ttl 5 to 10.244.1.3';
  const write = [{ set: 'f_x_n0_4', family: 4 as const, address: '198.18.64.1', timeoutSeconds: 10, comment }];
  type Doc = { nftables: Record<string, { element: { elem: unknown[] } }>[] };
  // Renewed by an update of the expiry: one add per set.
  const expires = JSON.parse(learnedElementsJson(table, write, 'expires')) as Doc;
  assert.deepEqual(
    expires.nftables.map((c) => Object.keys(c)[0]),
    ['add'],
  );
  assert.deepEqual(expires.nftables[0]!.add!.element.elem, [{ elem: { val: '198.18.64.1', timeout: 10, expires: 10, comment } }]);
  // Renewed by taking the element out and in again, in one transaction.
  const readd = JSON.parse(learnedElementsJson(table, write, 'readd')) as Doc;
  assert.deepEqual(
    readd.nftables.map((c) => Object.keys(c)[0]),
    ['add', 'delete', 'add'],
  );
  assert.deepEqual(readd.nftables[2]!.add!.element.elem, [{ elem: { val: '198.18.64.1', timeout: 10, comment } }]);
  for (const bad of ['a" } ; flush ruleset', 'back\\slash', 'new\nline', 'x'.repeat(129)]) {
    for (const renewal of ['expires', 'readd'] as const) {
      assert.throws(() => learnedElementsJson(table, [{ ...write[0]!, comment: bad }], renewal), { code: 'EGW_ERR_NFT_VALUE' }, bad);
      assert.throws(() => replaceJson({ ...table, sets: [], chains: [] }, { learned: [{ ...write[0]!, comment: bad }] }), { code: 'EGW_ERR_NFT_VALUE' }, bad);
    }
  }
});

test('a replace carries the learned elements: added to the new sets in the same transaction, in JSON and text', () => {
  const table = { family: 'inet' as const, name: 'sluice', sets: [{ name: 'f_x_n0_4', type: 'ipv4_addr' as const, interval: false, learned: true, elements: [] }], chains: [] };
  const learned = [{ set: 'f_x_n0_4', family: 4 as const, address: '198.18.64.1', timeoutSeconds: 12.2, comment: 'dns a.test A 198.18.64.1 ttl 5 to 10.244.1.3' }];
  const doc = JSON.parse(replaceJson(table, { learned })) as { nftables: Record<string, Record<string, unknown>>[] };
  const kinds = doc.nftables.map((c) => `${Object.keys(c)[0]} ${Object.keys(Object.values(c)[0]!)[0]}`);
  assert.deepEqual(kinds, ['add table', 'delete table', 'add table', 'add set', 'add element']);
  assert.deepEqual(doc.nftables[4]!.add!.element, {
    family: 'inet',
    table: 'sluice',
    name: 'f_x_n0_4',
    elem: [{ elem: { val: '198.18.64.1', timeout: 13, comment: learned[0]!.comment } }],
  });
  assert.match(
    replaceText(table, { learned }),
    /\nadd element inet sluice f_x_n0_4 \{ 198\.18\.64\.1 timeout 13s comment "dns a\.test A 198\.18\.64\.1 ttl 5 to 10\.244\.1\.3" \}\n$/,
  );
  assert.throws(() => replaceJson(table, { learned: [{ ...learned[0]!, address: '198.18.64.1; flush ruleset' }] }), { code: 'EGW_ERR_NFT_VALUE' });
});

test('forgetting learned elements: added for 1 s first, so the delete finds one that already expired, in one transaction', () => {
  const doc = JSON.parse(forgottenElementsJson({ family: 'inet', name: 'sluice' }, [{ set: 'dns_steer4', family: 4, address: '10.96.0.10' }])) as {
    nftables: Record<string, { element: { name: string; elem: unknown[] } }>[];
  };
  assert.deepEqual(
    doc.nftables.map((c) => Object.keys(c)[0]),
    ['add', 'delete'],
  );
  assert.deepEqual(doc.nftables[0]!.add!.element.elem, [{ elem: { val: '10.96.0.10', timeout: 1 } }]);
  assert.deepEqual(doc.nftables[1]!.delete!.element.elem, ['10.96.0.10']);
  assert.throws(() => forgottenElementsJson({ family: 'inet', name: 'sluice' }, [{ set: 'dns_steer4; flush ruleset', family: 4, address: '10.96.0.10' }]), {
    code: 'EGW_ERR_NFT_VALUE',
  });
});
