/**
 * Malformed and hostile objects of every egress kind, as a careless user, a broken tool or an
 * attacker with write access would apply them: wrong types, bad addresses, reversed ranges,
 * conflicting fields, unknown gateways, shared and exhausted EIPs, huge lists, names at the
 * limits, policies that select everything. Deterministic: the same context and count give the
 * same objects, so a failure can be replayed.
 *
 * Each object belongs to a category that says what sluice must make of it if the API server
 * accepts it: `bad` ones must end up reported (a False condition with a reason and a message) or
 * removed by the controller; the others are legal but hostile and must not disturb anyone else.
 */
import { API_VERSION, CLUSTER_POLICY_LABEL, POLICY_LABEL } from '../../../lib/api/group.js';
import type { KubeObject } from '../../../lib/api/wire.js';

export interface HostileContext {
  /** Prefix of every generated name, so the objects are easy to find and cannot collide. */
  readonly prefix: string;
  /** The gateway the valid policy uses, its pool ("a-b") and the valid policy's EIP. */
  readonly gateway: string;
  readonly pool: string;
  readonly eip: string;
  /** The valid policy (an EgressPolicy) whose slices the hostile ones try to take over. */
  readonly policy: { namespace: string; name: string };
  /** A namespace that exists besides the valid policy's. */
  readonly namespace: string;
  /** Node names, and addresses that must never become an EIP: node IPs, pods, and other hosts of the LAN. */
  readonly nodes: readonly string[];
  readonly nodeAddresses: readonly string[];
  readonly podAddresses: readonly string[];
  /** LAN hosts that are not nodes (the external host, the API server's host): sluice cannot know them. */
  readonly lanHosts: readonly string[];
  /** A gateway over the real gateway nodes whose pool holds `lanHosts`: its EIPs are probed on the LAN. */
  readonly lanGateway: string;
  /**
   * A free range, outside the valid gateway's pool and every address in use, for the pools of
   * hostile gateways: each object gets a block of its own (4 addresses per serial), so the pools
   * of gateways meant to be legal never overlap one another.
   */
  readonly spareRange: readonly [string, string];
}

/** What sluice must make of the objects of a category that the API server accepts. */
export type Verdict =
  /** Not servable: Accepted=False or Ready=False, with a reason and a message. */
  | 'reported'
  /** Legal, if hostile: conditions present and Accepted=True. */
  | 'legal'
  /** Only the controller may write these (slices, tunnels): it deletes or rewrites them. */
  | 'repaired';

export interface Category {
  readonly name: string;
  readonly verdict: Verdict;
}

export interface Hostile {
  readonly object: KubeObject & Record<string, unknown>;
  readonly category: Category;
  /** What is wrong with it, for messages. */
  readonly flaw: string;
}

/**
 * `i` is the object's serial (unique over the whole run: names, labels, spare pool blocks);
 * `nth` counts the template's own objects, and picks its cases, so that every case comes round
 * whatever the template's place in the rotation.
 */
type Maker = (i: number, ctx: HostileContext, nth: number) => { object: Record<string, unknown>; flaw: string };

interface Template {
  readonly kind: string;
  readonly category: Category;
  /** How many of every 100 objects come from this template. */
  readonly weight: number;
  readonly make: Maker;
}

const pick = <T>(list: readonly T[], i: number): T => list[i % list.length]!;
const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

const ipv4Value = (ip: string): number => ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);

function ipv4Add(ip: string, n: number): string {
  const v = ipv4Value(ip) + n;
  return [24, 16, 8, 0].map((s) => Math.floor(v / 2 ** s) % 256).join('.');
}

const policyBody = (spec: unknown) => ({ spec });
const sel = (labels: Record<string, unknown>) => ({ podSelector: { matchLabels: labels } });
const nobody = (i: number) => sel({ app: `nobody-${i}` });

/** A name of exactly `length` characters (a DNS subdomain: labels of at most 63 joined by dots). */
export function nameOfLength(base: string, length: number): string {
  let name = base;
  while (name.length < length) {
    const room = length - name.length;
    name += room >= 2 ? `.${'a'.repeat(Math.min(62, room - 1))}` : 'a';
  }
  return name.slice(0, length).replace(/\.$/, 'b');
}

const WRONG_TYPES: ReadonlyArray<[string, (i: number, ctx: HostileContext) => unknown]> = [
  ['egressGatewayName is a number', (i) => ({ egressGatewayName: 42 + i, appliedTo: nobody(i) })],
  ['priority is a string', (i, ctx) => ({ egressGatewayName: ctx.gateway, priority: 'high', appliedTo: nobody(i) })],
  ['appliedTo is a string', (_i, ctx) => ({ egressGatewayName: ctx.gateway, appliedTo: 'everything' })],
  ['destSubnet is a string', (i, ctx) => ({ egressGatewayName: ctx.gateway, destSubnet: '0.0.0.0/0', appliedTo: nobody(i) })],
  ['a label value is a number', (i, ctx) => ({ egressGatewayName: ctx.gateway, appliedTo: sel({ app: i }) })],
  ['egressIP is a list', (i, ctx) => ({ egressGatewayName: ctx.gateway, egressIP: [ctx.eip], appliedTo: nobody(i) })],
  ['useNodeIP is a string', (i, ctx) => ({ egressGatewayName: ctx.gateway, egressIP: { useNodeIP: 'yes' }, appliedTo: nobody(i) })],
  ['podSubnet holds a number', (_i, ctx) => ({ egressGatewayName: ctx.gateway, appliedTo: { podSubnet: [10] } })],
  ['priority is a float', (i, ctx) => ({ egressGatewayName: ctx.gateway, priority: 1.5, appliedTo: nobody(i) })],
];

const BAD_V4 = [
  '300.1.2.3',
  '1.2.3',
  '198.18.0.105/32',
  ' 198.18.0.105',
  '0.0.0.0',
  '255.255.255.255',
  '224.0.0.1',
  '127.0.0.1',
  '8.8.8.8',
  '::ffff:198.18.0.105',
  '198.018.000.105',
  '1.2.3.4.5',
  '-1.2.3.4',
  '1.2.3.4 ',
  '1.2.3.4\n',
];
const BAD_V6 = [':::', '1:::2', 'fe80::1%eth0', '::1', 'ff02::1', 'g::1', '::ffff:1.2.3.4', '1:2:3:4:5:6:7:8:9', 'fd00::1/64', '::'];
const BAD_SPECS = [
  '198.18.0.200-198.18.0.100',
  '10.0.0.0/33',
  '10.0.0.1-fd00::1',
  'fd00::9-fd00::1',
  '1.2.3.4/-1',
  '0.0.0.0/0-1.1.1.1',
  '10.0.0.0/8/8',
  '1.2.3.4-',
  '-1.2.3.4',
  ':::/64',
  '10.0.0.300/24',
];

const BAD_SELECTORS: ReadonlyArray<[string, unknown]> = [
  ['operator Foo', { matchExpressions: [{ key: 'app', operator: 'Foo', values: ['x'] }] }],
  ['In without values', { matchExpressions: [{ key: 'app', operator: 'In' }] }],
  ['Exists with values', { matchExpressions: [{ key: 'app', operator: 'Exists', values: ['x'] }] }],
  ['a key with a space', { matchLabels: { 'a b': 'x' } }],
  ['a key of 64 characters', { matchLabels: { ['k'.repeat(64)]: 'x' } }],
  ['a value of 64 characters', { matchLabels: { app: 'v'.repeat(64) } }],
  ['a key with an empty name', { matchLabels: { 'sluice.dev/': 'x' } }],
  ['a value with a semicolon', { matchLabels: { app: 'x;y' } }],
  ['a key with a quote', { matchLabels: { 'app"': 'x' } }],
];

const POLICY_TEMPLATES: readonly Template[] = [
  {
    kind: 'EgressPolicy',
    category: { name: 'policies with fields of the wrong type', verdict: 'reported' },
    weight: 6,
    make: (i, ctx, nth) => {
      const [flaw, spec] = pick(WRONG_TYPES, nth);
      return { object: policyBody(spec(i, ctx)), flaw };
    },
  },
  {
    kind: 'EgressPolicy',
    category: { name: 'policies with malformed or unusable egress IPs', verdict: 'reported' },
    weight: 8,
    make: (i, ctx, nth) => {
      const v6 = nth % 3 === 2;
      const ip = v6 ? pick(BAD_V6, nth) : pick(BAD_V4, nth);
      return { object: policyBody({ egressGatewayName: ctx.gateway, egressIP: v6 ? { ipv6: ip } : { ipv4: ip }, appliedTo: nobody(i) }), flaw: `egress IP ${JSON.stringify(ip)}` };
    },
  },
  {
    kind: 'EgressPolicy',
    category: { name: 'policies with reversed or malformed ranges', verdict: 'reported' },
    weight: 6,
    make: (i, ctx, nth) => {
      const spec = pick(BAD_SPECS, nth);
      const field = pick(['destSubnet', 'excludeDestSubnet', 'podSubnet'], nth);
      const appliedTo = field === 'podSubnet' ? { podSubnet: [spec] } : nobody(i);
      return { object: policyBody({ egressGatewayName: ctx.gateway, appliedTo, ...(field === 'podSubnet' ? {} : { [field]: [spec] }) }), flaw: `${field} ${JSON.stringify(spec)}` };
    },
  },
  {
    kind: 'EgressPolicy',
    category: { name: 'policies with conflicting fields', verdict: 'reported' },
    weight: 6,
    make: (i, ctx, nth) => {
      const cases: ReadonlyArray<[string, unknown]> = [
        ['useNodeIP with an explicit ipv4', { egressGatewayName: ctx.gateway, egressIP: { useNodeIP: true, ipv4: ctx.eip }, appliedTo: nobody(i) }],
        ['podSelector and podSubnet', { egressGatewayName: ctx.gateway, appliedTo: { ...nobody(i), podSubnet: ['10.244.0.0/16'] } }],
        ['neither podSelector nor podSubnet', { egressGatewayName: ctx.gateway, appliedTo: {} }],
        ['an empty podSubnet', { egressGatewayName: ctx.gateway, appliedTo: { podSubnet: [] } }],
        ['allocatorPolicy "random"', { egressGatewayName: ctx.gateway, egressIP: { allocatorPolicy: 'random' }, appliedTo: nobody(i) }],
        ['a namespaceSelector on a namespaced policy', { egressGatewayName: ctx.gateway, appliedTo: { ...nobody(i), namespaceSelector: {} } }],
        ['priority 1001', { egressGatewayName: ctx.gateway, priority: 1001, appliedTo: nobody(i) }],
        ['priority -2147483649', { egressGatewayName: ctx.gateway, priority: -2147483649, appliedTo: nobody(i) }],
        ['an unknown field', { egressGatewayName: ctx.gateway, appliedTo: nobody(i), egressGatewayNames: ['x'] }],
        ['no egressGatewayName', { appliedTo: nobody(i) }],
      ];
      const [flaw, spec] = pick(cases, nth);
      return { object: policyBody(spec), flaw };
    },
  },
  {
    kind: 'EgressPolicy',
    category: { name: 'policies naming a gateway that does not exist', verdict: 'reported' },
    weight: 8,
    make: (i, ctx, nth) => {
      const name = pick([`missing-${i}`, ctx.gateway.toUpperCase(), `${ctx.gateway} `, `../${ctx.gateway}`, nameOfLength(`missing-${i}`, 253), `${ctx.gateway}-${i}`], nth);
      return { object: policyBody({ egressGatewayName: name, appliedTo: nobody(i) }), flaw: `egressGatewayName ${JSON.stringify(name)}` };
    },
  },
  {
    kind: 'EgressPolicy',
    category: { name: 'policies with an EIP outside the pool or of another gateway', verdict: 'reported' },
    weight: 5,
    make: (i, ctx, nth) => {
      const ip = pick([ipv4Add(ctx.spareRange[0], i % 20), ipv4Add(ctx.pool.split('-')[1]!, 1 + (i % 5)), '198.18.0.99'], nth);
      return { object: policyBody({ egressGatewayName: ctx.gateway, egressIP: { ipv4: ip }, appliedTo: nobody(i) }), flaw: `egressIP.ipv4 ${ip} outside the pool ${ctx.pool}` };
    },
  },
  {
    // The gateway node that would take the address probes the LAN first, finds the host, and
    // does not take it: EIPConflict. Taking it would cut the host off (here: the external host
    // the valid policy's flows run to).
    kind: 'EgressPolicy',
    category: { name: 'policies whose egress IP is a LAN host that is not a node', verdict: 'reported' },
    weight: 1,
    make: (i, ctx, nth) => {
      const ip = pick(ctx.lanHosts, nth);
      return { object: policyBody({ egressGatewayName: ctx.lanGateway, egressIP: { ipv4: ip }, appliedTo: nobody(i) }), flaw: `egressIP ${ip}, a LAN host` };
    },
  },
  {
    kind: 'EgressPolicy',
    category: { name: 'policies sharing the valid EIP or draining the pool', verdict: 'legal' },
    weight: 6,
    make: (_i, ctx, nth) => {
      const egressIP = nth % 2 ? { ipv4: ctx.eip } : { allocatorPolicy: 'rr' };
      return {
        object: policyBody({ egressGatewayName: ctx.gateway, egressIP, appliedTo: sel({ app: 'client' }), priority: nth % 3 ? 1000 : 999 }),
        flaw: nth % 2 ? `explicit ${ctx.eip}, the valid policy's EIP` : 'rr: one more pool address',
      };
    },
  },
  {
    kind: 'EgressPolicy',
    category: { name: 'policies with huge lists', verdict: 'legal' },
    weight: 3,
    make: (i, ctx, nth) => {
      const n = pick([256, 256, 64], nth);
      const spec =
        n === 64
          ? { egressGatewayName: ctx.gateway, appliedTo: { podSubnet: Array.from({ length: 64 }, (_, k) => `10.${100 + (i % 100)}.${k}.0/24`) } }
          : {
              egressGatewayName: ctx.gateway,
              appliedTo: {
                podSelector: {
                  matchLabels: Object.fromEntries(Array.from({ length: 200 }, (_, k) => [`k${k}.example.com/key`, `v${k}`])),
                  matchExpressions: [{ key: 'app', operator: 'In', values: Array.from({ length: 500 }, (_, k) => `value-${k}-${'x'.repeat(40)}`) }],
                },
              },
              destSubnet: Array.from({ length: 256 }, (_, k) => `203.0.${k}.0/24`),
              excludeDestSubnet: Array.from({ length: 256 }, (_, k) => `203.0.${k}.${(i + k) % 256}`),
            };
      return { object: policyBody(spec), flaw: n === 64 ? '64 pod subnets' : '256 destination and exclusion entries, 200 labels, 500 values' };
    },
  },
  {
    kind: 'EgressPolicy',
    category: { name: 'lists over their limit', verdict: 'reported' },
    weight: 2,
    make: (i, ctx) => ({
      object: policyBody({
        egressGatewayName: ctx.gateway,
        appliedTo: nobody(i),
        destSubnet: Array.from({ length: 257 + (i % 50) }, (_, k) => `198.51.${k % 256}.${Math.floor(k / 256)}`),
      }),
      flaw: `${257 + (i % 50)} destSubnet entries`,
    }),
  },
  {
    kind: 'EgressPolicy',
    category: { name: 'policies with malformed label selectors', verdict: 'reported' },
    weight: 5,
    make: (_i, ctx, nth) => {
      const [flaw, podSelector] = pick(BAD_SELECTORS, nth);
      return { object: policyBody({ egressGatewayName: ctx.gateway, appliedTo: { podSelector } }), flaw };
    },
  },
  {
    kind: 'EgressClusterPolicy',
    category: { name: 'cluster policies selecting everything', verdict: 'legal' },
    weight: 5,
    make: (_i, ctx, nth) => {
      const cases: ReadonlyArray<[string, unknown]> = [
        ['every pod, default EIP', { egressGatewayName: ctx.gateway, appliedTo: { podSelector: {} }, priority: 1000 }],
        [
          'every pod source subnet, rr',
          {
            egressGatewayName: ctx.gateway,
            egressIP: { allocatorPolicy: 'rr' },
            appliedTo: { podSubnet: ['10.244.0.0/16', 'fd00:10:244::/48'] },
            destSubnet: ['0.0.0.0/0'],
            priority: 1000,
          },
        ],
        ['every pod of every namespace', { egressGatewayName: ctx.gateway, appliedTo: { podSelector: {}, namespaceSelector: {} }, priority: 999 }],
        ['every destination excluded', { egressGatewayName: ctx.gateway, appliedTo: { podSelector: {} }, destSubnet: ['0.0.0.0/0'], excludeDestSubnet: ['0.0.0.0/0'] }],
      ];
      const [flaw, spec] = pick(cases, nth);
      return { object: policyBody(spec), flaw };
    },
  },
  {
    kind: 'EgressClusterPolicy',
    category: { name: 'cluster policies naming a gateway that does not exist', verdict: 'reported' },
    weight: 3,
    make: (i) => ({ object: policyBody({ egressGatewayName: `missing-${i}`, appliedTo: { podSelector: {} } }), flaw: `egressGatewayName missing-${i}` }),
  },
  {
    kind: 'EgressClusterPolicy',
    category: { name: 'cluster policies with malformed namespace selectors', verdict: 'reported' },
    weight: 2,
    make: (_i, ctx, nth) => {
      const [flaw, namespaceSelector] = pick(BAD_SELECTORS, nth);
      return { object: policyBody({ egressGatewayName: ctx.gateway, appliedTo: { podSelector: {}, namespaceSelector } }), flaw: `namespaceSelector: ${flaw}` };
    },
  },
];

/** Addresses of the spare range each object may use. */
const SPARE_BLOCK = 4;

/** A pool of `size` (at most SPARE_BLOCK) addresses from object `i`'s own block of the spare range. */
function sparePool(ctx: HostileContext, i: number, size: number): string {
  const first = ipv4Add(ctx.spareRange[0], i * SPARE_BLOCK);
  const last = ipv4Add(first, size - 1);
  if (size > SPARE_BLOCK || ipv4Value(last) > ipv4Value(ctx.spareRange[1])) throw new Error(`object ${i}: a pool of ${size} leaves the spare range ${ctx.spareRange.join('-')}`);
  return `${first}-${last}`;
}

const gatewayBody = (nodeSelector: unknown, ippools: unknown) => ({ spec: { nodeSelector, ippools } });
const gatewayNodes = { selector: { matchLabels: { egress: 'true' } } };

const GATEWAY_TEMPLATES: readonly Template[] = [
  {
    kind: 'EgressGateway',
    category: { name: 'gateways with malformed pools', verdict: 'reported' },
    weight: 5,
    make: (i, ctx, nth) => {
      const cases: ReadonlyArray<[string, unknown]> = [
        ['a reversed range', { ipv4: [`${ipv4Add(ctx.spareRange[0], 10)}-${ctx.spareRange[0]}`] }],
        ['a /33', { ipv4: [`${ctx.spareRange[0]}/33`] }],
        ['an IPv6 range in ipv4', { ipv4: ['fd00::1-fd00::9'] }],
        ['overlapping entries', { ipv4: [sparePool(ctx, i, 4), sparePool(ctx, i, 4)] }],
        ['65 entries', { ipv4: Array.from({ length: 65 }, (_, k) => ipv4Add(ctx.spareRange[0], k)) }],
        ['":::" in ipv6', { ipv6: [':::'] }],
        ['a default EIP outside the pool', { ipv4: [sparePool(ctx, i, 4)], ipv4DefaultEIP: '8.8.8.8' }],
        ['ipv4 is a string', { ipv4: sparePool(ctx, i, 4) }],
        ['a mapped IPv6 address in ipv6', { ipv6: ['::ffff:198.18.0.150'] }],
      ];
      const [flaw, pools] = pick(cases, nth);
      return { object: gatewayBody(gatewayNodes, pools), flaw };
    },
  },
  {
    kind: 'EgressGateway',
    category: { name: 'gateways whose pools hold node, pod or special addresses', verdict: 'reported' },
    weight: 2,
    make: (_i, ctx, nth) => {
      const bad = [...ctx.nodeAddresses, ...ctx.podAddresses, '127.0.0.1', '224.0.0.1', '255.255.255.255', '0.0.0.0'];
      const ip = pick(bad, nth);
      // Selecting no node: no policy uses these (their EIPs would take the addresses of others).
      return { object: gatewayBody({ selector: { matchLabels: { 'sluice.dev/none': 'x' } } }, { ipv4: [ip] }), flaw: `pool ${ip}` };
    },
  },
  {
    kind: 'EgressGateway',
    category: { name: "gateways whose pools overlap another gateway's", verdict: 'reported' },
    weight: 2,
    make: (_i, ctx, nth) => ({
      // No node matches them: an EIP carried by two gateways would be held twice.
      object: gatewayBody({ selector: { matchLabels: { 'sluice.dev/none': 'x' } } }, { ipv4: [pick([ctx.pool, ctx.eip, `${ctx.eip}/30`], nth)], ipv4DefaultEIP: ctx.eip }),
      flaw: `pool overlapping ${ctx.pool}, default EIP ${ctx.eip}`,
    }),
  },
  {
    kind: 'EgressGateway',
    category: { name: 'gateways with malformed node selectors', verdict: 'reported' },
    weight: 2,
    make: (i, ctx, nth) => {
      const cases: ReadonlyArray<[string, unknown]> = [
        ['no selector', {}],
        ['nodeSelector is a list', []],
        ...BAD_SELECTORS.map(([flaw, s]): [string, unknown] => [flaw, { selector: s }]),
      ];
      const [flaw, nodeSelector] = pick(cases, nth);
      return { object: gatewayBody(nodeSelector, { ipv4: [sparePool(ctx, i, 2)] }), flaw };
    },
  },
  {
    kind: 'EgressGateway',
    category: { name: 'gateways over every node, or none', verdict: 'legal' },
    weight: 2,
    make: (i, ctx, nth) => ({
      object: gatewayBody(nth % 2 ? { selector: {} } : { selector: { matchLabels: { 'sluice.dev/none': 'x' } } }, { ipv4: [sparePool(ctx, i, 2)] }),
      flaw: nth % 2 ? 'selects every node, workers too' : 'selects no node',
    }),
  },
];

const sliceBody = (labels: Record<string, string> | undefined, endpoints: unknown) => ({ metadata: labels ? { labels } : {}, endpoints });

const SLICE_TEMPLATES: readonly Template[] = [
  {
    kind: 'EgressEndpointSlice',
    category: { name: "slices slipping pods into the valid policy's set", verdict: 'repaired' },
    weight: 4,
    make: (i, ctx, nth) => {
      const ip = pick([...ctx.podAddresses.map((a) => ipv4Add(a, 50 + (i % 50))), '8.8.8.8', '0.0.0.0', '127.0.0.1'], nth);
      return {
        object: {
          ...sliceBody({ [POLICY_LABEL]: ctx.policy.name }, [{ ns: ctx.policy.namespace, pod: `ghost-${i}`, node: pick(ctx.nodes, nth), ipv4: [ip] }]),
          namespace: ctx.policy.namespace,
        },
        flaw: `claims ${ip} for ${ctx.policy.namespace}/${ctx.policy.name}`,
      };
    },
  },
  {
    kind: 'EgressEndpointSlice',
    category: { name: 'slices of policies that do not exist', verdict: 'repaired' },
    weight: 3,
    make: (i, ctx, nth) => ({
      object: sliceBody({ [POLICY_LABEL]: `missing-${i}` }, [
        { ns: ctx.policy.namespace, pod: `ghost-${i}`, node: pick(ctx.nodes, nth), ipv4: [ipv4Add(ctx.podAddresses[0]!, 100 + (i % 100))] },
      ]),
      flaw: `names policy missing-${i}`,
    }),
  },
  {
    kind: 'EgressEndpointSlice',
    category: { name: 'slices that cannot be parsed', verdict: 'repaired' },
    weight: 3,
    make: (i, ctx, nth) => {
      const cases: ReadonlyArray<[string, Record<string, unknown>]> = [
        ['no policy label', sliceBody(undefined, [{ ns: ctx.policy.namespace, pod: 'x', node: ctx.nodes[0]! }])],
        ['an endpoint that is a string', sliceBody({ [POLICY_LABEL]: ctx.policy.name }, ['10.244.1.2'])],
        ['an endpoint without ns', sliceBody({ [POLICY_LABEL]: ctx.policy.name }, [{ pod: 'x', node: ctx.nodes[0]! }])],
        ['ipv4 holding an IPv6 address', sliceBody({ [POLICY_LABEL]: ctx.policy.name }, [{ ns: 'default', pod: 'x', node: ctx.nodes[0]!, ipv4: ['fd00::1'] }])],
        ['an address with a semicolon', sliceBody({ [POLICY_LABEL]: ctx.policy.name }, [{ ns: 'default', pod: 'x', node: ctx.nodes[0]!, ipv4: ['10.244.1.2; add table inet x'] }])],
        [
          '101 endpoints',
          sliceBody(
            { [POLICY_LABEL]: ctx.policy.name },
            Array.from({ length: 101 }, (_, k) => ({ ns: 'default', pod: `p${k}`, node: ctx.nodes[0]!, ipv4: [ipv4Add('10.244.200.0', k)] })),
          ),
        ],
        ['a node name with a quote', sliceBody({ [POLICY_LABEL]: ctx.policy.name }, [{ ns: 'default', pod: 'x', node: 'worker"1', ipv4: [ipv4Add('10.244.201.0', i % 200)] }])],
      ];
      const [flaw, body] = pick(cases, nth);
      return { object: body, flaw };
    },
  },
  {
    kind: 'EgressClusterEndpointSlice',
    category: { name: 'cluster slices of cluster policies that do not exist', verdict: 'repaired' },
    weight: 2,
    make: (i, ctx, nth) => ({
      object: sliceBody({ [CLUSTER_POLICY_LABEL]: `missing-${i}` }, [
        { ns: ctx.namespace, pod: `ghost-${i}`, node: pick(ctx.nodes, nth), ipv4: [ipv4Add(ctx.podAddresses[0]!, 150 + (i % 100))] },
      ]),
      flaw: `names cluster policy missing-${i}`,
    }),
  },
];

const TUNNEL_TEMPLATES: readonly Template[] = [
  {
    kind: 'EgressTunnel',
    category: { name: 'tunnels of nodes that do not exist', verdict: 'repaired' },
    weight: 3,
    make: (i, _ctx, nth) => ({ object: { spec: { parent: pick(['eth0', 'eth0"; add table inet pwn; #', 'x'.repeat(300)], nth), mark: i } }, flaw: 'no such node' }),
  },
];

const CLUSTER_INFO_TEMPLATES: readonly Template[] = [
  {
    kind: 'EgressClusterInfo',
    category: { name: 'cluster infos not named default', verdict: 'reported' },
    weight: 1,
    make: () => ({ object: { spec: { autoDetect: { podCidrMode: 'auto' } } }, flaw: 'a second EgressClusterInfo' }),
  },
];

const TEMPLATES: readonly Template[] = [...POLICY_TEMPLATES, ...GATEWAY_TEMPLATES, ...SLICE_TEMPLATES, ...TUNNEL_TEMPLATES, ...CLUSTER_INFO_TEMPLATES];

const NAMESPACED = new Set(['EgressPolicy', 'EgressEndpointSlice']);
const SHORT: Record<string, string> = {
  EgressPolicy: 'egp',
  EgressClusterPolicy: 'egcp',
  EgressGateway: 'egw',
  EgressEndpointSlice: 'egep',
  EgressClusterEndpointSlice: 'egcep',
  EgressTunnel: 'egt',
  EgressClusterInfo: 'egci',
};

/** Some names are at or past Kubernetes' limits; every other object gets a short unique one. */
function nameFor(ctx: HostileContext, kind: string, serial: number): string {
  const base = `${ctx.prefix}-${SHORT[kind]}-${serial}`;
  switch (serial % 50) {
    case 7:
      return nameOfLength(base, 253);
    case 17:
      return nameOfLength(base, 254);
    case 27:
      return `${base}-UPPER`;
    case 37:
      return nameOfLength(base, 63);
    default:
      return base;
  }
}

/** The kinds users write. */
export const USER_KINDS: readonly string[] = ['EgressPolicy', 'EgressClusterPolicy', 'EgressGateway', 'EgressClusterInfo'];
/** The kinds only sluice writes: forging them takes a compromised node (or a careless admin). */
export const SLUICE_KINDS: readonly string[] = ['EgressEndpointSlice', 'EgressClusterEndpointSlice', 'EgressTunnel'];

/**
 * `count` hostile objects of `kinds`, spread over the templates by weight, each with a unique name
 * built from ctx.prefix. Namespaced ones go to the valid policy's namespace or ctx.namespace.
 */
export function hostileObjects(ctx: HostileContext, count: number, kinds: readonly string[] = USER_KINDS): Hostile[] {
  const slots = TEMPLATES.filter((t) => kinds.includes(t.kind)).flatMap((t) => Array.from({ length: t.weight }, () => t));
  // A stride coprime with the slot count visits every slot once per round, templates interleaved.
  let stride = 37;
  while (gcd(stride, slots.length) !== 1) stride++;
  const out: Hostile[] = [];
  const made = new Map<Template, number>();
  for (let serial = 0; serial < count; serial++) {
    const template = slots[(serial * stride) % slots.length]!;
    const nth = made.get(template) ?? 0;
    made.set(template, nth + 1);
    const { object, flaw } = template.make(serial, ctx, nth);
    const meta = (object.metadata ?? {}) as Record<string, unknown>;
    const namespace = typeof object.namespace === 'string' ? object.namespace : serial % 2 ? ctx.namespace : ctx.policy.namespace;
    delete object.namespace;
    const name = nameFor(ctx, template.kind, serial);
    out.push({
      object: {
        apiVersion: API_VERSION,
        kind: template.kind,
        ...object,
        metadata: { ...meta, name, ...(NAMESPACED.has(template.kind) ? { namespace } : {}) },
      },
      category: template.category,
      flaw: `${flaw}${name.length > 63 || /[A-Z]/.test(name) ? ` (name of ${name.length} characters${/[A-Z]/.test(name) ? ', upper case' : ''})` : ''}`,
    });
  }
  return out;
}

/** Documents kubectl cannot even decode, for the same apply: they must not stop the others. */
export function undecodableDocuments(ctx: HostileContext): string[] {
  return [
    `apiVersion: ${API_VERSION}\nkind: EgressPolicy\nmetadata: {name: 12345, namespace: ${ctx.policy.namespace}}\nspec: {egressGatewayName: ${ctx.gateway}}\n`,
    `apiVersion: ${API_VERSION.replace('v1alpha1', 'v1beta9')}\nkind: EgressPolicy\nmetadata: {name: ${ctx.prefix}-wrong-version, namespace: ${ctx.policy.namespace}}\nspec: {}\n`,
    `apiVersion: ${API_VERSION}\nkind: EgressPolcy\nmetadata: {name: ${ctx.prefix}-wrong-kind}\n`,
  ];
}

/** Names an injected nft command would give its table: a node holding one ran text from a status field. */
export const INJECTION_MARKER = 'sluicepwn';

/** status.tunnel.parent.name values that try to close an nft statement and add one of their own. */
export const PARENT_INJECTIONS: readonly string[] = [
  `eth0" ; add table inet ${INJECTION_MARKER}1 ; #`,
  `eth0\n add table inet ${INJECTION_MARKER}2\n`,
  `eth0"}; add table ip ${INJECTION_MARKER}3; {"`,
  'a-name-longer-than-fifteen-characters',
];

/**
 * Objects whose addresses take over other hosts' traffic if sluice trusts them: a slice putting
 * node and host addresses into the valid policy's set, a cluster policy whose podSubnet covers
 * every address (node IPs too), and an EgressClusterInfo sluice rejects (which the schema should refuse too).
 */
export function forgedAddressObjects(ctx: HostileContext, workerIp: string, gatewayIp: string): Array<KubeObject & Record<string, unknown>> {
  return [
    {
      apiVersion: API_VERSION,
      kind: 'EgressEndpointSlice',
      metadata: { name: `${ctx.prefix}-slice-hosts`, namespace: ctx.policy.namespace, labels: { [POLICY_LABEL]: ctx.policy.name } },
      endpoints: [
        {
          ns: ctx.policy.namespace,
          pod: 'node-ips',
          node: ctx.nodes[0]!,
          ipv4: [workerIp, gatewayIp, ...[...ctx.nodeAddresses, ...ctx.lanHosts].filter((a) => a !== workerIp && a !== gatewayIp)],
        },
      ],
    },
    {
      apiVersion: API_VERSION,
      kind: 'EgressClusterPolicy',
      metadata: { name: `${ctx.prefix}-every-source` },
      spec: { egressGatewayName: ctx.gateway, appliedTo: { podSubnet: ['0.0.0.0/0'] } },
    },
    {
      apiVersion: API_VERSION,
      kind: 'EgressClusterInfo',
      metadata: { name: 'default' },
      spec: { autoDetect: { podCidrMode: 'k8s', clusterIP: true, nodeIP: true }, extraCidr: ['100.64.0.1/10'] },
    },
  ];
}
