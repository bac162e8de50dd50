import type { NodeInfo, Tunnel } from '../api/model.js';
import type { EgressTunnelWire } from '../api/wire.js';
import { assignTunnels, type TunnelAssignment } from '../planner/tunnels.js';
import { parentInterfaceOf } from '../cluster/parent-interface.js';
import { appliedReportOf } from '../cluster/applied-report.js';
import type { JsonObject } from '../kube/rest-client.js';
import { forEachItem, PassReport, type ControllerContext } from './context.js';

type TunnelStatusWire = NonNullable<EgressTunnelWire['status']>;

/** status of a node's EgressTunnel: its tunnel identity, mark index (decimal) and readiness. */
function tunnelStatus(t: TunnelAssignment, node: NodeInfo): TunnelStatusWire {
  return {
    tunnel: {
      ...(t.ipv4 ? { ipv4: t.ipv4 } : {}),
      ...(t.ipv6 ? { ipv6: t.ipv6 } : {}),
      mac: t.mac,
      parent: { name: t.parentName, ...(t.parentIpv4 ? { ipv4: t.parentIpv4 } : {}), ...(t.parentIpv6 ? { ipv6: t.parentIpv6 } : {}) },
    },
    ...(t.markIndex !== undefined ? { mark: String(t.markIndex) } : {}),
    phase: node.ready && !node.unreachable ? 'Ready' : 'NodeNotReady',
  };
}

/** The status the controller writes, keeping the applied report the node's agent wrote (not the controller's to judge here). */
function keepingReport(status: TunnelStatusWire, current: JsonObject): TunnelStatusWire {
  const applied = appliedReportOf(current);
  return applied === undefined ? status : { ...status, applied: applied as TunnelStatusWire['applied'] };
}

/**
 * One EgressTunnel per node, status from `assignTunnels` (which keeps the addresses and marks
 * already in status, so they survive restarts). The parent NIC is what the node's agent published
 * in the parent-interface annotation. Tunnels of nodes that left the cluster are deleted.
 */
export async function reconcileTunnels(ctx: ControllerContext): Promise<PassReport> {
  const report = new PassReport();
  const { snapshot, store, writer, signal } = ctx;
  const stored = new Map(store.list('EgressTunnel').map((s) => [s.key, s]));
  const existing: Tunnel[] = snapshot.tunnels.map((t) => {
    const nic = parentInterfaceOf(stored.get(t.node)?.raw);
    return nic ? { ...t, parentName: nic } : t;
  });
  for (const [name, s] of stored) {
    // a tunnel the agent created with only the annotation parses without status; still use its NIC
    const nic = parentInterfaceOf(s.raw);
    if (nic && !existing.some((t) => t.node === name)) existing.push({ node: name, parentName: nic });
  }
  const assignments = assignTunnels(snapshot, existing, ctx.config, ctx.tunnelMarks.last);
  ctx.tunnelMarks.last = Object.fromEntries([...assignments.values()].flatMap((t) => (t.markIndex !== undefined ? [[t.node, t.markIndex]] : [])));
  const nodes = new Map(snapshot.nodes.map((n) => [n.name, n]));
  // a carrier that is no node any more keeps its values while status names it, but has no status to write
  await forEachItem(
    ctx,
    report,
    'tunnels',
    [...assignments.values()].filter((t) => nodes.has(t.node)),
    (t) => `EgressTunnel ${t.node}`,
    async (t) => {
      const status = tunnelStatus(t, nodes.get(t.node)!);
      if (!stored.has(t.node)) report.count(await writer.create('EgressTunnel', { metadata: { name: t.node }, spec: {} }, signal));
      report.count(await writer.writeStatus('EgressTunnel', t.node, (current) => keepingReport(status, current), signal));
    },
  );
  const gone = [...stored.keys()].filter((name) => !nodes.has(name));
  await forEachItem(
    ctx,
    report,
    'tunnels',
    gone,
    (n) => `EgressTunnel ${n}`,
    async (name) => {
      report.count(await writer.delete('EgressTunnel', name, signal));
    },
  );
  return report;
}
