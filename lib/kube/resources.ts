import { API_VERSION, GROUP, VERSION, type EgressKind } from '../api/group.js';

/** The kinds the store keeps: the core objects the planner reads and all of ours. */
export type StoreKind = 'Node' | 'Namespace' | 'Pod' | EgressKind;

export interface Resource {
  readonly kind: string;
  readonly apiVersion: string;
  readonly plural: string;
  readonly namespaced: boolean;
}

function core(kind: string, plural: string, namespaced: boolean): Resource {
  return { kind, apiVersion: 'v1', plural, namespaced };
}

function ours(kind: EgressKind, plural: string, namespaced: boolean): Resource {
  return { kind, apiVersion: API_VERSION, plural, namespaced };
}

export const RESOURCES: Readonly<Record<StoreKind, Resource>> = {
  Node: core('Node', 'nodes', false),
  Namespace: core('Namespace', 'namespaces', false),
  Pod: core('Pod', 'pods', true),
  EgressGateway: ours('EgressGateway', 'egressgateways', false),
  EgressPolicy: ours('EgressPolicy', 'egresspolicies', true),
  EgressClusterPolicy: ours('EgressClusterPolicy', 'egressclusterpolicies', false),
  EgressFirewall: ours('EgressFirewall', 'egressfirewalls', true),
  EgressClusterFirewall: ours('EgressClusterFirewall', 'egressclusterfirewalls', false),
  EgressEndpointSlice: ours('EgressEndpointSlice', 'egressendpointslices', true),
  EgressClusterEndpointSlice: ours('EgressClusterEndpointSlice', 'egressclusterendpointslices', false),
  EgressTunnel: ours('EgressTunnel', 'egresstunnels', false),
  EgressClusterInfo: ours('EgressClusterInfo', 'egressclusterinfos', false),
};

export const EVENT_RESOURCE: Resource = core('Event', 'events', true);
export const LEASE_RESOURCE: Resource = { kind: 'Lease', apiVersion: 'coordination.k8s.io/v1', plural: 'leases', namespaced: true };

export function isOurKind(kind: StoreKind): kind is EgressKind {
  return RESOURCES[kind].apiVersion === `${GROUP}/${VERSION}`;
}

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

/** Store key of an object: `namespace/name` for namespaced kinds, `name` otherwise. */
export function objectKey(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

/** Store source id of the informer that watches a kind in full (a writer feeds its answers back under it). */
export function watchSourceOf(kind: StoreKind): string {
  return kind;
}
