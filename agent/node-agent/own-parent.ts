import type { Snapshot } from '../../lib/planner/snapshot.js';

/**
 * The snapshot with this node's parent NIC as the agent itself knows it (`--interface`, or the NIC
 * holding the node's InternalIP), whatever its EgressTunnel says. Any agent may write any
 * EgressTunnel's annotations (RBAC cannot limit a DaemonSet's agents to their own object), so a
 * node never takes where its EIPs and its tunnel live from the API server.
 */
export function withOwnParent(snapshot: Snapshot, node: string, nic: string): Snapshot {
  if (!snapshot.tunnels.some((t) => t.node === node && t.parentName !== nic)) return snapshot;
  return { ...snapshot, tunnels: snapshot.tunnels.map((t) => (t.node === node ? { ...t, parentName: nic } : t)) };
}
