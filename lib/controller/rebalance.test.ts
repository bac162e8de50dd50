/** Rebalance on request: one unit at a time to its preferred node, only after the last one was applied there; then acknowledged. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Snapshot } from '../planner/snapshot.js';
import { resolveCluster } from '../planner/resolve.js';
import { REBALANCE_ANNOTATION } from '../api/group.js';
import { gateway, namespace, node, policy, snapshotOf } from '../planner/testing/cluster.js';
import { planRebalance, withRebalanceMoves, type RebalanceAck } from './rebalance.js';
import type { ReportLookup } from './policy-programmed.js';
import type { AppliedReport } from '../api/applied-report.js';

type AppliedPolicy = AppliedReport['policies'] extends ReadonlyMap<string, infer P> ? P : never;
import { readRebalanceStatus } from './rebalance-status.js';

const GATEWAYS = ['gateway-1', 'gateway-2', 'gateway-3'];
const NAMES = Array.from({ length: 8 }, (_, i) => `p${i}`);

/** Eight round-robin policies all on gateway-1 (it was the only node when they came), and a useNodeIP one. */
function cluster(request?: unknown): Snapshot {
  const gw = gateway('main', { nodeSelector: { selector: { matchLabels: { egress: 'true' } } }, ippools: { ipv4: ['198.18.100.1-198.18.100.100'] } }) as {
    metadata: Record<string, unknown>;
  };
  if (request !== undefined) gw.metadata = { ...gw.metadata, annotations: { [REBALANCE_ANNOTATION]: request } };
  return snapshotOf([
    ...GATEWAYS.map((name, i) => node(name, i + 2, { labels: { egress: 'true' } })),
    namespace('default'),
    gw,
    ...NAMES.map((name, i) =>
      policy(
        'default',
        name,
        { egressGatewayName: 'main', egressIP: { allocatorPolicy: 'rr' }, appliedTo: { podSubnet: ['10.244.0.0/16'] } },
        { status: { node: 'gateway-1', eip: { ipv4: `198.18.100.${i + 1}` } } },
      ),
    ),
    policy('default', 'own-ip', { egressGatewayName: 'main', egressIP: { useNodeIP: true }, appliedTo: { podSubnet: ['10.244.0.0/16'] } }, { status: { node: 'gateway-1' } }),
  ]);
}

/** Every node reports it applied what `applied` says it carries. */
function reportsOf(applied: Map<string, string>): ReportLookup {
  return (nodeName) => ({
    report: {
      result: 'Applied',
      truncated: false,
      policies: new Map<string, AppliedPolicy>([...applied].filter(([, n]) => n === nodeName).map(([key, n]) => [key, { node: n, generation: 0 } as AppliedPolicy])),
    },
  });
}

/** The snapshot with status as the controller writes it from a resolution. */
function statusFrom(s: Snapshot): Snapshot {
  const assignments = resolveCluster(s).assignment.policies;
  return { ...s, policies: s.policies.map((p) => ({ ...p, status: { ...p.status, node: assignments.get(p.key)!.node! } })) };
}

const nodes = (s: Snapshot) => new Map(s.policies.map((p) => [p.key, p.status.node!]));

test('sticky without a request: nothing moves', () => {
  const s = cluster();
  assert.ok([...resolveCluster(s).assignment.policies.values()].every((a) => a.node === 'gateway-1'));
  assert.equal(planRebalance(s, resolveCluster(s), () => undefined, reportsOf(nodes(s))).moves.size, 0);
});

test('a request moves one unit at a time, each after the previous one is applied on its new node, until every unit is on its preferred node', () => {
  let s = cluster('r1');
  let moves = 0;
  const applied = nodes(s);
  for (let pass = 0; pass < 40; pass++) {
    const plan = planRebalance(s, resolveCluster(s), () => undefined, reportsOf(applied));
    const progress = plan.progress.get('main')!;
    if (progress.state === 'Done') break;
    assert.equal(progress.state, 'InProgress');
    const distinct = new Set([...plan.moves.values()]);
    assert.ok(distinct.size <= 1, 'at most one unit per pass');
    if (distinct.size === 0) {
      // the moved unit is not applied yet: nothing else moves until it is
      for (const [key, n] of nodes(s)) applied.set(key, n);
      continue;
    }
    const move = [...distinct][0]!;
    assert.equal(move.from, 'gateway-1');
    assert.notEqual(move.to, 'gateway-1');
    assert.ok(!move.policyKeys.includes('default/own-ip'), 'useNodeIP never moves');
    moves++;
    s = statusFrom(withRebalanceMoves(s, plan.moves));
    const again = planRebalance(s, resolveCluster(s), () => undefined, reportsOf(applied));
    assert.equal(again.moves.size, 0, 'the next pass waits for the new node to apply the unit');
  }
  const final = planRebalance(s, resolveCluster(s), () => undefined, reportsOf(nodes(s))).progress.get('main')!;
  assert.deepEqual({ state: final.state, remaining: final.remaining }, { state: 'Done', remaining: 0 });
  const spread = new Set(NAMES.map((n) => nodes(s).get(`default/${n}`)));
  assert.ok(spread.size >= 2, `spread over ${[...spread].join(', ')}`);
  assert.equal(moves, NAMES.filter((n) => nodes(s).get(`default/${n}`) !== 'gateway-1').length, 'only units whose preferred node is another moved');
  assert.equal(nodes(s).get('default/own-ip'), 'gateway-1');
});

test('an acknowledged request moves nothing more; a new token starts again', () => {
  const s = cluster('r1');
  const done: RebalanceAck = { request: 'r1', state: 'Done' };
  const plan = planRebalance(s, resolveCluster(s), () => done, reportsOf(nodes(s)));
  assert.equal(plan.moves.size, 0);
  assert.equal(plan.progress.get('main')!.state, 'Done');
  assert.ok(plan.progress.get('main')!.remaining > 0, 'says how many units would move on a new request');
  assert.equal(planRebalance(cluster('r2'), resolveCluster(cluster('r2')), () => done, reportsOf(nodes(s))).moves.size > 0, true);
});

test('an invalid request is refused, never a crash, and moves nothing', () => {
  for (const bad of ['', ' spaces ', 'x'.repeat(64), '-leading', 'a/b', 7, ['r1'], { r: 1 }, null]) {
    const s = cluster(bad);
    const plan = planRebalance(s, resolveCluster(s), () => undefined, reportsOf(nodes(s)));
    assert.equal(plan.moves.size, 0, JSON.stringify(bad));
    assert.equal(plan.progress.get('main')!.state, 'Invalid', JSON.stringify(bad));
    assert.match(plan.progress.get('main')!.message, /is not a request token/);
  }
});

test('status.rebalance is read back only when the controller could have written it', () => {
  assert.deepEqual(readRebalanceStatus({ status: { rebalance: { request: '2026-12-07T09:00:00Z', state: 'Done', remaining: 0 } } }), {
    request: '2026-12-07T09:00:00Z',
    state: 'Done',
  });
  for (const junk of [{ request: 'r1', state: 'Finished' }, { request: 'a b', state: 'Done' }, { request: 1, state: 'Done' }, 'Done', null]) {
    assert.equal(readRebalanceStatus({ status: { rebalance: junk } }), undefined, JSON.stringify(junk));
  }
  assert.equal(readRebalanceStatus(undefined), undefined);
});
