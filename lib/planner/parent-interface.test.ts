import assert from 'node:assert/strict';
import { test } from 'node:test';
import { API_VERSION } from '../api/group.js';
import { resolveConfig } from './config.js';
import { plan } from './plan.js';
import { replaceJson, replaceText, ruleText } from './nft/render.js';
import { everyRuleCluster, snapshotOf } from './testing/cluster.js';
import type { Snapshot } from './snapshot.js';

const INJECTION = 'eth0" } accept; add table ip evil { chain c { type filter hook input priority 0; policy drop; } }; #';
const TOO_LONG = 'parent-is-16char';
const config = resolveConfig({ defaultInterface: 'ens5' });

/** A node's own EgressTunnel with the parent name any agent can write there. */
const tunnelStatus = (node: string, parent: string) => ({
  apiVersion: API_VERSION,
  kind: 'EgressTunnel',
  metadata: { name: node },
  status: { tunnel: { parent: { name: parent } }, phase: 'Ready' },
});

/** The same status put straight into the snapshot, as if a parser had let it through. */
const injected = (snapshot: Snapshot, node: string, parent: string): Snapshot => ({
  ...snapshot,
  tunnels: [...snapshot.tunnels.filter((t) => t.node !== node), { node, parentName: parent }],
});

for (const hostile of [INJECTION, TOO_LONG]) {
  test(`a parent interface name from status that nft cannot take (${hostile.length} characters) falls back to the configured one, with a notice; every policy stays`, () => {
    assert.ok(!/ens5/.test(hostile));
    for (const node of ['worker-1', 'gateway-1', 'gateway-2']) {
      const clean = plan(snapshotOf(everyRuleCluster(), config), node);
      const snapshots = [snapshotOf([...everyRuleCluster(), tunnelStatus(node, hostile)], config), injected(snapshotOf(everyRuleCluster(), config), node, hostile)];
      for (const snapshot of snapshots) {
        const p = plan(snapshot, node);
        const notices = (p.notices ?? []).filter((n) => n.includes('parent.name'));
        assert.equal(notices.length, 1, node);
        // the parser leaves the name out (first snapshot), the planner refuses it when a snapshot has it anyway (second)
        assert.match(
          notices[0]!,
          new RegExp(`^EgressTunnel "${node}": status\\.tunnel\\.parent\\.name(: .* is not an interface name .*; ignored| ignored: interface name .*); using "ens5"$`),
        );
        // Nothing of the name reaches the ruleset, the tunnel or the EIPs; the rest is the plan without it.
        const kernelFacing = JSON.stringify([replaceText(p.nft), replaceJson(p.nft), p.vxlan, p.eips]);
        for (const fragment of ['evil', 'policy drop', TOO_LONG]) assert.ok(!kernelFacing.includes(fragment), `${node}: ${fragment}`);
        assert.deepEqual(p.nft, clean.nft, node);
        assert.deepEqual([p.vxlan, p.eips, p.policies], [clean.vxlan, clean.eips, clean.policies], node);
        if (node === 'worker-1')
          assert.ok(
            p.nft.chains
              .find((c) => c.name === 'egress_mark')!
              .rules.map(ruleText)
              .some((r) => r.startsWith('iifname != { "egress.vxlan", "ens5" }')),
          );
        if (p.vxlan) assert.equal(p.vxlan.parent, 'ens5');
      }
    }
  });
}

test('a usable parent name from status is used as it is, without a warning', () => {
  const p = plan(snapshotOf([...everyRuleCluster(), tunnelStatus('worker-1', 'enp1s0')], config), 'worker-1');
  assert.equal(p.notices, undefined);
  assert.ok(
    p.nft.chains
      .find((c) => c.name === 'egress_mark')!
      .rules.map(ruleText)
      .some((r) => r.startsWith('iifname != { "egress.vxlan", "enp1s0" }')),
  );
});

test('the configured default interface itself is checked when the config is read', () => {
  assert.throws(() => resolveConfig({ defaultInterface: 'eth0"' }), { code: 'EGW_ERR_CONFIG' });
});
