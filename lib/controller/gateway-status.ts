import type { Gateway, NodeInfo } from '../api/model.js';
import type { GatewayNodeStatusWire, IpUsageWire } from '../api/wire.js';
import { DEFAULT_GATEWAY_LABEL } from '../api/group.js';
import { problemText } from '../api/problems.js';
import { selectorMatches } from '../api/labels.js';
import { isRecord } from '../api/fields.js';
import type { Assignment } from '../planner/assign.js';
import { addressVerdict, exclusionText, type GatewayPools } from '../planner/pools.js';
import { countNumber, poolUsage } from '../planner/pool-usage.js';
import { clusterDefaultGateway } from '../planner/default-gateway.js';
import { mergeConditions, readConditions, type DesiredCondition } from '../kube/conditions.js';
import { EVENTS_AFTER_WRITES_IN_FLIGHT, forEachItem, PassReport, type ControllerContext } from './context.js';
import { rebalanceCondition, announceRebalance, rebalanceStatus } from './rebalance-events.js';

interface PolicyRef {
  readonly name: string;
  readonly namespace?: string;
}

function refOf(policyKey: string): PolicyRef {
  const slash = policyKey.indexOf('/');
  return slash < 0 ? { name: policyKey } : { namespace: policyKey.slice(0, slash), name: policyKey.slice(slash + 1) };
}

/**
 * status.nodeList of a gateway: every node its selector matches (Ready or NodeNotReady), with the
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
    return { name, status: nodeStatus(node), eips };
  });
}

/** spidernet's strings: `Ready`, or `NodeNotReady` for a node that is not Ready, unreachable, or gone. */
function nodeStatus(node: NodeInfo | undefined): 'Ready' | 'NodeNotReady' {
  return node && node.ready && !node.unreachable ? 'Ready' : 'NodeNotReady';
}

/** status.ipUsage: what the pools can hand out and what no policy holds, per family. */
export function gatewayIpUsage(pools: GatewayPools, assignments: ReadonlyMap<string, Assignment>): IpUsageWire {
  const usage = poolUsage(pools, assignments.values());
  return {
    ipv4Total: countNumber(usage[4].total),
    ipv4Free: countNumber(usage[4].free),
    ipv6Total: countNumber(usage[6].total),
    ipv6Free: countNumber(usage[6].free),
  };
}

/**
 * status.defaultEIP: the address policies with allocatorPolicy default leave with (the named one,
 * or the pool's first that may be handed out), when it may be handed out at all; PoolsValid and
 * the policies' Ready condition say why it may not.
 */
export function gatewayDefaultEip(pools: GatewayPools): { ipv4?: string; ipv6?: string } {
  const usable = (ip: string | undefined) => (ip && !pools.rejected && !addressVerdict(pools, ip) ? ip : undefined);
  const ipv4 = usable(pools.families[4].defaultEip);
  const ipv6 = usable(pools.families[6].defaultEip);
  return { ...(ipv4 ? { ipv4 } : {}), ...(ipv6 ? { ipv6 } : {}) };
}

/**
 * The ClusterDefault condition of a gateway with spec.clusterDefault: True for the one policies
 * without a gateway use (the oldest), False for the others. None for the rest.
 */
export function clusterDefaultCondition(gateway: Gateway, clusterDefault: Gateway | undefined, generation: number): DesiredCondition | undefined {
  if (!gateway.clusterDefault) return undefined;
  if (clusterDefault?.name === gateway.name) {
    return {
      type: 'ClusterDefault',
      status: 'True',
      reason: 'ClusterDefault',
      message: `policies that name no gateway use this one, unless their namespace's label ${DEFAULT_GATEWAY_LABEL} names another`,
      observedGeneration: generation,
    };
  }
  return {
    type: 'ClusterDefault',
    status: 'False',
    reason: 'DuplicateClusterDefault',
    message: `the older gateway "${clusterDefault?.name ?? '?'}" is the cluster default; a cluster has one, so policies that name no gateway do not use this one`,
    observedGeneration: generation,
  };
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

/**
 * Writes status.nodeList, ipUsage, defaultEIP, rebalance and the conditions (Accepted Invalid with
 * the problems when the parser rejected it; Rebalanced while a rebalance annotation is set).
 */
export async function reconcileGatewayStatus(ctx: ControllerContext): Promise<PassReport> {
  const report = new PassReport();
  const { assignment } = ctx.resolution();
  const clusterDefault = clusterDefaultGateway(ctx.snapshot.gateways);
  await forEachItem(
    ctx,
    report,
    'gateway-status',
    ctx.store.list('EgressGateway'),
    (s) => `EgressGateway ${s.key}`,
    async (stored) => {
      const gateway = stored.value;
      const meta = stored.raw && isRecord(stored.raw.metadata) ? stored.raw.metadata : {};
      const generation = typeof meta.generation === 'number' ? meta.generation : 0;
      const pools = gateway ? assignment.pools.get(gateway.name) : undefined;
      const defaultCondition = gateway ? clusterDefaultCondition(gateway, clusterDefault, generation) : undefined;
      const conditions: DesiredCondition[] = gateway
        ? [...gatewayConditions(pools, generation), ...(defaultCondition ? [defaultCondition] : [])]
        : [{ type: 'Accepted', status: 'False', reason: 'Invalid', message: stored.problems.map(problemText).join('; '), observedGeneration: generation }];
      const nodeList = gateway ? gatewayNodeList(gateway, ctx.snapshot.nodes, assignment.policies) : [];
      const defaultEIP = pools ? gatewayDefaultEip(pools) : {};
      const progress = gateway ? ctx.rebalance().progress.get(gateway.name) : undefined;
      if (progress) conditions.push(rebalanceCondition(progress, generation));
      const rebalance = progress ? rebalanceStatus(progress) : undefined;
      const result = report.count(
        await ctx.writer.writeStatus(
          'EgressGateway',
          stored.key,
          (current) => ({
            nodeList,
            ...(pools ? { ipUsage: gatewayIpUsage(pools, assignment.policies) } : {}),
            ...(Object.keys(defaultEIP).length ? { defaultEIP } : {}),
            ...(rebalance ? { rebalance } : {}),
            conditions: mergeConditions(readConditions(current.status), conditions, ctx.now),
          }),
          ctx.signal,
        ),
      );
      if (progress && result.outcome === 'updated' && result.before && result.after) await announceRebalance(ctx, stored, progress, result.before);
    },
    EVENTS_AFTER_WRITES_IN_FLIGHT,
  );
  return report;
}
