import { API_VERSION, type EgressKind } from '../api/group.js';
import { coreResource, NODE_RESOURCE, type Resource } from '../kube/resource.js';

/** The kinds the store keeps: the core objects the planner reads and all of ours. */
export type StoreKind = 'Node' | 'Namespace' | 'Pod' | EgressKind;

function ours(kind: EgressKind, plural: string, namespaced: boolean): Resource {
  return { kind, apiVersion: API_VERSION, plural, namespaced };
}

export const RESOURCES: Readonly<Record<StoreKind, Resource>> = {
  Node: NODE_RESOURCE,
  Namespace: coreResource('Namespace', 'namespaces', false),
  Pod: coreResource('Pod', 'pods', true),
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

export function isOurKind(kind: StoreKind): kind is EgressKind {
  return RESOURCES[kind].apiVersion === API_VERSION;
}

/** Store source id of the informer that watches a kind in full (a writer feeds its answers back under it). */
export function watchSourceOf(kind: StoreKind): string {
  return kind;
}
