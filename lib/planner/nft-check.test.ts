import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { plan } from './plan.js';
import { replaceText } from './nft/render.js';
import { everyRuleCluster, policy, snapshotOf } from './testing/cluster.js';

const isRoot = process.getuid?.() === 0;
const hasNft = spawnSync('nft', ['--version']).status === 0;
const skip = !isRoot ? 'needs root (nft -c asks the kernel)' : !hasNft ? 'nft is not installed (apt-get install nftables)' : false;

/** Loads a ruleset in check mode inside a throwaway network namespace: the kernel's parser decides. */
function nftCheck(text: string): void {
  execFileSync('unshare', ['--net', 'nft', '-c', '-f', '-'], { input: text, stdio: ['pipe', 'pipe', 'pipe'] });
}

test('every rendered ruleset loads in the kernel (nft -c)', { skip }, () => {
  const snapshot = snapshotOf(everyRuleCluster());
  for (const n of ['worker-1', 'gateway-1', 'gateway-2']) {
    const p = plan(snapshot, n);
    assert.ok(
      p.nft.chains.some((c) => c.rules.length > 0),
      `${n} has rules`,
    );
    assert.doesNotThrow(() => nftCheck(replaceText(p.nft)), `${n} ruleset loads`);
  }
});

test('a gateway with stop rules for policies carried elsewhere loads in the kernel (nft -c)', { skip }, () => {
  const docs = [
    ...everyRuleCluster().map((d) =>
      d['kind'] === 'EgressPolicy' && (d['metadata'] as { name: string }).name === 'test' ? { ...d, status: { eip: { ipv4: '198.18.0.100' }, node: 'gateway-1' } } : d,
    ),
    policy(
      'default',
      'low',
      { egressGatewayName: 'default', egressIP: { allocatorPolicy: 'rr' }, priority: -5, appliedTo: { podSelector: {} } },
      { status: { eip: { ipv4: '198.18.0.101' }, node: 'gateway-2' } },
    ),
  ];
  const p = plan(snapshotOf(docs), 'gateway-2');
  const text = replaceText(p.nft);
  assert.match(text, /_abv4 accept/);
  assert.match(text, /_oth4 ip daddr @p_\w+_dst4/);
  assert.doesNotThrow(() => nftCheck(text));
});

test('nft -c really rejects a broken ruleset (the check above can fail)', { skip }, () => {
  assert.throws(() => nftCheck('table inet sluice { chain x { type filter hook prerouting priority mangle; ip daddr @missing return; } }'));
});
