import { EIP_CONFLICTS_ANNOTATION } from '../api/group.js';
import type { EipConflictReport } from '../api/model.js';
import type { Reconciler } from '../kube/reconciler.js';
import { keepOwnAnnotation, type OwnTunnelOptions } from './own-tunnel.js';

/** The annotation's value for these conflicts (`ip=mac,…`, by address), or undefined for none. */
export function eipConflictsText(conflicts: readonly EipConflictReport[]): string | undefined {
  const entries = [...new Set(conflicts.map((c) => `${c.ip}=${c.mac}`))].sort();
  return entries.length ? entries.join(',') : undefined;
}

/**
 * Keeps the egress IPs this node found answered for by another LAN host in its EgressTunnel's
 * eip-conflicts annotation, where the controller and every agent read them into the assignment.
 */
export function keepEipConflictsPublished(options: OwnTunnelOptions): {
  readonly reconciler: Reconciler;
  set(conflicts: readonly EipConflictReport[]): void;
} {
  const kept = keepOwnAnnotation(options, 'eip-conflicts', EIP_CONFLICTS_ANNOTATION);
  return { reconciler: kept.reconciler, set: (conflicts) => kept.set(eipConflictsText(conflicts)) };
}
