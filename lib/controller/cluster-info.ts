import type { CidrListWire, EgressClusterInfoWire } from '../api/wire.js';
import { CLUSTER_INFO_NAME } from '../api/group.js';
import { problemText } from '../api/problems.js';
import { computeClusterCidrs } from '../planner/cluster-cidrs.js';
import { mergeConditions, readConditions, type DesiredCondition } from '../kube/conditions.js';
import type { ClusterInfoInUse } from '../cluster/store.js';
import { forEachItem, PassReport, type ControllerContext } from './context.js';

function split(cidrs: readonly string[]): CidrListWire {
  const ipv4 = cidrs.filter((c) => !c.includes(':'));
  const ipv6 = cidrs.filter((c) => c.includes(':'));
  return { ...(ipv4.length ? { ipv4 } : {}), ...(ipv6.length ? { ipv6 } : {}) };
}

/** The default EgressClusterInfo spec, as `kubectl get egressclusterinfo default -o yaml` shows it. */
const DEFAULT_CLUSTER_INFO_SPEC: NonNullable<EgressClusterInfoWire['spec']> = {
  autoDetect: { podCidrMode: 'k8s', clusterIP: true, nodeIP: true },
};

/** `Accepted`: whether the stored spec is the one in force (reasons from docs/errors.md). */
function clusterInfoAccepted(inUse: ClusterInfoInUse, generation: number): DesiredCondition {
  const first = inUse.problems[0];
  if (!first) return { type: 'Accepted', status: 'True', reason: 'Accepted', message: 'in force', observedGeneration: generation };
  const fallback = inUse.state === 'last-good' ? `; the last valid version (resourceVersion ${inUse.resourceVersion}) stays in force` : '';
  return { type: 'Accepted', status: 'False', reason: first.reason, message: `${inUse.problems.map(problemText).join('; ')}${fallback}`, observedGeneration: generation };
}

/**
 * Creates EgressClusterInfo `default` when missing and keeps its status equal to
 * `computeClusterCidrs` (pod CIDRs of the nodes, the configured service CIDRs, node IPs) of the
 * spec in force, with an `Accepted` condition. An invalid spec does not take effect: the last
 * valid one stays in force (on every agent too, see ClusterStore.clusterInfoInUse), and the
 * condition says what is wrong.
 */
export async function reconcileClusterInfo(ctx: ControllerContext): Promise<PassReport> {
  const report = new PassReport();
  const { snapshot, store, writer, signal } = ctx;
  await forEachItem(
    ctx,
    report,
    'cluster-info',
    [CLUSTER_INFO_NAME],
    (n) => `EgressClusterInfo ${n}`,
    async (name) => {
      let stored = store.get('EgressClusterInfo', name);
      if (!stored) {
        report.count(await writer.create('EgressClusterInfo', { metadata: { name }, spec: DEFAULT_CLUSTER_INFO_SPEC }, signal));
        stored = store.get('EgressClusterInfo', name);
        if (!stored) return;
      }
      const inUse = store.clusterInfoInUse();
      if (inUse.problems.length > 0) {
        ctx.logger.warn(
          { op: 'cluster-info', name, state: inUse.state, problems: inUse.problems.map(problemText) },
          'EgressClusterInfo is invalid; the last valid one stays in force',
        );
      }
      const generation = typeof stored.raw?.metadata === 'object' && stored.raw.metadata !== null ? Number((stored.raw.metadata as { generation?: unknown }).generation ?? 0) : 0;
      const accepted = clusterInfoAccepted(inUse, generation);
      const cidrs = inUse.value ? computeClusterCidrs(snapshot.nodes, inUse.value, ctx.config.serviceCidrs) : undefined;
      report.count(
        await writer.writeStatus(
          'EgressClusterInfo',
          name,
          (current) => {
            const previous = (current.status ?? {}) as NonNullable<EgressClusterInfoWire['status']>;
            const conditions = mergeConditions(readConditions(current.status), [accepted], ctx.now);
            if (!cidrs) return { ...previous, conditions };
            return { podCIDR: split(cidrs.podCIDR), clusterIP: split(cidrs.clusterIP), nodeIP: split(cidrs.nodeIP), extraCidr: [...cidrs.extraCidr], conditions };
          },
          signal,
        ),
      );
    },
  );
  return report;
}
