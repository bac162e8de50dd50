import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { plan } from './plan.js';
import { renderNftReplace } from './nft-render.js';
import { baseCluster, clusterPolicy, namespace, pod, policy, snapshotOf } from './testing/cluster.js';

const isRoot = process.getuid?.() === 0;
const hasNft = spawnSync('nft', ['--version']).status === 0;
const skip = !isRoot ? 'needs root (nft -c asks the kernel)' : !hasNft ? 'nft is not installed (apt-get install nftables)' : false;

/** Loads a ruleset in check mode inside a throwaway network namespace: the kernel's parser decides. */
function nftCheck(text: string): void {
  execFileSync('unshare', ['--net', 'nft', '-c', '-f', '-'], { input: text, stdio: ['pipe', 'pipe', 'pipe'] });
}

test('every rendered ruleset loads in the kernel (nft -c)', { skip }, () => {
  const docs = [
    ...baseCluster({ ipv6: true, pool: { ipv4: ['198.18.0.100-198.18.0.120'], ipv6: ['fd00:198:18::100/120'] } }),
    namespace('prod', { env: 'prod' }),
    pod('default', 'visitor', 'worker-1', ['10.244.1.5', 'fd00:10:244:1::5'], { app: 'visitor' }),
    pod('default', 'gw-pod', 'gateway-1', ['10.244.2.5'], { app: 'visitor' }),
    pod('prod', 'p', 'worker-1', ['10.244.1.9'], { app: 'x' }),
    policy('default', 'test', { egressGatewayName: 'default', appliedTo: { podSelector: { matchLabels: { app: 'visitor' } } }, destSubnet: ['198.18.1.0/24', '198.18.2.1-198.18.2.9', 'fd00:ee::/64'], excludeDestSubnet: ['198.18.1.128/25'] }),
    policy('default', 'subnet', { egressGatewayName: 'default', egressIP: { allocatorPolicy: 'rr' }, appliedTo: { podSubnet: ['10.244.1.0/24', 'fd00:10:244:1::/64'] } }),
    policy('default', 'node-ip', { egressGatewayName: 'default', egressIP: { useNodeIP: true }, appliedTo: { podSelector: { matchLabels: { app: 'visitor' } } } }),
    clusterPolicy('prod', { egressGatewayName: 'default', priority: 5, appliedTo: { podSelector: {}, namespaceSelector: { matchLabels: { env: 'prod' } } } }),
  ];
  const snapshot = snapshotOf(docs);
  for (const n of ['worker-1', 'gateway-1', 'gateway-2']) {
    const p = plan(snapshot, n);
    assert.ok(p.nft.chains.some((c) => c.rules.length > 0), `${n} has rules`);
    assert.doesNotThrow(() => nftCheck(renderNftReplace(p.nft)), `${n} ruleset loads`);
  }
});

test('nft -c really rejects a broken ruleset (the check above can fail)', { skip }, () => {
  assert.throws(() => nftCheck('table inet sluice { chain x { type filter hook prerouting priority mangle; ip daddr @missing return; } }'));
});
