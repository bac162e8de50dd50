import { test } from 'node:test';
import assert from 'node:assert/strict';
import { API_VERSION } from '../api/group.js';
import { explainFirewall, parseDestination, parsePortQuery, type LearnedAddress } from './explain-firewall.js';
import { firewallNameSet } from './firewall-rules.js';
import { baseCluster, pod, snapshotOf } from './testing/cluster.js';

const fw = (name: string, spec: Record<string, unknown>, created = '2026-01-01T00:00:00Z') => ({
  apiVersion: API_VERSION,
  kind: 'EgressFirewall',
  metadata: { name, namespace: 'apps', uid: `uid-${name}`, creationTimestamp: created },
  spec,
});

// Seed 001: a namespace-wide deny first (its default decides), then each app's rules by name.
const docs = [
  ...baseCluster(),
  pod('apps', 'app-a', 'worker-1', ['10.244.1.5'], { app: 'app-a' }),
  pod('apps', 'app-b', 'worker-1', ['10.244.1.6'], { app: 'app-b' }),
  pod('other', 'free', 'worker-1', ['10.244.1.7'], { app: 'app-a' }),
  fw('deny-external', { priority: 10, defaultAction: 'Deny', egress: [] }),
  fw('app-a', {
    appliedTo: { podSelector: { matchLabels: { app: 'app-a' } } },
    egress: [
      { type: 'Deny', to: { cidrSelector: '198.18.64.9/32' } },
      { type: 'Allow', to: { dnsName: 'github.com' } },
      { type: 'Allow', to: { cidrSelector: '203.0.113.0/24' }, ports: [{ protocol: 'TCP', port: 443 }] },
    ],
  }),
];
const snapshot = snapshotOf(docs);
const learned: LearnedAddress[] = [
  { set: firewallNameSet('apps/app-a', 1, 4), address: '198.18.64.1', expiresSeconds: 7, comment: 'dns github.com A 198.18.64.1 ttl 5 to 10.244.1.5' },
];

test('explain firewall: a learned address is allowed by the rule by name, with the answer that put it there', () => {
  const e = explainFirewall(snapshot, 'apps/app-a', '198.18.64.1', undefined, learned);
  assert.equal(e.verdict, 'Allow');
  assert.deepEqual(e.decidedBy, { firewall: 'apps/app-a', kind: 'EgressFirewall', rule: 1 });
  const deciding = e.rules.at(-1)!;
  assert.match(deciding.why, /learned from dns github\.com A 198\.18\.64\.1 ttl 5 to 10\.244\.1\.5, held 7 s more/);
  assert.deepEqual(deciding.learned, learned);
  assert.deepEqual(
    e.rules.map((r) => [r.firewall, r.rule, r.match]),
    [
      ['apps/app-a', 0, 'no'],
      ['apps/app-a', 1, 'yes'],
    ],
  );
});

test('explain firewall: an address nobody learned falls to the default of the highest-priority firewall', () => {
  const e = explainFirewall(snapshot, 'apps/app-a', '198.18.64.2', undefined, learned);
  assert.equal(e.verdict, 'Deny');
  assert.deepEqual(e.decidedBy, { firewall: 'apps/deny-external', kind: 'EgressFirewall', rule: 'default' });
  assert.match(e.rules[1]!.why, /not among the addresses learned for github\.com/);
  const b = explainFirewall(snapshot, 'apps/app-b', '198.18.64.1', undefined, learned);
  assert.equal(b.verdict, 'Deny', "app B never learned github.com's address");
});

test('explain firewall: without the learned sets a rule by name is unknown for an address, and the verdict says so', () => {
  const e = explainFirewall(snapshot, 'apps/app-a', '198.18.64.1');
  assert.equal(e.verdict, 'unknown');
  assert.equal(e.rules[1]!.match, 'unknown');
  assert.match(e.rules[1]!.why, /--learned/);
});

test('explain firewall: a CIDR rule before the name decides first; ports need --port', () => {
  assert.deepEqual(explainFirewall(snapshot, 'apps/app-a', '198.18.64.9', undefined, learned).decidedBy, { firewall: 'apps/app-a', kind: 'EgressFirewall', rule: 0 });
  const anyPort = explainFirewall(snapshot, 'apps/app-a', '203.0.113.5', undefined, []);
  assert.equal(anyPort.verdict, 'unknown');
  assert.match(anyPort.rules[2]!.why, /only TCP\/443 \(ask with --port\)/);
  assert.equal(explainFirewall(snapshot, 'apps/app-a', '203.0.113.5', parsePortQuery('tcp/443'), []).verdict, 'Allow');
  assert.equal(explainFirewall(snapshot, 'apps/app-a', '203.0.113.5', parsePortQuery('udp/443'), []).verdict, 'Deny');
});

test('explain firewall: by name, the rules by name that match it decide, and its learned addresses are listed', () => {
  const e = explainFirewall(snapshot, 'apps/app-a', 'GitHub.com.', undefined, learned);
  assert.equal(e.verdict, 'unknown', 'a CIDR rule before it depends on the address');
  assert.deepEqual(e.decidedBy, { firewall: 'apps/app-a', kind: 'EgressFirewall', rule: 1 });
  assert.deepEqual(e.rules[1]!.learned, learned);
  assert.equal(explainFirewall(snapshot, 'apps/app-b', 'github.com').verdict, 'Deny');
});

test('explain firewall: cluster destinations and unselected pods are not judged', () => {
  assert.equal(explainFirewall(snapshot, 'apps/app-a', '10.96.0.10').verdict, 'NotJudged');
  assert.equal(explainFirewall(snapshot, 'other/free', '198.18.64.1').verdict, 'NotJudged');
});

test('explain firewall: bad input gets coded errors with a message for people', () => {
  assert.throws(() => parseDestination('not a name!'), { code: 'EGW_ERR_INPUT', message: /neither an IP address nor a DNS name/ });
  assert.throws(() => parseDestination('a..b'), { code: 'EGW_ERR_INPUT' });
  assert.deepEqual(parseDestination('2001:db8::1'), { ip: '2001:db8::1', family: 6 });
  for (const bad of ['443', 'tcp/0', 'tcp/65536', 'icmp/1', 'tcp/']) assert.throws(() => parsePortQuery(bad), { code: 'EGW_ERR_INPUT' }, bad);
  assert.throws(() => explainFirewall(snapshot, 'apps/ghost', '198.18.64.1'), { code: 'EGW_ERR_PLAN' });
});
