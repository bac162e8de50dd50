/**
 * The `Programmed` condition of a policy: whether the nodes that must act on it have applied it
 * to their kernels. Those nodes are the gateway node carrying it and every node with selected pods
 * (the endpoint slices the agents plan from). Each node's agent says what it applied in its own
 * EgressTunnel's `status.applied` (lib/api/applied-report.ts): the policies it has a part in, at
 * which generation and for which gateway node, and whether its last apply succeeded. A node's
 * report counts only for that node, and only as far as it validates.
 */
import type { EndpointSlice, Policy } from '../api/model.js';
import { parseAppliedReport, type AppliedReport, type ParsedAppliedReport, type ProgrammedReason } from '../api/applied-report.js';
import type { Assignment } from '../planner/assign.js';
import type { DesiredCondition } from '../kube/conditions.js';
import type { ClusterStore } from '../cluster/store.js';
import { appliedReportOf } from '../cluster/applied-report.js';
import type { Logger } from '../kube/logger.js';

/** What is known of one node's report. */
export interface NodeReport {
  readonly report?: AppliedReport;
  /** Why a report that is there is not used. */
  readonly unusable?: string;
}

export type ReportLookup = (node: string) => NodeReport;

/** Nodes a condition message names before it only counts the rest. */
const NODES_NAMED = 8;
/** Characters of one node's error message in the condition. */
const NODE_MESSAGE_MAX = 240;

const parsed = new WeakMap<object, ParsedAppliedReport>();

/**
 * Each node's report as the store holds it, parsed once per version (a stored object is never
 * changed in place) and logged once when parts of it were left out.
 */
export function reportLookup(store: ClusterStore, logger: Logger): ReportLookup {
  return (node) => {
    const raw = appliedReportOf(store.get('EgressTunnel', node)?.raw);
    if (raw === undefined || raw === null) return {};
    let result = typeof raw === 'object' ? parsed.get(raw) : undefined;
    if (!result) {
      result = parseAppliedReport(raw);
      if (typeof raw === 'object') parsed.set(raw, result);
      if (result.problems.length) logger.warn({ op: 'programmed', node, problems: result.problems }, 'applied report: parts not used');
    }
    return result.report ? { report: result.report } : { unusable: result.problems[0] ?? 'does not validate' };
  };
}

/** The nodes each policy's endpoint slices list: the workers that must route its traffic. */
export function nodesWithSelectedPods(slices: readonly EndpointSlice[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const slice of slices) {
    const nodes = out.get(slice.policyKey) ?? new Set<string>();
    for (const e of slice.endpoints) nodes.add(e.node);
    out.set(slice.policyKey, nodes);
  }
  return out;
}

type Verdict = { readonly state: 'applied' } | { readonly state: 'failed' | 'pending' | 'unknown'; readonly why: string };

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** What one node's report says about one policy at `generation`, carried by `gatewayNode`. */
function nodeVerdict(lookup: NodeReport, key: string, generation: number, gatewayNode: string): Verdict {
  const { report } = lookup;
  if (!report) return { state: 'unknown', why: lookup.unusable ? `its report is not used (${lookup.unusable})` : 'no report from its agent' };
  if (report.result === 'Failed') {
    return { state: 'failed', why: clip(`apply failed with ${report.code ?? 'an unknown error'}${report.message ? `: ${report.message}` : ''}`, NODE_MESSAGE_MAX) };
  }
  const entry = report.policies.get(key);
  if (!entry) return report.truncated ? { state: 'unknown', why: 'its report is cut short and does not list this policy' } : { state: 'pending', why: 'not applied yet' };
  if (entry.generation !== generation) return { state: 'pending', why: `applied generation ${entry.generation}, not ${generation}` };
  if (entry.node !== gatewayNode) return { state: 'pending', why: `applied for gateway node "${entry.node}", not "${gatewayNode}"` };
  return { state: 'applied' };
}

function listNodes(items: readonly { node: string; why: string }[]): string {
  const named = items.slice(0, NODES_NAMED).map((i) => `${i.node}: ${i.why}`);
  const more = items.length - named.length;
  return `${named.join('; ')}${more > 0 ? `; and ${more} more node${more === 1 ? '' : 's'}` : ''}`;
}

function condition(status: DesiredCondition['status'], reason: ProgrammedReason, message: string, generation: number): DesiredCondition {
  return { type: 'Programmed', status, reason, message, observedGeneration: generation };
}

/** Programmed of a policy that is not Ready (inactive, or rejected): nothing is to be applied for it. */
export function notReadyProgrammed(generation: number, why: string): DesiredCondition {
  return condition('False', 'NotReady', `nothing to program: ${why} (see Ready)`, generation);
}

/**
 * True when the carrying gateway node and every node with selected pods applied the policy at its
 * current generation for that gateway node, in an apply that succeeded. False (ApplyFailed) when
 * the last apply of one of them failed, False (Pending) when one has not caught up yet, Unknown
 * (NoReport) when one has published nothing usable; the message names those nodes and why.
 */
export function programmedCondition(policy: Policy, a: Assignment, podNodes: ReadonlySet<string>, reports: ReportLookup): DesiredCondition {
  const generation = policy.generation;
  if (!a.active || !a.node) return notReadyProgrammed(generation, `the policy is not Ready (${a.reason ?? 'NotReady'})`);
  const gatewayNode = a.node;
  const nodes = [gatewayNode, ...[...podNodes].filter((n) => n !== gatewayNode).sort()];
  const open: { node: string; why: string; state: Verdict['state'] }[] = [];
  for (const node of nodes) {
    const v = nodeVerdict(reports(node), policy.key, generation, gatewayNode);
    if (v.state !== 'applied') open.push({ node, why: v.why, state: v.state });
  }
  if (open.length === 0) return condition('True', 'Programmed', `applied on gateway node "${gatewayNode}" and on every node with selected pods`, generation);
  // the gravest first: failures, then nodes behind, then nodes without a report
  const rank = { failed: 0, pending: 1, unknown: 2, applied: 3 } as const;
  open.sort((x, y) => rank[x.state] - rank[y.state]);
  const worst = open[0]!.state;
  if (worst === 'failed') return condition('False', 'ApplyFailed', `not programmed on ${listNodes(open)}`, generation);
  if (worst === 'pending') return condition('False', 'Pending', `waiting for ${listNodes(open)}`, generation);
  return condition('Unknown', 'NoReport', `not known for ${listNodes(open)}`, generation);
}
