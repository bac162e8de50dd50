import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAppliedReport } from '../api/applied-report.js';
import { baseCluster, node, policy, snapshotOf } from '../planner/testing/cluster.js';
import { resolveCluster } from '../planner/resolve.js';
import type { ClaimFacts, SelfClaim } from './claim-order.js';
import type { ReportLookup } from './policy-programmed.js';
import { judgeTakeovers, resolveFollowingTakeovers } from './takeovers.js';

// Three gateway nodes; the default EIP 198.18.0.110 sits on gateway-3 (its status says so). With
// gateway-3 not eligible the owner function picks gateway-1: the successor. gateway-2 is not.
const HOLDER = 'gateway-3';
const SUCCESSOR = 'gateway-1';
const OTHER = 'gateway-2';
const podSubnet = { podSubnet: ['10.244.0.0/16'] };
/** As the API server stores it: generation 1 (the builder leaves it out). */
const stored = (doc: Record<string, unknown>) => ({ ...doc, metadata: { ...(doc.metadata as object), generation: 1 } });
const onDefault = (name: string, created: string, extra: Record<string, unknown> = {}) =>
  stored(policy('default', name, { egressGatewayName: 'default', appliedTo: podSubnet, ...extra }, { created, status: { eip: { ipv4: '198.18.0.110' }, node: HOLDER } }));

function cluster(extra: Record<string, unknown>[] = []) {
  return snapshotOf([
    ...baseCluster(),
    node('gateway-3', 4, { labels: { egress: 'true' } }),
    onDefault('web', '2026-01-01T00:00:01Z'),
    onDefault('api', '2026-01-01T00:00:02Z'),
    stored(
      policy(
        'default',
        'own',
        { egressGatewayName: 'default', egressIP: { ipv4: '198.18.0.115' }, appliedTo: podSubnet },
        { created: '2026-01-01T00:00:03Z', status: { eip: { ipv4: '198.18.0.115' }, node: OTHER } },
      ),
    ),
    ...extra.map(stored),
  ]);
}

type Entry = { name: string; node: string; generation?: number };

/** Reports as the nodes' tunnels would carry them (`garbage`: anything at all). */
function lookup(reports: Record<string, { result?: string; entries?: Entry[]; garbage?: unknown }>): ReportLookup {
  return (n) => {
    const r = reports[n];
    if (!r) return {};
    const raw = r.garbage ?? {
      result: r.result ?? 'Applied',
      policies: (r.entries ?? []).map((e) => ({ namespace: 'default', name: e.name, generation: e.generation ?? 1, node: e.node })),
    };
    const parsed = parseAppliedReport(raw);
    return parsed.report ? { report: parsed.report } : { unusable: parsed.problems[0] ?? 'invalid' };
  };
}

/** Claims and report ages as ClaimOrder would have seen them; status.node of every policy taken at generation 10. */
function facts(claims: SelfClaim[], reportAt: Record<string, number> = {}, holderAt = 10): ClaimFacts {
  return { selfClaims: () => claims, reportChangedAt: (n) => reportAt[n], holderSince: () => holderAt };
}

const claim = (node: string, since = 20, policyKey = 'default/web'): SelfClaim => ({ node, policyKey, since });

test('the assignment from status keeps the unit on its holder; the successor is gateway-1', () => {
  const r = resolveCluster(cluster());
  assert.equal(r.assignment.policies.get('default/web')?.node, HOLDER);
  assert.deepEqual(r.eligible.get('default'), ['gateway-1', 'gateway-2', 'gateway-3']);
});

test('a fresh claim of the successor moves every policy of the unit, and only them', () => {
  const snapshot = cluster();
  const reports = lookup({
    [SUCCESSOR]: { entries: [{ name: 'web', node: SUCCESSOR }] },
    [HOLDER]: {
      entries: [
        { name: 'web', node: HOLDER },
        { name: 'api', node: HOLDER },
      ],
    },
  });
  const judged = judgeTakeovers(snapshot, resolveCluster(snapshot), facts([claim(SUCCESSOR)], { [HOLDER]: 5 }), reports);
  assert.deepEqual(judged.refused, []);
  assert.deepEqual(
    [...judged.accepted.values()],
    [
      { policyKey: 'default/web', from: HOLDER, to: SUCCESSOR },
      { policyKey: 'default/api', from: HOLDER, to: SUCCESSOR },
    ],
  );

  const followed = resolveFollowingTakeovers(snapshot, facts([claim(SUCCESSOR)], { [HOLDER]: 5 }), reports);
  const a = followed.resolution.assignment.policies;
  assert.deepEqual([a.get('default/web')?.node, a.get('default/api')?.node, a.get('default/own')?.node], [SUCCESSOR, SUCCESSOR, OTHER]);
  assert.deepEqual([a.get('default/web')?.eipV4, a.get('default/api')?.eipV4], ['198.18.0.110', '198.18.0.110'], 'the EIP does not change');
  assert.deepEqual([...followed.takeovers.keys()], ['default/web', 'default/api']);
});

test('hostile and stale claims change nothing', async (t) => {
  const snapshot = cluster();
  const resolution = resolveCluster(snapshot);
  const holderReport = { entries: [{ name: 'web', node: HOLDER }] };
  const cases: { name: string; claims: SelfClaim[]; reports: Parameters<typeof lookup>[0]; reportAt?: Record<string, number>; refused?: RegExp }[] = [
    {
      name: 'a gateway node that is not the successor',
      claims: [claim(OTHER)],
      reports: { [OTHER]: { entries: [{ name: 'web', node: OTHER }] } },
      refused: /^not the successor of "gateway-3" \(that is "gateway-1"\)$/,
    },
    {
      name: 'a node the gateway does not select',
      claims: [claim('worker-1')],
      reports: { 'worker-1': { entries: [{ name: 'web', node: 'worker-1' }] } },
      refused: /^not eligible for EgressGateway "default"/,
    },
    { name: 'a node that is not in the cluster', claims: [claim('ghost')], reports: { ghost: { entries: [{ name: 'web', node: 'ghost' }] } }, refused: /^not eligible/ },
    { name: 'a claim older than the status it contests', claims: [claim(SUCCESSOR, 9)], reports: { [SUCCESSOR]: { entries: [{ name: 'web', node: SUCCESSOR }] } } },
    {
      name: 'a claim as old as the status (seen at once: order unknown)',
      claims: [claim(SUCCESSOR, 10)],
      reports: { [SUCCESSOR]: { entries: [{ name: 'web', node: SUCCESSOR }] } },
    },
    { name: 'a claim for an older generation', claims: [claim(SUCCESSOR)], reports: { [SUCCESSOR]: { entries: [{ name: 'web', node: SUCCESSOR, generation: 7 }] } } },
    { name: 'a claim in a report whose apply failed', claims: [claim(SUCCESSOR)], reports: { [SUCCESSOR]: { result: 'Failed', entries: [{ name: 'web', node: SUCCESSOR }] } } },
    { name: 'a claim the report no longer makes', claims: [claim(SUCCESSOR)], reports: { [SUCCESSOR]: { entries: [{ name: 'web', node: HOLDER }] } } },
    { name: 'a garbage report', claims: [claim(SUCCESSOR)], reports: { [SUCCESSOR]: { garbage: { result: 'Applied', policies: 'web' } } } },
    { name: 'a report that does not validate at all', claims: [claim(SUCCESSOR)], reports: { [SUCCESSOR]: { garbage: ['<script>'] } } },
    {
      name: 'a claim for a policy that does not exist',
      claims: [claim(SUCCESSOR, 20, 'default/nope')],
      reports: { [SUCCESSOR]: { entries: [{ name: 'nope', node: SUCCESSOR }] } },
    },
    {
      name: 'the holder said after the claim that it still carries it',
      claims: [claim(SUCCESSOR)],
      reports: { [SUCCESSOR]: { entries: [{ name: 'web', node: SUCCESSOR }] }, [HOLDER]: holderReport },
      reportAt: { [HOLDER]: 21 },
    },
    { name: 'the holder of the policy claims it', claims: [claim(HOLDER)], reports: { [HOLDER]: holderReport } },
  ];
  for (const c of cases) {
    await t.test(c.name, () => {
      const judged = judgeTakeovers(snapshot, resolution, facts(c.claims, c.reportAt), lookup(c.reports));
      assert.equal(judged.accepted.size, 0);
      if (c.refused) {
        assert.equal(judged.refused.length, 1);
        assert.match(judged.refused[0]!.why, c.refused);
      } else assert.deepEqual(judged.refused, []);
    });
  }
});

test("the holder's report from before the claim does not stop it (a dead node writes no more)", () => {
  const snapshot = cluster();
  const reports = lookup({ [SUCCESSOR]: { entries: [{ name: 'web', node: SUCCESSOR }] }, [HOLDER]: { entries: [{ name: 'web', node: HOLDER }] } });
  const judged = judgeTakeovers(snapshot, resolveCluster(snapshot), facts([claim(SUCCESSOR, 20)], { [HOLDER]: 20 }), reports);
  assert.equal(judged.accepted.get('default/web')?.to, SUCCESSOR, 'changes seen together: the claim stands');
});

test("once status names the successor, the old holder's leftover report claims nothing back", () => {
  const moved = snapshotOf([
    ...baseCluster(),
    node('gateway-3', 4, { labels: { egress: 'true' } }),
    stored(policy('default', 'web', { egressGatewayName: 'default', appliedTo: podSubnet }, { status: { eip: { ipv4: '198.18.0.110' }, node: SUCCESSOR } })),
  ]);
  const r = resolveCluster(moved);
  assert.equal(r.assignment.policies.get('default/web')?.node, SUCCESSOR, 'sticky: the healed holder takes nothing back');
  const reports = lookup({ [HOLDER]: { entries: [{ name: 'web', node: HOLDER }] }, [SUCCESSOR]: { entries: [{ name: 'web', node: SUCCESSOR }] } });
  // its report changed (seen at 5) before status moved (seen at 10)
  const judged = judgeTakeovers(moved, r, facts([claim(HOLDER, 5)], { [HOLDER]: 5 }), reports);
  assert.equal(judged.accepted.size, 0);
  assert.deepEqual(judged.refused, []);
});

test('a useNodeIP policy is a unit of its own; its address follows the new node', () => {
  const snapshot = cluster([
    policy(
      'default',
      'nodeip',
      { egressGatewayName: 'default', egressIP: { useNodeIP: true }, appliedTo: podSubnet },
      { created: '2026-01-01T00:00:04Z', status: { node: HOLDER, eip: { ipv4: '198.18.0.14' } } },
    ),
  ]);
  const base = resolveCluster(snapshot);
  assert.equal(base.assignment.policies.get('default/nodeip')?.node, HOLDER);
  const probe = judgeTakeovers(snapshot, base, facts([claim(SUCCESSOR, 20, 'default/nodeip'), claim(OTHER, 20, 'default/nodeip')]), lookup({}));
  assert.equal(probe.accepted.size, 0, 'no report: no claim');
  // whoever the successor of this unit is, only it is followed
  const successor = ['gateway-1', 'gateway-2'].find((n) => {
    const reports = lookup({ [n]: { entries: [{ name: 'nodeip', node: n }] } });
    return judgeTakeovers(snapshot, base, facts([claim(n, 20, 'default/nodeip')]), reports).accepted.size > 0;
  });
  assert.ok(successor, 'one of the two others is the successor');
  const reports = lookup({ [successor]: { entries: [{ name: 'nodeip', node: successor }] } });
  const followed = resolveFollowingTakeovers(snapshot, facts([claim(successor, 20, 'default/nodeip')]), reports);
  assert.deepEqual([...followed.takeovers.keys()], ['default/nodeip']);
  const a = followed.resolution.assignment.policies.get('default/nodeip');
  assert.equal(a?.node, successor);
  assert.equal(a?.snatV4, successor === 'gateway-1' ? '198.18.0.12' : '198.18.0.13');
  assert.equal(followed.resolution.assignment.policies.get('default/web')?.node, HOLDER, 'the EIP unit stays');
});
