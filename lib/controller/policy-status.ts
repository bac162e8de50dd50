import type { Policy } from '../api/model.js';
import type { PolicyStatusWire } from '../api/wire.js';
import { problemText, type Problem } from '../api/problems.js';
import { isRecord } from '../api/fields.js';
import { API_VERSION } from '../api/group.js';
import type { Assignment } from '../planner/assign.js';
import { compareForAllocation } from '../planner/order.js';
import { mergeConditions, readConditions, type DesiredCondition } from '../kube/conditions.js';
import type { StoredObject } from '../cluster/store.js';
import type { JsonObject } from '../kube/rest-client.js';
import { EVENTS_AFTER_WRITES_IN_FLIGHT, forEachItem, PassReport, type ControllerContext } from './context.js';
import { nodesWithSelectedPods, notReadyProgrammed, programmedCondition, reportLookup, type ReportLookup } from './policy-programmed.js';
import { classifyMove } from './gateway-moves.js';
import { nativePathCondition } from './native-path.js';
import { nativeNodes } from '../planner/native.js';

type PolicyKindName = 'EgressPolicy' | 'EgressClusterPolicy';

export interface DesiredPolicyStatus {
  readonly egressGatewayName?: string;
  readonly eip?: { ipv4?: string; ipv6?: string };
  readonly node?: string;
  readonly conditions: readonly DesiredCondition[];
}

function accepted(generation: number): DesiredCondition {
  return { type: 'Accepted', status: 'True', reason: 'Accepted', message: 'spec is valid', observedGeneration: generation };
}

/**
 * Status of a policy the parser accepted, from its assignment. Ready is True exactly when the
 * assignment is active (the plan of every node uses the same flag), with the same reason.
 */
export function desiredPolicyStatus(
  policy: Policy,
  a: Assignment,
  invalidGateways: ReadonlySet<string> = new Set(),
  defaultEips: ReadonlySet<string> = new Set(),
): DesiredPolicyStatus {
  const generation = policy.generation;
  const ip = a.useNodeIP
    ? { ...(a.snatV4 ? { ipv4: a.snatV4 } : {}), ...(a.snatV6 ? { ipv6: a.snatV6 } : {}) }
    : { ...(a.eipV4 ? { ipv4: a.eipV4 } : {}), ...(a.eipV6 ? { ipv6: a.eipV6 } : {}) };
  let ready: DesiredCondition;
  if (!a.active) {
    const message =
      a.reason === 'GatewayNotFound' && invalidGateways.has(a.gatewayName) ? `EgressGateway "${a.gatewayName}" is invalid (see its Accepted condition)` : (a.message ?? '');
    ready = { type: 'Ready', status: 'False', reason: a.reason ?? 'NotReady', message, observedGeneration: generation };
  } else {
    const via = [a.snatV4, a.snatV6].filter(Boolean).join(', ');
    const shared = policy.spec.allocatorPolicy === 'rr' && !a.useNodeIP && [a.eipV4, a.eipV6].some((x) => x !== undefined && defaultEips.has(x));
    const note = shared ? " (round-robin took the gateway's default EIP, the last free address; policies that use the default EIP share it)" : '';
    ready = { type: 'Ready', status: 'True', reason: 'Ready', message: `leaves through node "${a.node}" as ${via}${note}`, observedGeneration: generation };
  }
  return {
    ...(a.gatewayName ? { egressGatewayName: a.gatewayName } : {}),
    ...(Object.keys(ip).length ? { eip: ip } : {}),
    ...(a.node ? { node: a.node } : {}),
    conditions: [accepted(generation), ready],
  };
}

/** Status of a policy the parser rejected: it takes no part in allocation, so it holds no address. */
function rejectedPolicyStatus(problems: readonly Problem[], generation: number): DesiredPolicyStatus {
  const message = problems.map(problemText).join('; ');
  return {
    conditions: [
      { type: 'Accepted', status: 'False', reason: 'Invalid', message, observedGeneration: generation },
      { type: 'Ready', status: 'False', reason: 'Invalid', message: 'the spec is invalid (see Accepted)', observedGeneration: generation },
    ],
  };
}

function toWire(desired: DesiredPolicyStatus, current: JsonObject, now: string): PolicyStatusWire {
  return {
    ...(desired.egressGatewayName ? { egressGatewayName: desired.egressGatewayName } : {}),
    ...(desired.eip ? { eip: desired.eip } : {}),
    ...(desired.node ? { node: desired.node } : {}),
    conditions: mergeConditions(readConditions(current.status), desired.conditions, now),
  };
}

function generationOf(raw: JsonObject | undefined): number {
  const meta = raw && isRecord(raw.metadata) ? raw.metadata : {};
  return typeof meta.generation === 'number' ? meta.generation : 0;
}

interface Target {
  readonly kind: PolicyKindName;
  readonly stored: StoredObject<PolicyKindName>;
  readonly desired: DesiredPolicyStatus;
  readonly assignment?: Assignment;
}

/**
 * Writes status.egressGatewayName, eip, node and the Accepted/Ready/Programmed conditions of
 * every policy from the pass's assignment (which reads status back, so allocation and placement
 * survive restarts) and the nodes' applied reports, oldest policy first (the first policy of an
 * EIP names its holder), and posts an Event when the address, the gateway or the gateway node of
 * a policy changes, when its status held values that were not used, or when an apply it needs
 * failed.
 */
export async function reconcilePolicyStatus(ctx: ControllerContext): Promise<PassReport> {
  const report = new PassReport();
  const { store } = ctx;
  const { policies: assignments, pools } = ctx.resolution().assignment;
  const { directory } = ctx.resolution();
  const native = nativeNodes(ctx.snapshot.nodes, ctx.snapshot.gateways).nodes;
  const invalidGateways = new Set(store.rejected('EgressGateway').map((g) => g.name));
  const reports = reportLookup(store, ctx.logger);
  const podNodes = nodesWithSelectedPods(ctx.snapshot.slices);
  const defaultEips = new Set([...pools.values()].flatMap((p) => [p.families[4].defaultEip, p.families[6].defaultEip].filter((x): x is string => x !== undefined)));
  const targets: Target[] = [];
  for (const kind of ['EgressPolicy', 'EgressClusterPolicy'] as const) {
    for (const stored of store.list(kind)) {
      const policy = stored.value;
      const a = policy ? assignments.get(policy.key) : undefined;
      const status = policy && a ? desiredPolicyStatus(policy, a, invalidGateways, defaultEips) : rejectedPolicyStatus(stored.problems, generationOf(stored.raw));
      const programmed =
        policy && a ? programmedCondition(policy, a, podNodes.get(policy.key) ?? new Set(), reports) : notReadyProgrammed(generationOf(stored.raw), 'the spec is invalid');
      const nativePath = policy && a ? nativePathCondition(policy, a, ctx.snapshot, directory, podNodes.get(policy.key) ?? new Set(), native) : undefined;
      const desired = { ...status, conditions: [...status.conditions, programmed, ...(nativePath ? [nativePath] : [])] };
      targets.push({ kind, stored, desired, ...(a ? { assignment: a } : {}) });
    }
  }
  targets.sort((x, y) => (x.stored.value && y.stored.value ? compareForAllocation(x.stored.value, y.stored.value) : x.stored.value ? -1 : y.stored.value ? 1 : 0));
  await forEachItem(
    ctx,
    report,
    'policy-status',
    targets,
    (t) => `${t.kind} ${t.stored.key}`,
    async (t) => {
      const result = report.count(await ctx.writer.writeStatus(t.kind, t.stored.key, (current) => toWire(t.desired, current, ctx.now), ctx.signal));
      if (result.outcome === 'updated' && result.before && result.after) await announce(ctx, report, reports, t, result.before, result.after);
    },
    EVENTS_AFTER_WRITES_IN_FLIGHT,
  );
  return report;
}

function statusOf(raw: JsonObject): PolicyStatusWire {
  return isRecord(raw.status) ? (raw.status as PolicyStatusWire) : {};
}

/**
 * Events on transitions only: a new address, a new or moved gateway node (a failover or a handoff
 * within one gateway, see gateway-moves.ts), Ready turning False. A move that followed a node's
 * takeover report is counted.
 */
async function announce(ctx: ControllerContext, report: PassReport, reports: ReportLookup, t: Target, before: JsonObject, after: JsonObject): Promise<void> {
  const old = statusOf(before);
  const now = statusOf(after);
  const subject = { apiVersion: API_VERSION, kind: t.kind, name: t.stored.name, namespace: t.stored.namespace, uid: t.stored.uid };
  const ips = (s: PolicyStatusWire) => [s.eip?.ipv4, s.eip?.ipv6].filter(Boolean).join(', ');
  if (ips(now) && ips(now) !== ips(old)) {
    await ctx.events.record(subject, 'Normal', 'EIPAssigned', `egress IP ${ips(now)}${ips(old) ? ` (was ${ips(old)})` : ''}`, ctx.signal);
  }
  const gatewayChanged = !!now.egressGatewayName && !!old.egressGatewayName && now.egressGatewayName !== old.egressGatewayName;
  if (gatewayChanged) {
    await ctx.events.record(subject, 'Normal', 'GatewayChanged', `uses EgressGateway "${now.egressGatewayName}" now (was "${old.egressGatewayName}")`, ctx.signal);
  }
  const policy = t.stored.value;
  if (now.node && old.node && now.node !== old.node) {
    const takeover = policy && ctx.takeovers().get(policy.key);
    const takenOver = takeover?.from === old.node && takeover.to === now.node;
    const eligible = ctx.resolution().eligible.get(policy?.spec.gatewayName ?? '') ?? [];
    const rebalanced = policy ? ctx.rebalance().moves.get(policy.key) : undefined;
    const move =
      !policy || gatewayChanged
        ? undefined
        : rebalanced?.from === old.node && rebalanced.to === now.node
          ? {
              kind: 'handoff' as const,
              reason: 'GatewayHandoff' as const,
              message: `gateway node "${old.node}" handed over to "${now.node}" (rebalance requested on EgressGateway "${rebalanced.gateway}")`,
            }
          : classifyMove(ctx.snapshot, policy, old.node, now.node, reports, takenOver, eligible);
    if (move && takenOver) report.tookOver(move.kind);
    if (move) await ctx.events.record(subject, move.kind === 'failover' ? 'Warning' : 'Normal', move.reason, move.message, ctx.signal);
    else await ctx.events.record(subject, 'Normal', 'GatewayMoved', `gateway node moved from "${old.node}" to "${now.node}"`, ctx.signal);
  } else if (now.node && !old.node) {
    await ctx.events.record(subject, 'Normal', 'GatewayAssigned', `carried by gateway node "${now.node}"`, ctx.signal);
  }
  const ignored = t.assignment?.ignoredStatus ?? [];
  if (ignored.length) await ctx.events.record(subject, 'Warning', 'StatusIgnored', ignored.join('; '), ctx.signal);
  const ready = (s: PolicyStatusWire) => s.conditions?.find((c) => c.type === 'Ready');
  const r = ready(now);
  if (r && r.status === 'False' && (ready(old)?.status !== 'False' || ready(old)?.reason !== r.reason)) {
    await ctx.events.record(subject, 'Warning', r.reason, r.message, ctx.signal);
  }
  const programmed = (s: PolicyStatusWire) => s.conditions?.find((c) => c.type === 'Programmed');
  const p = programmed(now);
  if (p && p.reason === 'ApplyFailed' && programmed(old)?.reason !== 'ApplyFailed') {
    await ctx.events.record(subject, 'Warning', p.reason, p.message, ctx.signal);
  }
}
