/**
 * The kernel dataplane tests' harness: a bare lab network (no API server, no agents), plans
 * computed with the real planner from the lab's topology, applied with `sluice apply` per node.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Lab } from '../labkit/lab.js';
import type { LabInfo } from '../labkit/info.js';
import { needsRoot, tempLabBase } from '../labkit/test-support.js';
import type { ApplyReport } from '../../lib/dataplane/dataplane-types.js';
import type { NodePlan } from '../../lib/planner/node-plan.js';
import { plan } from '../../lib/planner/plan.js';
import type { Snapshot } from '../../lib/planner/snapshot.js';
import { applyPlan, SLUICE_MAIN } from './sluice-cli.js';

const TOOLS = ['nft', 'ip', 'tcpdump', 'nc', 'curl', 'ping'];

function missingTool(): string | undefined {
  return TOOLS.find((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
}

/** node:test `skip` value: root, the tools the probes use, and a built agent. */
export const dataplaneSkip: string | false = (() => {
  if (needsRoot) return needsRoot;
  const tool = missingTool();
  if (tool) return `skipped: ${tool} is not installed (bash .ci/run installs the test tools)`;
  if (!existsSync(SLUICE_MAIN)) return `skipped: ${SLUICE_MAIN} is missing (build first: npx tsc -p tsconfig.json)`;
  return false;
})();

/** A per-run lab name, so parallel runs and files never collide. */
export function labName(tag: string): string {
  return `dp-${process.pid}-${tag}`;
}

export async function upLab(tag: string, opts: { ipv6: boolean; workers?: number; gateways?: number }): Promise<Lab> {
  return Lab.up(labName(tag), {
    workers: opts.workers ?? 1,
    gateways: opts.gateways ?? 2,
    ipv6: opts.ipv6,
    plugins: [],
    baseDir: await tempLabBase(),
  });
}

export function planAll(info: LabInfo, snapshot: Snapshot): NodePlan[] {
  return info.nodes.map((n) => plan(snapshot, n.name));
}

/** The node whose plan holds EIPs; throws unless exactly one does. */
export function carrierOf(plans: readonly NodePlan[]): string {
  const holders = plans.filter((p) => p.eips.length > 0).map((p) => p.node);
  if (holders.length !== 1) throw new Error(`expected one node holding EIPs, got [${holders.join(', ')}]`);
  return holders[0]!;
}

/** The EIPs the carrier holds, per family (the tests' policies all share one pair). */
export function eipsOf(plans: readonly NodePlan[]): { 4: string; 6: string } {
  const eips = plans.find((p) => p.node === carrierOf(plans))!.eips;
  const of = (family: 4 | 6) => eips.find((e) => e.family === family)?.ip ?? '';
  return { 4: of(4), 6: of(6) };
}

const rank = (p: NodePlan) => (p.roles.gateway ? 0 : p.roles.worker ? 1 : 2);

/**
 * Applies every node's plan: gateways first, then workers, then the rest, so a moved EIP is
 * already held by its new gateway when workers switch over, and released last (make-before-break).
 * `concurrent` applies all nodes at once: only for a first apply, where no traffic is in flight.
 */
export async function applySnapshot(lab: Lab, snapshot: Snapshot, opts: { concurrent?: boolean } = {}): Promise<{ plans: NodePlan[]; reports: Map<string, ApplyReport> }> {
  const plans = planAll(await lab.info(), snapshot);
  const reports = new Map<string, ApplyReport>();
  if (opts.concurrent) {
    const done = await Promise.all(plans.map(async (p) => [p.node, await applyPlan(lab, p)] as const));
    return { plans, reports: new Map(done) };
  }
  for (const p of [...plans].sort((a, b) => rank(a) - rank(b))) reports.set(p.node, await applyPlan(lab, p));
  return { plans, reports };
}

export function nodeIp(info: LabInfo, node: string, family: 4 | 6 = 4): string {
  const ip = info.nodes.find((n) => n.name === node)?.ips.find((a) => a.includes(':') === (family === 6));
  if (!ip) throw new Error(`node ${node} has no IPv${family} address`);
  return ip;
}

export function podIp(info: LabInfo, ref: string, family: 4 | 6 = 4): string {
  const ip = info.pods.find((p) => `${p.namespace}/${p.name}` === ref)?.ips.find((a) => a.includes(':') === (family === 6));
  if (!ip) throw new Error(`pod ${ref} has no IPv${family} address`);
  return ip;
}
