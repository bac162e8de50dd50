import { isRecord } from '../api/fields.js';
import type { JsonObject } from '../kube/rest-client.js';
import type { StoreKind } from './kinds.js';
import { DRAIN_ANNOTATION } from '../api/group.js';

function pick(source: unknown, keys: readonly string[]): JsonObject | undefined {
  if (!isRecord(source)) return undefined;
  const out: JsonObject = {};
  for (const k of keys) if (source[k] !== undefined) out[k] = source[k];
  return out;
}

const META = ['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'labels'];

/**
 * What an informer passes on of a Pod or Node: the fields lib/api reads. A list is held until all
 * its pages are read, and on the leader that is every Pod in the cluster; Node status alone
 * carries kilobytes of image lists. Each page is cut down before the next is asked for. Our own
 * kinds are kept whole.
 */
export function slimObject(kind: StoreKind, object: JsonObject): JsonObject {
  if (kind === 'Pod') {
    return {
      apiVersion: object.apiVersion,
      kind: object.kind,
      metadata: pick(object.metadata, META),
      spec: pick(object.spec, ['nodeName', 'hostNetwork']),
      status: pick(object.status, ['phase', 'podIP', 'podIPs', 'conditions']),
    };
  }
  if (kind === 'Node') {
    return {
      apiVersion: object.apiVersion,
      kind: object.kind,
      metadata: { ...pick(object.metadata, META), ...nodeAnnotations(object.metadata) },
      spec: pick(object.spec, ['podCIDR', 'podCIDRs', 'taints', 'unschedulable']),
      status: pick(object.status, ['addresses', 'conditions']),
    };
  }
  if (kind === 'Namespace') return { apiVersion: object.apiVersion, kind: object.kind, metadata: pick(object.metadata, META) };
  return object;
}

/** Of a Node's annotations, only the one sluice reads (its drain annotation). */
function nodeAnnotations(metadata: unknown): JsonObject {
  const annotations = isRecord(metadata) && isRecord(metadata.annotations) ? metadata.annotations : undefined;
  return annotations && annotations[DRAIN_ANNOTATION] !== undefined ? { annotations: { [DRAIN_ANNOTATION]: annotations[DRAIN_ANNOTATION] } } : {};
}
