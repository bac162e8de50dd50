/**
 * The controller's cost of following takeovers: the pass that finds the successors' claims
 * after a gateway node died resolves the cluster twice and places the failed node's units once
 * more, against a quiet pass (no claim: one resolve, as before takeovers were followed).
 * Baseline, measured in the same run on the same input: resolveCluster alone. Every policy's
 * status names the failed node (the worst case: all its units move at once); each successor
 * claims what every agent moves to it. The quiet pass sees the holder's own report before the
 * failure (claims that contest nothing). Medians of --repeat runs.
 *
 *   node dist/bench/plan/takeover.js [--repeat N] [--policies 100,1000]
 *
 * No root, no kernel, no API server: the judgement is pure.
 */
import { pathToFileURL } from 'node:url';
import { parseBenchArgs, type UsageSpec } from '../command-line.js';
import { parseAppliedReport, type AppliedReport } from '../../lib/api/applied-report.js';
import { resolveCluster } from '../../lib/planner/resolve.js';
import type { Snapshot } from '../../lib/planner/snapshot.js';
import type { ClaimFacts, SelfClaim } from '../../lib/controller/claim-order.js';
import type { ReportLookup } from '../../lib/controller/policy-programmed.js';
import { resolveFollowingTakeovers } from '../../lib/controller/takeovers.js';
import { benchSnapshot, GATEWAY_NODES } from './bench-snapshot.js';

const FAILED = GATEWAY_NODES[0]!;

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function timeMs(run: () => unknown, repeat: number): number {
  run();
  const wall: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const t0 = performance.now();
    run();
    wall.push(performance.now() - t0);
  }
  return median(wall);
}

/** The reports the successors publish once they took the failed node's units over, as the API path would place them. */
function claimsAfterFailure(snapshot: Snapshot): { facts: ClaimFacts; reports: ReportLookup } {
  const dead = { ...snapshot, nodes: snapshot.nodes.map((n) => (n.name === FAILED ? { ...n, ready: false } : n)) };
  const moved = resolveCluster(dead).assignment.policies;
  const byNode = new Map<string, { namespace: string; name: string; generation: number; node: string }[]>();
  for (const p of snapshot.policies) {
    const to = moved.get(p.key)?.node;
    if (!to || to === FAILED) continue;
    byNode.set(to, [...(byNode.get(to) ?? []), { namespace: p.namespace, name: p.name, generation: p.generation, node: to }]);
  }
  const reports = new Map<string, AppliedReport>();
  const claims: SelfClaim[] = [];
  for (const [node, policies] of byNode) {
    reports.set(node, parseAppliedReport({ result: 'Applied', policies }).report!);
    for (const p of policies) claims.push({ node, policyKey: `${p.namespace}/${p.name}`, since: 20 });
  }
  return {
    facts: { selfClaims: () => claims, reportChangedAt: (n) => (n === FAILED ? 1 : 20), holderSince: () => 10 },
    reports: (n) => (reports.has(n) ? { report: reports.get(n)! } : {}),
  };
}

/** Before the failure: the holder's own report lists every policy it carries (claims that contest nothing). */
function steadyState(snapshot: Snapshot): { facts: ClaimFacts; reports: ReportLookup } {
  const policies = snapshot.policies.map((p) => ({ namespace: p.namespace, name: p.name, generation: p.generation, node: FAILED }));
  const report = parseAppliedReport({ result: 'Applied', policies }).report!;
  const claims: SelfClaim[] = snapshot.policies.map((p) => ({ node: FAILED, policyKey: p.key, since: 5 }));
  return { facts: { selfClaims: () => claims, reportChangedAt: () => 5, holderSince: () => 10 }, reports: (n) => (n === FAILED ? { report } : {}) };
}

const USAGE: UsageSpec = { command: 'node dist/bench/plan/takeover.js' };

export async function main(argv: readonly string[]): Promise<number> {
  const { values } = parseBenchArgs(USAGE, { repeat: { type: 'string', default: '9' }, policies: { type: 'string', default: '100,1000' } }, argv);
  const repeat = Number(values.repeat);
  process.stdout.write(`a controller pass's resolution, medians of ${repeat} (wall ms); baseline = resolveCluster alone\n\n`);
  const widths = [8, 9, 9, 10, 10, 13, 15];
  const row = (cells: string[]) => `${cells.map((c, i) => c.padStart(widths[i]!)).join('  ')}\n`;
  process.stdout.write(row(['policies', 'followed', 'baseline', 'quiet', 'takeover', 'quiet/base', 'takeover/base']));
  for (const count of values.policies.split(',').map(Number)) {
    const snapshot = benchSnapshot(count, count);
    const { facts, reports } = claimsAfterFailure(snapshot);
    const { facts: quietFacts, reports: quietReports } = steadyState(snapshot);
    const followed = resolveFollowingTakeovers(snapshot, facts, reports).takeovers.size;
    const base = timeMs(() => resolveCluster(snapshot), repeat);
    const quiet = timeMs(() => resolveFollowingTakeovers(snapshot, quietFacts, quietReports), repeat);
    const takeover = timeMs(() => resolveFollowingTakeovers(snapshot, facts, reports), repeat);
    process.stdout.write(row([String(count), String(followed), base.toFixed(1), quiet.toFixed(1), takeover.toFixed(1), (quiet / base).toFixed(2), (takeover / base).toFixed(2)]));
  }
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await main(process.argv.slice(2));
}
