import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { plan } from './plan.js';
import { replaceText } from './nft/render.js';
import { everyRuleCluster, snapshotOf } from './testing/cluster.js';

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
    assert.ok(p.nft.chains.some((c) => c.rules.length > 0), `${n} has rules`);
    assert.doesNotThrow(() => nftCheck(replaceText(p.nft)), `${n} ruleset loads`);
  }
});

test('nft -c really rejects a broken ruleset (the check above can fail)', { skip }, () => {
  assert.throws(() => nftCheck('table inet sluice { chain x { type filter hook prerouting priority mangle; ip daddr @missing return; } }'));
});
