import { isNotFound } from './api-error.js';
import type { JsonObject, KubeClient } from './rest-client.js';
import { RESOURCES, resourcePath, watchSourceOf } from './resources.js';
import { EIP_CONFLICTS_ANNOTATION } from '../api/group.js';
import { isRecord } from '../api/fields.js';
import type { EipConflictReport } from '../api/model.js';
import type { ClusterStore } from './store.js';
import type { ClusterWatch } from './cluster-watch.js';
import { Reconciler } from './reconciler.js';
import type { Logger } from './logger.js';

/** The annotation's value for these conflicts (`ip=mac,…`, by address), or undefined for none. */
export function eipConflictsText(conflicts: readonly EipConflictReport[]): string | undefined {
  const entries = [...new Set(conflicts.map((c) => `${c.ip}=${c.mac}`))].sort();
  return entries.length ? entries.join(',') : undefined;
}

function publishedOf(tunnel: JsonObject | undefined): string | undefined {
  const meta = tunnel && isRecord(tunnel.metadata) ? tunnel.metadata : undefined;
  const annotations = meta && isRecord(meta.annotations) ? meta.annotations : undefined;
  const value = annotations?.[EIP_CONFLICTS_ANNOTATION];
  return typeof value === 'string' ? value : undefined;
}

/**
 * Keeps the egress IPs this node found answered for by another LAN host in its EgressTunnel's
 * eip-conflicts annotation (one merge patch per change), where the controller and every agent
 * read them into the assignment. Waits for the tunnel to exist (the controller creates it, or
 * the agent when it publishes its NIC).
 */
export function keepEipConflictsPublished(options: { client: KubeClient; store: ClusterStore; watch: ClusterWatch; nodeName: string; logger?: Logger }): {
  readonly reconciler: Reconciler;
  set(conflicts: readonly EipConflictReport[]): void;
} {
  const { client, store, watch, nodeName } = options;
  let wanted: string | undefined;
  // Nothing is written before the first apply has said what it found (a restart keeps the old value until then).
  let known = false;
  const off: (() => void)[] = [];
  const reconciler = new Reconciler({
    name: 'eip-conflicts',
    onStop: () => off.forEach((f) => f()),
    run: async ({ signal }) => {
      const stored = store.get('EgressTunnel', nodeName)?.raw;
      if (!known || !watch.synced || !stored || publishedOf(stored) === wanted) return;
      const patch = { metadata: { annotations: { [EIP_CONFLICTS_ANNOTATION]: wanted ?? null } } };
      try {
        const written = await client.mergePatch(resourcePath(RESOURCES.EgressTunnel, { name: nodeName }), patch, signal);
        store.upsert(watchSourceOf('EgressTunnel'), 'EgressTunnel', written, { ifNewer: true });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    },
    ...(options.logger ? { logger: options.logger } : {}),
  });
  off.push(store.subscribe((c) => c.kind === 'EgressTunnel' && c.key === nodeName && reconciler.trigger('tunnel')));
  off.push(watch.onSynced(() => reconciler.trigger('synced')));
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
