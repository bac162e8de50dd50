/**
 * Generators (fast-check) of egress objects as careless or hostile users and compromised nodes
 * write them: mostly plausible values, with the edge cases mixed in (empty strings, wrong types,
 * huge lists, unicode, reversed ranges, host bits, mixed families, IPv4-mapped IPv6, "yes", nulls).
 * Used by the parser's property tests and by the CRD agreement test in e2e/.
 */
import fc from 'fast-check';
import { API_VERSION, CLUSTER_POLICY_LABEL, POLICY_LABEL } from '../group.js';
import { formatIp, parseIp } from '../ip.js';

type Arb<T> = fc.Arbitrary<T>;

/** Any JSON-ish value of the wrong kind, for fields that expect something else. */
export const wrongType: Arb<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, 0, 1, -1, 3.5, 'yes', 'no', 'true', '', [], {}, ['x'], { a: 1 }),
  fc.integer(),
  fc.string({ maxLength: 8 }),
);

/** Sometimes replaces a value with a wrong one (rarely, so most objects stay close to valid). */
function sometimesWrong<T>(arb: Arb<T>, weight = 1): Arb<T | unknown> {
  return fc.oneof({ arbitrary: arb, weight: 30 }, { arbitrary: wrongType, weight });
}

const octet = fc.integer({ min: 0, max: 255 });
const v4 = fc.tuple(octet, octet, octet, octet).map((o) => o.join('.'));
/** Addresses near each other, so ranges and CIDRs collide often. */
const v4Near = fc.tuple(fc.constantFrom('198.18.0', '10.0.0', '100.64.0'), octet).map(([p, o]) => `${p}.${o}`);
const hexGroup = fc.integer({ min: 0, max: 0xffff }).map((n) => n.toString(16));
const v6Full = fc.array(hexGroup, { minLength: 8, maxLength: 8 }).map((g) => g.join(':'));
const v6Near = fc.tuple(fc.constantFrom('fd00::', 'fd00:5c::', '2001:db8::', '::'), hexGroup).map(([p, g]) => `${p}${g}`);
const v6 = fc.oneof(
  v6Near,
  v6Full,
  fc.ipV6(),
  v6Full.map((s) => s.toUpperCase()),
);

/** Spellings that look like addresses and are not (or are, in a form sluice refuses). */
const badIp = fc.oneof(
  fc.constantFrom(
    '::ffff:198.18.0.1',
    '::FFFF:10.0.0.1',
    '::ffff:c612:1',
    '0:0:0:0:0:ffff:a00:1',
    '::ffff:0:0',
    '::1.2.3.4',
    'fe80::1%eth0',
    '010.1.1.1',
    '1.2.3',
    '1.2.3.4.5',
    '256.1.1.1',
    '1::2::3',
    ':::',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7::8',
    ' 198.18.0.1',
    '198.18.0.1 ',
    '198.18.0.1\n',
    '0x1.2.3.4',
    'localhost',
    'yes',
    '',
    '１.２.３.４',
    'fd00::g',
    '12345::1',
    '::1/',
    '-',
    '/',
    'fd00::1-',
    '-fd00::1',
  ),
  fc.ipV4Extended(),
  fc.string({ maxLength: 12 }),
);

const ip4 = fc.oneof({ arbitrary: v4Near, weight: 3 }, { arbitrary: v4, weight: 1 });
const ipText: Arb<string> = fc.oneof({ arbitrary: ip4, weight: 8 }, { arbitrary: v6, weight: 5 }, { arbitrary: badIp, weight: 2 });

const cidrOf = (ip: Arb<string>, max: number) =>
  fc.tuple(ip, fc.oneof(fc.integer({ min: 0, max }), fc.constantFrom(max + 1, 129, -1, '08', '024', ' 24', '', 'x'))).map(([a, p]) => `${a}/${String(p)}`);
/** A CIDR with its host bits cleared: always valid, of any prefix length. */
const alignedCidr = (family: 4 | 6): Arb<string> =>
  fc.tuple(family === 4 ? ip4 : v6Near, fc.integer({ min: 0, max: family === 4 ? 32 : 128 })).map(([a, p]) => {
    const { value } = parseIp(a);
    const bits = family === 4 ? 32 : 128;
    const hostMask = (1n << BigInt(bits - p)) - 1n;
    return `${formatIp(value & ~hostMask, family)}/${p}`;
  });
/** Mostly aligned CIDRs, with host bits set, bad prefixes and bad addresses mixed in. */
const cidrText: Arb<string> = fc.oneof(
  { arbitrary: alignedCidr(4), weight: 12 },
  { arbitrary: alignedCidr(6), weight: 6 },
  fc.tuple(fc.constantFrom('10.0.0.0', '198.18.0.0', '100.64.0.0', '0.0.0.0'), fc.constantFrom(8, 10, 15, 16, 24, 32, 0)).map(([a, p]) => `${a}/${p}`),
  fc.tuple(fc.constantFrom('fd00::', '2001:db8::', '::', 'FD00::'), fc.constantFrom(8, 32, 48, 64, 112, 128, 0)).map(([a, p]) => `${a}/${p}`),
  fc.constantFrom('100.64.0.1/10', '10.0.0.1/8', 'fd00::1/64', '::ffff:0:0/96', '::ffff:10.0.0.0/104', '10.0.0.0/33', 'fd00::/129', '10.0.0.0/8/8'),
  cidrOf(ip4, 32),
  cidrOf(v6, 128),
);
/** `a-b` with a <= b. */
const orderedRange = (ip: Arb<string>): Arb<string> => fc.tuple(ip, ip).map(([a, b]) => (parseIp(a).value <= parseIp(b).value ? `${a}-${b}` : `${b}-${a}`));
const rangeText: Arb<string> = fc.oneof(
  { arbitrary: orderedRange(ip4), weight: 4 },
  { arbitrary: orderedRange(v6Near), weight: 2 },
  fc.tuple(ip4, ip4).map(([a, b]) => `${a}-${b}`),
  fc.tuple(v6Near, v6Near).map(([a, b]) => `${a}-${b}`),
  fc.tuple(ip4, v6Near).map(([a, b]) => `${a}-${b}`),
  fc.tuple(ipText, ipText).map(([a, b]) => `${a}-${b}`),
  fc.constantFrom('198.18.0.9-198.18.0.1', '198.18.0.1-198.18.0.1', 'fd00::9-fd00::1', 'fd00::1-fd00::1:0', '1.2.3.4-5.6.7.8-9.9.9.9', '198.18.0.1 - 198.18.0.9'),
);
/** An address, `a-b` range or CIDR (the IP spec the pools, destSubnet and extraCidr take). */
const ipSpecText: Arb<string> = fc.oneof(ipText, cidrText, rangeText);
/** Mostly a valid address, range or CIDR of `family`; now and then any IP spec. */
const ipSpecOf = (family: 4 | 6): Arb<string> => {
  const ip = family === 4 ? ip4 : v6Near;
  return mostly(fc.oneof(ip, alignedCidr(family), orderedRange(ip)), ipSpecText);
};

/** A field left out of an object. */
const ABSENT = Symbol('absent');

/**
 * A default EIP for `pool`: mostly the first address of one of its entries (inside the pool),
 * now and then any address; without an entry, one that cannot be inside or something wrong.
 */
function defaultEip(pool: unknown, family: 4 | 6): Arb<unknown> {
  const starts = (Array.isArray(pool) ? pool : []).filter((e): e is string => typeof e === 'string').map((e) => e.split(/[/-]/)[0]!);
  const any = fc.oneof(family === 4 ? v4Near : v6Near, ipText, fc.constant(''));
  if (starts.length === 0) return mostly(fc.constant(ABSENT), sometimesWrong(any, 3));
  return fc.oneof(fc.constant(ABSENT), sometimesWrong(mostly(fc.constantFrom(...starts), any), 1));
}

/** Mostly `usual`, now and then `unusual`. */
function mostly<T>(usual: Arb<T>, unusual: Arb<T>): Arb<T> {
  return fc.oneof({ arbitrary: usual, weight: 6 }, { arbitrary: unusual, weight: 1 });
}

/** A list of `item`, now and then empty, with a wrong element, or longer than any CRD allows. */
function listOf<T>(item: Arb<T>, huge = 300): Arb<unknown> {
  return fc.oneof(
    { arbitrary: fc.array(sometimesWrong(item, 1), { maxLength: 5 }), weight: 20 },
    { arbitrary: fc.constant([]), weight: 2 },
    { arbitrary: item.map((x) => new Array<T>(huge).fill(x)), weight: 1 },
    { arbitrary: wrongType, weight: 1 },
  );
}

const dnsLabel = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,8}[a-z0-9])?$/);
/** Names: mostly valid, some with upper case, underscores, dots, unicode or too long. */
const nameText: Arb<string> = fc.oneof(
  { arbitrary: dnsLabel, weight: 10 },
  { arbitrary: fc.tuple(dnsLabel, dnsLabel).map(([a, b]) => `${a}.${b}`), weight: 2 },
  { arbitrary: fc.constantFrom('Default', 'a_b', '-a', 'a-', 'a..b', 'é', 'x'.repeat(64), 'x'.repeat(254), '', 'a/b', 'a b', '.'), weight: 1 },
);
const validLabelKey: Arb<string> = fc.oneof(
  { arbitrary: fc.stringMatching(/^[A-Za-z0-9]([-A-Za-z0-9_.]{0,6}[A-Za-z0-9])?$/), weight: 2 },
  { arbitrary: fc.tuple(fc.constantFrom('app.kubernetes.io', 'egress.sluice.dev', 'example.com'), fc.stringMatching(/^[a-z]{1,8}$/)).map(([p, n]) => `${p}/${n}`), weight: 1 },
);
/** Label keys, with the edge cases (and a few that are valid but look odd: 253-character prefix, 63-character name). */
const labelKey: Arb<string> = mostly(
  validLabelKey,
  fc.constantFrom(
    '',
    '/x',
    'a/',
    'A.com/x',
    'a/b/c',
    'x'.repeat(64),
    `${'a'.repeat(254)}/x`,
    `${'a'.repeat(253)}/x`,
    'k8s.io/' + 'x'.repeat(63),
    '-a',
    'a_',
    'é',
    'a b',
    'a"b',
    'kubernetes.io/metadata.name',
  ),
);
const validLabelValue = fc.stringMatching(/^([A-Za-z0-9]([-A-Za-z0-9_.]{0,6}[A-Za-z0-9])?)?$/);
const labelValue: Arb<string> = mostly(validLabelValue, fc.constantFrom('', 'x'.repeat(63), 'x'.repeat(64), '-a', 'a.', 'a b', 'é', 'yes', '1.2.3.4', 'a/b'));
/** Mostly a map of valid labels; now and then keys, values or the map itself are wrong. */
const labels: Arb<unknown> = mostly(
  fc.dictionary(validLabelKey, validLabelValue, { maxKeys: 4 }),
  sometimesWrong(fc.dictionary(labelKey, sometimesWrong(labelValue, 1), { maxKeys: 4 }), 1),
);

/** Mostly an operator with the values it needs; now and then any combination of the three fields. */
const selectorExpression: Arb<unknown> = fc.oneof(
  {
    arbitrary: fc.oneof(
      fc.record({ key: labelKey, operator: fc.constantFrom('In', 'NotIn'), values: fc.array(labelValue, { minLength: 1, maxLength: 3 }) }),
      fc.record({ key: labelKey, operator: fc.constantFrom('Exists', 'DoesNotExist') }, { requiredKeys: ['key', 'operator'] }),
    ),
    weight: 6,
  },
  {
    arbitrary: fc.record(
      {
        key: sometimesWrong(labelKey, 1),
        operator: sometimesWrong(fc.constantFrom('In', 'NotIn', 'Exists', 'DoesNotExist', 'in', 'Equals', ''), 1),
        values: fc.oneof(fc.array(sometimesWrong(labelValue, 1), { maxLength: 3 }), fc.constant(null), wrongType),
      },
      { requiredKeys: [] },
    ),
    weight: 1,
  },
);
const labelSelector: Arb<unknown> = sometimesWrong(
  fc.record(
    {
      matchLabels: labels,
      matchExpressions: mostly(
        fc.array(sometimesWrong(selectorExpression, 1), { maxLength: 3 }),
        fc.oneof(
          fc.constant(null),
          selectorExpression.map((e) => new Array(70).fill(e)),
        ),
      ),
    },
    { requiredKeys: [] },
  ),
  1,
);

const metadata = (namespaced: boolean): Arb<unknown> =>
  fc.record(
    {
      name: sometimesWrong(nameText, 1),
      ...(namespaced
        ? { namespace: sometimesWrong(fc.oneof({ arbitrary: fc.constantFrom('default', 'team-a', 'kube-system'), weight: 8 }, { arbitrary: nameText, weight: 2 }), 1) }
        : {}),
      labels,
    },
    { requiredKeys: ['name'] },
  );

const object = (kind: string, namespaced: boolean, body: Record<string, Arb<unknown>>, required: string[]): Arb<Record<string, unknown>> =>
  fc.record(
    { apiVersion: fc.constant(API_VERSION), kind: fc.constant(kind), metadata: metadata(namespaced), ...body },
    { requiredKeys: ['apiVersion', 'kind', 'metadata', ...required] as never[] },
  );

/** `record` without one of `keys` now and then: a required field left out. */
function rarelyWithout(record: Arb<Record<string, unknown>>, keys: readonly string[]): Arb<Record<string, unknown>> {
  return fc.tuple(record, fc.oneof({ arbitrary: fc.constant(undefined), weight: 30 }, { arbitrary: fc.constantFrom(...keys), weight: 1 })).map(([r, drop]) => {
    if (drop === undefined) return r;
    const { [drop]: _dropped, ...rest } = r;
    return rest;
  });
}

const yesNo: Arb<unknown> = sometimesWrong(fc.boolean(), 2);
/** Mostly off: useNodeIP cannot be combined with an explicit address. */
const rarelyOn: Arb<unknown> = sometimesWrong(mostly(fc.constant(false), fc.constant(true)), 1);

/** Pools, and mostly a default EIP inside them (see defaultEip). */
const ippools: Arb<unknown> = fc.record({ ipv4: listOf(ipSpecOf(4), 70), ipv6: listOf(ipSpecOf(6), 70) }, { requiredKeys: [] }).chain((pools) =>
  fc.tuple(defaultEip(pools.ipv4, 4), defaultEip(pools.ipv6, 6)).map(([v4, v6]) => ({
    ...pools,
    ...(v4 !== ABSENT ? { ipv4DefaultEIP: v4 } : {}),
    ...(v6 !== ABSENT ? { ipv6DefaultEIP: v6 } : {}),
  })),
);

const egressGateway = object(
  'EgressGateway',
  false,
  {
    spec: sometimesWrong(
      rarelyWithout(
        fc.record(
          {
            clusterDefault: yesNo,
            nodeSelector: sometimesWrong(rarelyWithout(fc.record({ selector: labelSelector }), ['selector']), 1),
            ippools: sometimesWrong(ippools, 1),
          },
          { requiredKeys: ['nodeSelector'] },
        ),
        ['nodeSelector'],
      ),
      1,
    ),
  },
  ['spec'],
);

/** Pods by label or by subnet (one of them, as the API requires), now and then both or neither. */
const appliedTo = (cluster: boolean): Arb<unknown> => {
  const podSubnet = listOf(cidrText, 70);
  const namespaceSelector = cluster ? { namespaceSelector: labelSelector } : {};
  return fc.oneof(
    { arbitrary: fc.record({ podSelector: labelSelector, ...namespaceSelector }, { requiredKeys: ['podSelector'] }), weight: 6 },
    { arbitrary: fc.record({ podSubnet }), weight: 4 },
    { arbitrary: fc.record({ podSelector: labelSelector, podSubnet, ...namespaceSelector }, { requiredKeys: [] }), weight: 1 },
    // an EgressPolicy selects pods of its own namespace only: a namespaceSelector is refused there
    ...(cluster ? [] : [{ arbitrary: fc.record({ podSelector: labelSelector, namespaceSelector: labelSelector }), weight: 1 }]),
  );
};

const policySpec = (cluster: boolean): Arb<unknown> =>
  sometimesWrong(
    rarelyWithout(
      fc.record(
        {
          // "" and absent both mean: the default gateway
          egressGatewayName: sometimesWrong(mostly(nameText, fc.constant('')), 1),
          egressIP: sometimesWrong(
            fc.record(
              {
                ipv4: sometimesWrong(mostly(v4Near, fc.oneof(ipText, fc.constant(''))), 1),
                ipv6: sometimesWrong(mostly(v6Near, fc.oneof(ipText, fc.constant(''))), 1),
                useNodeIP: rarelyOn,
                allocatorPolicy: sometimesWrong(
                  fc.oneof({ arbitrary: fc.constantFrom('default', 'rr'), weight: 8 }, { arbitrary: fc.constantFrom('RR', 'random', ''), weight: 1 }),
                  1,
                ),
              },
              { requiredKeys: [] },
            ),
            1,
          ),
          appliedTo: sometimesWrong(appliedTo(cluster), 1),
          destSubnet: listOf(fc.oneof(ipSpecOf(4), ipSpecOf(6))),
          excludeDestSubnet: listOf(fc.oneof(ipSpecOf(4), ipSpecOf(6))),
          priority: sometimesWrong(
            mostly(fc.integer({ min: -1000, max: 1000 }), fc.oneof(fc.integer({ min: -1100, max: 1100 }), fc.constantFrom(-1000, 1000, 1001, -1001, 0, 2 ** 31))),
            2,
          ),
        },
        { requiredKeys: ['egressGatewayName', 'appliedTo'] },
      ),
      ['egressGatewayName', 'appliedTo'],
    ),
    1,
  );

const dnsNameText: Arb<string> = fc.oneof(
  { arbitrary: fc.array(dnsLabel, { minLength: 1, maxLength: 4 }).map((l) => l.join('.')), weight: 6 },
  { arbitrary: fc.array(dnsLabel, { minLength: 1, maxLength: 3 }).map((l) => `*.${l.join('.')}`), weight: 2 },
  { arbitrary: fc.constantFrom('GitHub.com.', 'a..b', '*', '*.', 'a.*.b', '-a.b', 'a b', `${'a'.repeat(64)}.com`, `${'a.'.repeat(127)}a`, 'a_b.c', ''), weight: 2 },
);

const firewallRule: Arb<unknown> = sometimesWrong(
  rarelyWithout(
    fc.record(
      {
        type: sometimesWrong(mostly(fc.constantFrom('Allow', 'Deny'), fc.constantFrom('allow', 'Reject', '')), 1),
        to: sometimesWrong(
          fc.oneof(
            { arbitrary: fc.record({ cidrSelector: cidrText }), weight: 4 },
            { arbitrary: fc.record({ dnsName: dnsNameText }), weight: 4 },
            { arbitrary: fc.record({ cidrSelector: cidrText, dnsName: dnsNameText }, { requiredKeys: [] }), weight: 1 },
          ),
          1,
        ),
        // mostly no ports (every port): each port can be wrong twice over, and a rule with a wrong
        // port would make too few whole objects valid for the agreement to mean much
        ports: mostly(
          fc.constant([]),
          listOf(
            fc.record(
              {
                protocol: sometimesWrong(mostly(fc.constantFrom('TCP', 'UDP', 'SCTP'), fc.constantFrom('tcp', 'ICMP', '')), 1),
                port: sometimesWrong(mostly(fc.integer({ min: 1, max: 65535 }), fc.constantFrom(0, 65536, -1)), 1),
              },
              { requiredKeys: [] },
            ),
            70,
          ),
        ),
      },
      { requiredKeys: ['type', 'to'] },
    ),
    ['type', 'to'],
  ),
  1,
);

const firewallSpec = (cluster: boolean): Arb<unknown> =>
  sometimesWrong(
    rarelyWithout(
      fc.record(
        {
          // an EgressFirewall selects pods of its own namespace only: a namespaceSelector is refused there
          appliedTo: sometimesWrong(
            cluster
              ? fc.record({ podSelector: labelSelector, namespaceSelector: labelSelector }, { requiredKeys: [] })
              : mostly(fc.record({ podSelector: labelSelector }, { requiredKeys: [] }), fc.record({ podSelector: labelSelector, namespaceSelector: labelSelector })),
            1,
          ),
          priority: sometimesWrong(mostly(fc.integer({ min: -1000, max: 1000 }), fc.constantFrom(1001, -1001, 2 ** 31)), 2),
          defaultAction: sometimesWrong(mostly(fc.constantFrom('Allow', 'Deny'), fc.constantFrom('Drop', '')), 1),
          egress: listOf(firewallRule, 1001),
        },
        { requiredKeys: ['egress'] },
      ),
      ['egress'],
    ),
    1,
  );

const egressFirewall = object('EgressFirewall', true, { spec: firewallSpec(false) }, ['spec']);
const egressClusterFirewall = object('EgressClusterFirewall', false, { spec: firewallSpec(true) }, ['spec']);

const egressPolicy = object('EgressPolicy', true, { spec: policySpec(false) }, ['spec']);
const egressClusterPolicy = object('EgressClusterPolicy', false, { spec: policySpec(true) }, ['spec']);

const egressClusterInfo = object(
  'EgressClusterInfo',
  false,
  {
    spec: sometimesWrong(
      fc.record(
        {
          autoDetect: sometimesWrong(
            fc.record(
              { podCidrMode: sometimesWrong(mostly(fc.constantFrom('k8s', 'auto', 'none'), fc.constantFrom('K8s', '')), 1), clusterIP: yesNo, nodeIP: yesNo },
              { requiredKeys: [] },
            ),
            1,
          ),
          extraCidr: listOf(fc.oneof(ipSpecOf(4), ipSpecOf(6))),
        },
        { requiredKeys: [] },
      ),
      1,
    ),
  },
  ['spec'],
).map((o) => ({ ...o, metadata: { ...(o.metadata as object), name: 'default' } }));

/** Objects a user applies: every spec kind. */
export const specObject: Arb<Record<string, unknown>> = fc.oneof(egressGateway, egressPolicy, egressClusterPolicy, egressFirewall, egressClusterFirewall, egressClusterInfo);

// --- what controllers (or a compromised node) write ---

const ifname = fc.oneof(
  { arbitrary: fc.stringMatching(/^[a-z][a-z0-9]{0,7}$/), weight: 6 },
  {
    arbitrary: fc.constantFrom(
      'eth0',
      'bond0.100',
      'br-1a2b',
      'cilium_host',
      'x'.repeat(15),
      'x'.repeat(16),
      'eth0"; flush ruleset; "',
      'a b',
      'eth0:1',
      'a/b',
      '.',
      '..',
      '-x',
      'é',
      'eth0\n',
      "e'0",
      'a@b',
      '',
    ),
    weight: 3,
  },
);
const mac = fc.oneof(
  fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 6, maxLength: 6 }).map((b) => b.map((x) => x.toString(16).padStart(2, '0')).join(':')),
  fc.constantFrom('02:00:00:00:00:01', '02:AB:00:00:00:01', '00:00:00:00:00:00', 'ff:ff:ff:ff:ff:ff', '01:00:5e:00:00:01', '02-00-00-00-00-01', '2:0:0:0:0:1', ''),
);
const markText = fc.oneof(fc.integer({ min: 0, max: 300 }).map(String), fc.constantFrom('1', '01', '-1', '1.5', '0x10', '4294967295', '4294967296', '99999999999', 'yes', ''));

export const tunnelStatus: Arb<unknown> = sometimesWrong(
  fc.record(
    {
      tunnel: sometimesWrong(
        fc.record(
          {
            ipv4: sometimesWrong(fc.oneof(ip4, ipText), 1),
            ipv6: sometimesWrong(fc.oneof(v6Near, ipText), 1),
            mac: sometimesWrong(mac, 1),
            parent: sometimesWrong(
              fc.record(
                { name: sometimesWrong(ifname, 1), ipv4: sometimesWrong(fc.oneof(ip4, ipText), 1), ipv6: sometimesWrong(fc.oneof(v6Near, ipText), 1) },
                { requiredKeys: [] },
              ),
              1,
            ),
          },
          { requiredKeys: [] },
        ),
        1,
      ),
      mark: sometimesWrong(markText, 1),
      phase: sometimesWrong(fc.constantFrom('Ready', 'NodeNotReady', 'NotReady', 'Pending', 'Init', 'Failed', 'HeartbeatTimeout', 'ready', ''), 1),
    },
    { requiredKeys: [] },
  ),
  1,
);

export const policyStatus: Arb<unknown> = sometimesWrong(
  fc.record(
    {
      eip: sometimesWrong(fc.record({ ipv4: sometimesWrong(fc.oneof(v4Near, ipText), 1), ipv6: sometimesWrong(fc.oneof(v6Near, ipText), 1) }, { requiredKeys: [] }), 1),
      node: sometimesWrong(nameText, 1),
    },
    { requiredKeys: [] },
  ),
  1,
);

/** Addresses and CIDRs of `family` (no ranges), as the controller writes them; now and then anything. */
const statusCidrs = (family: 4 | 6) => listOf(mostly(fc.oneof(family === 4 ? ip4 : v6Near, alignedCidr(family)), fc.oneof(cidrText, ipSpecText)), 10001);
export const clusterInfoStatus: Arb<unknown> = sometimesWrong(
  fc.record(
    {
      podCIDR: sometimesWrong(fc.record({ ipv4: statusCidrs(4), ipv6: statusCidrs(6) }, { requiredKeys: [] }), 1),
      clusterIP: sometimesWrong(fc.record({ ipv4: statusCidrs(4), ipv6: statusCidrs(6) }, { requiredKeys: [] }), 1),
      nodeIP: sometimesWrong(fc.record({ ipv4: statusCidrs(4), ipv6: statusCidrs(6) }, { requiredKeys: [] }), 1),
      extraCidr: listOf(fc.oneof(ipSpecOf(4), ipSpecOf(6))),
    },
    { requiredKeys: [] },
  ),
  1,
);

const endpoint: Arb<unknown> = fc.record(
  {
    ns: sometimesWrong(nameText, 1),
    pod: sometimesWrong(nameText, 1),
    node: sometimesWrong(nameText, 1),
    ipv4: listOf(fc.oneof(v4Near, ipText), 17),
    ipv6: listOf(fc.oneof(v6Near, ipText), 17),
  },
  { requiredKeys: [] },
);
export const endpointSlice = (cluster: boolean): Arb<Record<string, unknown>> =>
  fc.record({
    apiVersion: fc.constant(API_VERSION),
    kind: fc.constant(cluster ? 'EgressClusterEndpointSlice' : 'EgressEndpointSlice'),
    metadata: fc.record({
      name: nameText,
      ...(cluster ? {} : { namespace: fc.constantFrom('default', 'team-a') }),
      // a CRD rule cannot read labels, so the policy label is always there (the parser requires it)
      labels: fc.record({ [cluster ? CLUSTER_POLICY_LABEL : POLICY_LABEL]: dnsLabel }),
    }),
    endpoints: fc.oneof(
      { arbitrary: fc.array(endpoint, { maxLength: 4 }), weight: 10 },
      { arbitrary: endpoint.map((e) => new Array(101).fill(e)), weight: 1 },
      { arbitrary: wrongType, weight: 1 },
    ),
  });
