/** What a request needs to know of an API resource to build its REST path. */
export interface Resource {
  readonly kind: string;
  readonly apiVersion: string;
  readonly plural: string;
  readonly namespaced: boolean;
}

/** A resource of the core group (apiVersion v1). */
export function coreResource(kind: string, plural: string, namespaced: boolean): Resource {
  return { kind, apiVersion: 'v1', plural, namespaced };
}

export const NODE_RESOURCE: Resource = coreResource('Node', 'nodes', false);
export const EVENT_RESOURCE: Resource = coreResource('Event', 'events', true);
export const LEASE_RESOURCE: Resource = { kind: 'Lease', apiVersion: 'coordination.k8s.io/v1', plural: 'leases', namespaced: true };

export interface PathOptions {
  /** Omit for a namespaced list across all namespaces. */
  readonly namespace?: string;
  readonly name?: string;
  readonly subresource?: 'status';
}

/** REST path of a collection, an object or its status subresource. */
export function resourcePath(resource: Resource, options: PathOptions = {}): string {
  const root = resource.apiVersion === 'v1' ? '/api/v1' : `/apis/${resource.apiVersion}`;
  const ns = resource.namespaced && options.namespace ? `/namespaces/${encodeURIComponent(options.namespace)}` : '';
  const name = options.name ? `/${encodeURIComponent(options.name)}` : '';
  const sub = options.name && options.subresource ? `/${options.subresource}` : '';
  return `${root}${ns}/${resource.plural}${name}${sub}`;
}

/** Cache key of an object: `namespace/name` for namespaced kinds, `name` otherwise. */
export function objectKey(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}
