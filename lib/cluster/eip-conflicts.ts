import { EIP_CONFLICTS_ANNOTATION } from '../api/group.js';
import type { EipConflictReport } from '../api/model.js';
import type { Reconciler } from '../kube/reconciler.js';
import { resourcePath } from '../kube/resource.js';
import { RESOURCES } from './kinds.js';
import { annotationOf, keepOwnTunnel, type OwnTunnelOptions } from './own-tunnel.js';

/** The annotation's value for these conflicts (`ip=mac,…`, by address), or undefined for none. */
export function eipConflictsText(conflicts: readonly EipConflictReport[]): string | undefined {
  const entries = [...new Set(conflicts.map((c) => `${c.ip}=${c.mac}`))].sort();
  return entries.length ? entries.join(',') : undefined;
}

/**
 * Keeps the egress IPs this node found answered for by another LAN host in its EgressTunnel's
 * eip-conflicts annotation (one merge patch per change), where the controller and every agent
 * read them into the assignment. Waits for the tunnel to exist (the controller creates it, or
 * the agent when it publishes its NIC).
 */
export function keepEipConflictsPublished(options: OwnTunnelOptions): {
  readonly reconciler: Reconciler;
  set(conflicts: readonly EipConflictReport[]): void;
} {
  let wanted: string | undefined;
  // Nothing is written before the first apply has said what it found (a restart keeps the old value until then).
  let known = false;
  const reconciler = keepOwnTunnel(options, {
    name: 'eip-conflicts',
    write: async (tunnel, signal) => {
      if (!known || !tunnel || annotationOf(tunnel, EIP_CONFLICTS_ANNOTATION) === wanted) return undefined;
      const patch = { metadata: { annotations: { [EIP_CONFLICTS_ANNOTATION]: wanted ?? null } } };
      return options.client.mergePatch(resourcePath(RESOURCES.EgressTunnel, { name: options.nodeName }), patch, signal);
    },
  });
  return {
    reconciler,
    set(conflicts) {
      const text = eipConflictsText(conflicts);
      if (known && text === wanted) return;
      known = true;
      wanted = text;
      reconciler.trigger('conflicts');
    },
  };
}
