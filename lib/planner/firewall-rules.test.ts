import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plan } from './plan.js';
import { API_VERSION } from '../api/group.js';
import type { NodePlan } from './node-plan.js';
import { ruleText } from './nft/render.js';
import { baseCluster, pod, snapshotOf } from './testing/cluster.js';
import { firewallSourceSet } from './firewall-rules.js';

const fw = (name: string, spec: Record<string, unknown>, created = '2026-01-01T00:00:00Z', kind = 'EgressFirewall') => ({
  apiVersion: API_VERSION,
  kind,
  metadata: { name, ...(kind === 'EgressFirewall' ? { namespace: 'apps' } : {}), uid: `uid-${name}`, creationTimestamp: created },
  spec,
});
const appA = pod('apps', 'a', 'worker-1', ['10.244.1.5'], { app: 'a' });
const appB = pod('apps', 'b', 'worker-1', ['10.244.1.6'], { app: 'b' });
const elsewhere = pod('apps', 'c', 'gateway-1', ['10.244.2.7'], { app: 'a' });

const chain = (p: NodePlan) => p.nft.chains.find((c) => c.name === 'egress_firewall')?.rules.map(ruleText) ?? [];
const elements = (p: NodePlan, name: string) => p.nft.sets.find((s) => s.name === name)?.elements;

test('no firewall: no chain and no set, nothing evaluated', () => {
  const p = plan(snapshotOf([...baseCluster(), appA]), 'worker-1');
  assert.equal(chain(p).length, 0);
  assert.ok(!p.nft.chains.some((c) => c.name === 'egress_firewall'));
});

test('seed 003 as a firewall: cluster traffic first, then the rules in order, then the default; only local pods are judged', () => {
  const docs = [
    ...baseCluster(),
    appA,
    appB,
    elsewhere,
    fw('deny-external', {
      appliedTo: { podSelector: { matchLabels: { app: 'a' } } },
      egress: [
        { type: 'Allow', to: { cidrSelector: '198.18.0.0/15' }, ports: [{ protocol: 'TCP', port: 443 }, { protocol: 'UDP' }] },
        { type: 'Deny', to: { cidrSelector: '0.0.0.0/0' } },
      ],
    }),
  ];
  const p = plan(snapshotOf(docs), 'worker-1');
  const src4 = firewallSourceSet('apps/deny-external', 4);
  assert.deepEqual(elements(p, src4), ['10.244.1.5'], 'app a on this node, not app b, not the pod of another node');
  assert.deepEqual(elements(p, firewallSourceSet('apps/deny-external', 6)), []);
  assert.deepEqual(chain(p), [
    'ct state established,related accept',
    'ip daddr @cluster4 accept',
    'ip6 daddr @cluster6 accept',
    `ip saddr @${src4} ip daddr 198.18.0.0/15 tcp dport 443 counter accept comment "fw apps/deny-external #0"`,
    `ip saddr @${src4} ip daddr 198.18.0.0/15 meta l4proto udp counter accept comment "fw apps/deny-external #0"`,
    `ip saddr @${src4} meta nfproto ipv4 limit rate 5/second burst 10 packets log prefix "fw apps/deny-external #1" group 7040`,
    `ip saddr @${src4} meta nfproto ipv4 meta l4proto tcp counter reject with tcp reset comment "fw apps/deny-external #1"`,
    `ip saddr @${src4} meta nfproto ipv4 counter reject with icmpx admin-prohibited comment "fw apps/deny-external #1"`,
    `ip saddr @${src4} counter accept comment "fw apps/deny-external default"`,
    `ip6 saddr @${firewallSourceSet('apps/deny-external', 6)} counter accept comment "fw apps/deny-external default"`,
  ]);
  assert.equal(p.nft.chains.find((c) => c.name === 'egress_firewall')!.hook, 'forward', 'after routing: a denied packet never leaves by the tunnel');
  const worker2 = plan(snapshotOf(docs), 'gateway-1');
  assert.deepEqual(elements(worker2, src4), ['10.244.2.7'], 'each node judges its own pods');
});

test('several firewalls: higher priority first, then the older; rules of all before any default', () => {
  const docs = [
    ...baseCluster(),
    appA,
    fw('old', { egress: [{ type: 'Deny', to: { cidrSelector: '203.0.113.0/24' } }], defaultAction: 'Deny' }, '2026-01-01T00:00:00Z'),
    fw('young', { egress: [{ type: 'Allow', to: { cidrSelector: '203.0.113.7/32' } }] }, '2026-02-01T00:00:00Z'),
    fw('urgent', { priority: 10, egress: [{ type: 'Allow', to: { cidrSelector: '2001:db8::/32' } }] }, '2026-03-01T00:00:00Z'),
    fw('all-ns', { defaultAction: 'Deny', egress: [] }, '2025-01-01T00:00:00Z', 'EgressClusterFirewall'),
  ];
  const comments = chain(plan(snapshotOf(docs), 'worker-1'))
    .map((r) => /comment "fw (\S+) (\S+)"/.exec(r))
    .filter((m) => m !== null)
    .map((m) => `${m[1]} ${m[2]}`);
  const unique = comments.filter((c, i) => comments.indexOf(c) === i);
  assert.deepEqual(unique, ['apps/urgent #0', 'apps/old #0', 'apps/young #0', 'apps/urgent default', 'all-ns default', 'apps/old default', 'apps/young default']);
});

test('a rule by name matches its learned set, which the plan creates empty with timeouts and never fills', async () => {
  const { firewallNameRules, firewallNameSet } = await import('./firewall-rules.js');
  const { localFirewallInputs } = await import('./firewall-endpoints.js');
  const { tableText } = await import('./nft/render.js');
  const docs = [
    ...baseCluster(),
    appA,
    appB,
    fw('apps-a', {
      appliedTo: { podSelector: { matchLabels: { app: 'a' } } },
      defaultAction: 'Deny',
      egress: [
        { type: 'Allow', to: { dnsName: 'GitHub.com.' }, ports: [{ protocol: 'TCP', port: 443 }] },
        { type: 'Allow', to: { dnsName: '*.example.com' } },
      ],
    }),
  ];
  const snapshot = snapshotOf(docs);
  const p = plan(snapshot, 'worker-1');
  const src4 = firewallSourceSet('apps/apps-a', 4);
  const named4 = firewallNameSet('apps/apps-a', 0, 4);
  assert.ok(chain(p).includes(`ip saddr @${src4} ip daddr @${named4} tcp dport 443 counter accept comment "fw apps/apps-a #0"`));
  const set = p.nft.sets.find((s) => s.name === named4)!;
  assert.deepEqual([set.learned, set.elements], [true, []]);
  assert.match(tableText(p.nft), new RegExp(`set ${named4} \\{\\n\\t\\ttype ipv4_addr\\n\\t\\tflags timeout\\n\\t\\}`));
  const rules = firewallNameRules(localFirewallInputs(snapshot, 'worker-1'));
  assert.deepEqual(
    rules.map((r) => [r.pattern, r.index, r.sets[4], [...r.clients]]),
    [
      ['github.com', 0, named4, ['10.244.1.5']],
      ['*.example.com', 1, firewallNameSet('apps/apps-a', 1, 4), ['10.244.1.5']],
    ],
  );
  assert.deepEqual(firewallNameRules(localFirewallInputs(snapshot, 'gateway-1')), [], 'no pod of the firewall there: nothing to learn');
});
