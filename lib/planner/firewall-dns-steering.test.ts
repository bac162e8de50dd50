import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plan } from './plan.js';
import { API_VERSION } from '../api/group.js';
import { DEFAULT_CONFIG } from './config.js';
import { ruleText } from './nft/render.js';
import { baseCluster, pod, snapshotOf } from './testing/cluster.js';
import { DNS_STEER_CHAIN, dnsClientSet, dnsSteerSet } from './firewall-dns-steering.js';

const firewall = (name: string, egress: unknown[]) => ({
  apiVersion: API_VERSION,
  kind: 'EgressFirewall',
  metadata: { name, namespace: 'apps', uid: `uid-${name}`, creationTimestamp: '2026-01-01T00:00:00Z' },
  spec: { appliedTo: { podSelector: { matchLabels: { app: 'a' } } }, defaultAction: 'Deny', egress },
});
const docs = [...baseCluster(), pod('apps', 'a', 'worker-1', ['10.244.1.5'], { app: 'a' }), pod('apps', 'b', 'worker-1', ['10.244.1.6'], { app: 'b' })];
const config = { ...DEFAULT_CONFIG, firewallDnsPort: 5353 };

test("pods with rules by name have their cluster DNS queries steered to the node's forwarder while it keeps its steer set filled", () => {
  const p = plan(snapshotOf([...docs, firewall('by-name', [{ type: 'Allow', to: { dnsName: 'github.com' } }])], config), 'worker-1');
  const chain = p.nft.chains.find((c) => c.name === DNS_STEER_CHAIN)!;
  assert.deepEqual([chain.type, chain.hook, chain.priority], ['nat', 'prerouting', { base: 'dstnat', offset: -5 }], 'before kube-proxy turns the Service address into a DNS pod');
  const node = p.nft.sets.find((s) => s.name === dnsClientSet(4))!;
  assert.deepEqual(node.elements, ['10.244.1.5'], 'only the pods of firewalls with rules by name');
  assert.equal(p.nft.sets.find((s) => s.name === dnsSteerSet(4))!.learned, true);
  const address = /dnat ip to ([0-9.]+):5353/.exec(chain.rules.map(ruleText).join('\n'))?.[1];
  assert.ok(address, 'steered to a node address');
  assert.deepEqual(chain.rules.map(ruleText), [
    `ip saddr @dns_clients4 ip daddr @dns_steer4 udp dport 53 dnat ip to ${address}:5353`,
    `ip saddr @dns_clients4 ip daddr @dns_steer4 tcp dport 53 dnat ip to ${address}:5353`,
  ]);
});

test('no steering without rules by name, without pods of such firewalls here, or with the forwarder off', () => {
  const cidrOnly = plan(snapshotOf([...docs, firewall('cidr', [{ type: 'Allow', to: { cidrSelector: '198.18.0.0/15' } }])], config), 'worker-1');
  assert.ok(!cidrOnly.nft.chains.some((c) => c.name === DNS_STEER_CHAIN));
  const byName = [...docs, firewall('by-name', [{ type: 'Allow', to: { dnsName: 'github.com' } }])];
  assert.ok(!plan(snapshotOf(byName, config), 'gateway-1').nft.chains.some((c) => c.name === DNS_STEER_CHAIN), 'no selected pod on that node');
  assert.ok(!plan(snapshotOf(byName), 'worker-1').nft.chains.some((c) => c.name === DNS_STEER_CHAIN), 'port 0: off');
});
