import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plan } from '../../lib/planner/plan.js';
import { snapshotFromObjects } from '../../lib/planner/from-objects.js';
import { parseSources } from '../../lib/input/parse-sources.js';
import { loadDocuments } from '../../lib/input/load-documents.js';
import { DEFAULT_CONFIG } from '../../lib/planner/config.js';
import { identifyRuleCounters } from './rule-counters.js';
import { parseDocument } from '../../lib/api/parse-document.js';
import { API_VERSION } from '../../lib/api/group.js';

const SEED = 'lib/planner/testdata/seed-002.yaml';

test('every counted rule of a real plan gets its identity from the plan, none from splitting its comment', async () => {
  const { objects } = parseSources(await loadDocuments(SEED));
  const firewall = parseDocument({
    apiVersion: API_VERSION,
    kind: 'EgressFirewall',
    metadata: { name: 'fw', namespace: 'default' },
    spec: {
      defaultAction: 'Deny',
      egress: [
        { type: 'Allow', to: { cidrSelector: '203.0.113.0/24' }, ports: [{ protocol: 'TCP', port: 443 }] },
        { type: 'Deny', to: { cidrSelector: '::/0' } },
      ],
    },
  }).object!;
  const snapshot = snapshotFromObjects([...objects, firewall], DEFAULT_CONFIG);
  for (const node of snapshot.nodes.map((n) => n.name)) {
    const p = plan(snapshot, node);
    // The comments of the rules that count, exactly as they are loaded into the kernel.
    const counted = p.nft.chains.flatMap((c) => c.rules).filter((r) => r.statements.some((s) => s.kind === 'counter'));
    const comments = counted.flatMap((r) => (r.comment === undefined ? [] : [r.comment]));
    assert.equal(comments.length, counted.length, `${node}: every counted rule has a comment`);
    const counters = new Map(comments.map((c, i) => [c, { packets: i + 1, bytes: 100 * (i + 1) }]));
    const ids = identifyRuleCounters(counters, p);
    assert.deepEqual(
      new Set(ids.filter((i) => i.kind === 'firewall').map((i) => (i.kind === 'firewall' ? i.rule : ''))),
      new Set(['#0', '#1', 'default']),
      `${node}: each firewall rule is counted`,
    );
    assert.equal(ids.length, counters.size, `${node}: every counted rule is known (${comments.join(' | ')})`);
    for (const id of ids) {
      if (id.kind === 'policy')
        assert.ok(
          p.policies.some((x) => x.key === id.policy),
          `${node}: ${id.policy}`,
        );
      else if (id.kind === 'firewall') assert.ok(id.firewall === 'default/fw' && ['#0', '#1', 'default'].includes(id.rule), `${node}: ${id.firewall} ${id.rule}`);
      else assert.match(id.guard, /^(vxlan-unknown-host|anti-relay|eip-input|off-tunnel)$/);
    }
  }
});

test('a guard comment with spaces is one guard, and unknown comments are left out', () => {
  const ids = identifyRuleCounters(
    new Map([
      ['vxlan from unknown host', { packets: 1, bytes: 2 }],
      ['worker gone/policy', { packets: 3, bytes: 4 }],
    ]),
    undefined,
  );
  assert.deepEqual(ids, [{ kind: 'guard', guard: 'vxlan-unknown-host', packets: 1, bytes: 2 }]);
});
