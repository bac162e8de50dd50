import type { CidrListWire, EgressClusterInfoWire } from '../api/wire.js';
import { CLUSTER_INFO_NAME } from '../api/group.js';
import { problemText } from '../api/problems.js';
import { computeClusterCidrs } from '../planner/cluster-cidrs.js';
import { forEachItem, PassReport, type ControllerContext } from './context.js';

function split(cidrs: readonly string[]): CidrListWire {
  const ipv4 = cidrs.filter((c) => !c.includes(':'));
  const ipv6 = cidrs.filter((c) => c.includes(':'));
  return { ...(ipv4.length ? { ipv4 } : {}), ...(ipv6.length ? { ipv6 } : {}) };
}

/** The default EgressClusterInfo spec, as `kubectl get egressclusterinfo default -o yaml` shows it. */
export const DEFAULT_CLUSTER_INFO_SPEC: NonNullable<EgressClusterInfoWire['spec']> = {
  autoDetect: { podCidrMode: 'k8s', clusterIP: true, nodeIP: true },
};

/**
 * Creates EgressClusterInfo `default` when missing and keeps its status equal to
 * `computeClusterCidrs` (pod CIDRs of the nodes, the configured service CIDRs, node IPs).
 */
export async function reconcileClusterInfo(ctx: ControllerContext): Promise<PassReport> {
  const report = new PassReport();
  const { snapshot, store, writer, signal } = ctx;
  await forEachItem(ctx, report, 'cluster-info', [CLUSTER_INFO_NAME], (n) => `EgressClusterInfo ${n}`, async (name) => {
    let stored = store.get('EgressClusterInfo', name);
    if (!stored) {
      report.count(await writer.create('EgressClusterInfo', { metadata: { name }, spec: DEFAULT_CLUSTER_INFO_SPEC }, signal));
      stored = store.get('EgressClusterInfo', name);
      if (!stored) return;
    }
    if (!stored.value) {
      ctx.logger.warn({ op: 'cluster-info', name, problems: stored.problems.map(problemText) }, 'EgressClusterInfo is invalid; status not updated');
      return;
    }
    const cidrs = computeClusterCidrs(snapshot.nodes, stored.value, ctx.config.serviceCidrs);
    const status: EgressClusterInfoWire['status'] = {
      podCIDR: split(cidrs.podCIDR),
      clusterIP: split(cidrs.clusterIP),
      nodeIP: split(cidrs.nodeIP),
      extraCidr: [...cidrs.extraCidr],
    };
    report.count(await writer.writeStatus('EgressClusterInfo', name, () => status, signal));
  });
  return report;
}
