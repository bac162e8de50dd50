import { PARENT_INTERFACE_ANNOTATION } from '../api/group.js';
import { isInterfaceName } from '../api/names.js';
import { isAlreadyExists, isNotFound } from '../kube/api-error.js';
import type { JsonObject, KubeClient } from '../kube/rest-client.js';
import type { Reconciler } from '../kube/reconciler.js';
import { resourcePath } from '../kube/resource.js';
import { RESOURCES } from './kinds.js';
import { annotationOf, keepOwnTunnel, type OwnTunnelOptions } from './own-tunnel.js';

export function parentInterfaceOf(tunnel: JsonObject | undefined): string | undefined {
  const value = annotationOf(tunnel, PARENT_INTERFACE_ANNOTATION);
  return value !== undefined && isInterfaceName(value) ? value : undefined;
}

/**
 * Publishes this node's parent NIC (one merge patch). Creates the EgressTunnel when the
 * controller has not yet; callers skip the call when the stored tunnel already carries `nic`.
 */
async function publishParentInterface(client: KubeClient, nodeName: string, nic: string, signal?: AbortSignal): Promise<JsonObject | undefined> {
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
      return await client.create(
        resourcePath(resource),
        { apiVersion: resource.apiVersion, kind: resource.kind, metadata: { name: nodeName, ...patch.metadata }, spec: {} },
        signal,
      );
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  }
  return undefined;
}

/**
 * Keeps this node's parent-interface annotation published, creating the EgressTunnel when there
 * is none yet (the first thing an agent writes: the other publishers wait for the tunnel).
 */
export function keepParentInterfacePublished(options: OwnTunnelOptions & { readonly nic: string }): Reconciler {
  const { client, nodeName, nic } = options;
  return keepOwnTunnel(options, {
    name: 'parent-interface',
    write: (tunnel, signal) => (parentInterfaceOf(tunnel) === nic ? Promise.resolve(undefined) : publishParentInterface(client, nodeName, nic, signal)),
  });
}
