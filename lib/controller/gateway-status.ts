import type { Gateway, NodeInfo } from '../api/model.js';
import type { GatewayNodeStatusWire } from '../api/wire.js';
import { problemText } from '../api/problems.js';
import { selectorMatches } from '../api/labels.js';
import { isRecord } from '../api/fields.js';
import type { Assignment } from '../planner/assign.js';
import { exclusionText, type GatewayPools } from '../planner/pools.js';
import { mergeConditions, readConditions, type DesiredCondition } from '../kube/conditions.js';
import { forEachItem, PassReport, type ControllerContext } from './context.js';

interface PolicyRef {
  readonly name: string;
  readonly namespace?: string;
}

function refOf(policyKey: string): PolicyRef {
  const slash = policyKey.indexOf('/');
  return slash < 0 ? { name: policyKey } : { namespace: policyKey.slice(0, slash), name: policyKey.slice(slash + 1) };
}

/**
 * status.nodeList of a gateway: every node its selector matches (Ready or NotReady), with the
 * egress IPs it carries and the policies using each. useNodeIP policies list the node's own IPs.
 */
export function gatewayNodeList(gateway: Gateway, nodes: readonly NodeInfo[], assignments: ReadonlyMap<string, Assignment>): GatewayNodeStatusWire[] {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const names = new Set(nodes.filter((n) => selectorMatches(gateway.nodeSelector, n.labels)).map((n) => n.name));
  const carried = [...assignments.values()].filter((a) => a.gatewayName === gateway.name && a.active && a.node);
  for (const a of carried) names.add(a.node!);
  return [...names].sort().map((name) => {
    const node = byName.get(name);
    const groups = new Map<string, { ipv4?: string; ipv6?: string; policies: PolicyRef[] }>();
    for (const a of carried.filter((c) => c.node === name)) {
      const ipv4 = a.useNodeIP ? a.snatV4 : a.eipV4;
      const ipv6 = a.useNodeIP ? a.snatV6 : a.eipV6;
      const id = `${ipv4 ?? ''}|${ipv6 ?? ''}`;
      const group = groups.get(id) ?? { ...(ipv4 ? { ipv4 } : {}), ...(ipv6 ? { ipv6 } : {}), policies: [] };
      group.policies.push(refOf(a.policyKey));
      groups.set(id, group);
    }
    const eips = [...groups.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, g]) => ({ ...g, policies: g.policies.sort((x, y) => (`${x.namespace ?? ''}/${x.name}` < `${y.namespace ?? ''}/${y.name}` ? -1 : 1)) }));
    return { name, status: node && node.ready && !node.unreachable ? 'Ready' : 'NotReady', eips };
  });
}

/**
 * The conditions of a gateway the parser accepted: Accepted (False with PoolOverlap when its pool
 * entries overlap each other or an older gateway's pools: it is then not used) and PoolsValid (False when parts of the pools
 * are node or pod addresses, not unicast, or answered for by another LAN host: those are never handed out).
 */
export function gatewayConditions(pools: GatewayPools | undefined, generation: number): DesiredCondition[] {
  const accepted: DesiredCondition = pools?.rejected
    ? { type: 'Accepted', status: 'False', reason: pools.rejected.reason, message: pools.rejected.message, observedGeneration: generation }
    : { type: 'Accepted', status: 'True', reason: 'Accepted', message: 'spec is valid', observedGeneration: generation };
  const excluded = pools?.excluded ?? [];
  const valid: DesiredCondition = excluded.length
    ? {
        type: 'PoolsValid',
        status: 'False',
        reason: (['ClusterAddress', 'EIPConflict', 'ReservedAddress'] as const).find((r) => excluded.some((e) => e.reason === r))!,
        message: `never handed out: ${exclusionText(excluded)}`,
        observedGeneration: generation,
      }
    : { type: 'PoolsValid', status: 'True', reason: 'PoolsValid', message: 'every pool address can be handed out', observedGeneration: generation };
  return [accepted, valid];
}

/** Writes status.nodeList and the conditions (Accepted Invalid with the problems when the parser rejected it). */
export async function reconcileGatewayStatus(ctx: ControllerContext): Promise<PassReport> {
  const report = new PassReport();
  const { assignment } = ctx.resolution();
  await forEachItem(ctx, report, 'gateway-status', ctx.store.list('EgressGateway'), (s) => `EgressGateway ${s.key}`, async (stored) => {
    const gateway = stored.value;
    const meta = stored.raw && isRecord(stored.raw.metadata) ? stored.raw.metadata : {};
    const generation = typeof meta.generation === 'number' ? meta.generation : 0;
    const conditions: DesiredCondition[] = gateway
      ? gatewayConditions(assignment.pools.get(gateway.name), generation)
      : [{ type: 'Accepted', status: 'False', reason: 'Invalid', message: stored.problems.map(problemText).join('; '), observedGeneration: generation }];
    const nodeList = gateway ? gatewayNodeList(gateway, ctx.snapshot.nodes, assignment.policies) : [];
    report.count(
      await ctx.writer.writeStatus('EgressGateway', stored.key, (current) => ({
        nodeList,
        conditions: mergeConditions(readConditions(current.status), conditions, ctx.now),
      }), ctx.signal),
    );
  });
  return report;
}
