import { isAlreadyExists, isNotFound } from './api-error.js';
import type { JsonObject, KubeClient } from './rest-client.js';
import { RESOURCES, resourcePath, watchSourceOf } from './resources.js';
import { GROUP } from '../api/group.js';
import { isRecord } from '../api/fields.js';
import { isInterfaceName } from '../api/names.js';
import type { ClusterStore } from './store.js';
import type { ClusterWatch } from './cluster-watch.js';
import { Reconciler } from './reconciler.js';
import type { Logger } from './logger.js';

/**
 * Annotation on a node's EgressTunnel naming its parent NIC. Only the node's own agent knows the
 * NIC, so it publishes it here; the controller copies it into status.tunnel.parent.name.
 */
export const PARENT_INTERFACE_ANNOTATION = `${GROUP}/parent-interface`;

export function parentInterfaceOf(tunnel: JsonObject | undefined): string | undefined {
  const meta = tunnel && isRecord(tunnel.metadata) ? tunnel.metadata : undefined;
  const annotations = meta && isRecord(meta.annotations) ? meta.annotations : undefined;
  const value = annotations?.[PARENT_INTERFACE_ANNOTATION];
  return typeof value === 'string' && isInterfaceName(value) ? value : undefined;
}

/**
 * Publishes this node's parent NIC (one merge patch). Creates the EgressTunnel when the
 * controller has not yet; callers skip the call when the stored tunnel already carries `nic`.
 */
export async function publishParentInterface(client: KubeClient, nodeName: string, nic: string, signal?: AbortSignal): Promise<JsonObject | undefined> {
  const resource = RESOURCES.EgressTunnel;
  const path = resourcePath(resource, { name: nodeName });
  const patch = { metadata: { annotations: { [PARENT_INTERFACE_ANNOTATION]: nic } } };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      return await client.mergePatch(path, patch, signal);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    try {
      return await client.create(resourcePath(resource), { apiVersion: resource.apiVersion, kind: resource.kind, metadata: { name: nodeName, ...patch.metadata }, spec: {} }, signal);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  }
  return undefined;
}

/**
 * Keeps this node's parent-interface annotation published: checks after every change to its
 * EgressTunnel (and once synced) and patches when the stored value differs.
 */
export function keepParentInterfacePublished(options: {
  client: KubeClient;
  store: ClusterStore;
  watch: ClusterWatch;
  nodeName: string;
  nic: string;
  logger?: Logger;
}): Reconciler {
  const { client, store, watch, nodeName, nic } = options;
  const off: (() => void)[] = [];
  const reconciler = new Reconciler({
    name: 'parent-interface',
    onStop: () => off.forEach((f) => f()),
    run: async ({ signal }) => {
      if (!watch.synced || parentInterfaceOf(store.get('EgressTunnel', nodeName)?.raw) === nic) return;
      const written = await publishParentInterface(client, nodeName, nic, signal);
      if (written) store.upsert(watchSourceOf('EgressTunnel'), 'EgressTunnel', written, { ifNewer: true });
    },
    ...(options.logger ? { logger: options.logger } : {}),
  });
  off.push(store.subscribe((c) => c.kind === 'EgressTunnel' && c.key === nodeName && reconciler.trigger('tunnel')));
  off.push(watch.onSynced(() => reconciler.trigger('synced')));
  reconciler.trigger('start');
  return reconciler;
}
