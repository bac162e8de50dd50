/** /version and API discovery, both the legacy documents and aggregated discovery (apidiscovery.k8s.io). */
import type { JsonObject } from './json.js';
import type { ResourceRegistry, ResolvedType } from './resource-registry.js';
import { ALL_VERBS, apiVersionOf, STATUS_VERBS } from './resource-type.js';

export const SERVER_VERSION: JsonObject = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0',
  gitCommit: '70d3cc986aa8221cd1dfb1121852688902d3bf53',
  gitTreeState: 'clean',
  buildDate: '2024-12-11T17:59:15Z',
  goVersion: 'go1.23.3',
  compiler: 'gc',
  platform: 'linux/amd64',
};

export function aggregatedDiscoveryContentType(version: 'v2' | 'v2beta1'): string {
  return `application/json;g=apidiscovery.k8s.io;v=${version};as=APIGroupDiscoveryList`;
}

function groupVersion(group: string, version: string): JsonObject {
  return { groupVersion: apiVersionOf(group, version), version };
}

export function legacyApiVersions(serverAddress: string): JsonObject {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function apiGroup(name: string, versions: string[]): JsonObject {
  return {
    name,
    versions: versions.map((version) => groupVersion(name, version)),
    preferredVersion: groupVersion(name, versions[0]),
  };
}

export function legacyApiGroupList(registry: ResourceRegistry): JsonObject {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: registry.groups().map((group) => apiGroup(group.name, group.versions)) };
}

export function legacyApiGroup(registry: ResourceRegistry, name: string): JsonObject | undefined {
  const group = registry.groups().find((candidate) => candidate.name === name);
  return group ? { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(group.name, group.versions) } : undefined;
}

export function apiResourceList(registry: ResourceRegistry, group: string, version: string): JsonObject | undefined {
  const types = registry.typesIn(group, version);
  if (types.length === 0 && !(group === '' && version === 'v1')) return undefined;
  const resources: JsonObject[] = [];
  for (const { type, version: served } of types) {
    const entry: JsonObject = { name: type.resource, singularName: type.singular, namespaced: type.namespaced, kind: type.kind, verbs: ALL_VERBS };
    if (type.shortNames.length) entry.shortNames = type.shortNames;
    if (type.categories.length) entry.categories = type.categories;
    resources.push(entry);
    if (served.hasStatus) {
      resources.push({ name: `${type.resource}/status`, singularName: '', namespaced: type.namespaced, kind: type.kind, verbs: STATUS_VERBS });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf(group, version), resources };
}

function discoveryResource({ type, version }: ResolvedType): JsonObject {
  const responseKind = { group: type.group, version: version.name, kind: type.kind };
  const resource: JsonObject = {
    resource: type.resource,
    responseKind,
    scope: type.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: type.singular,
    verbs: ALL_VERBS,
  };
  if (type.shortNames.length) resource.shortNames = type.shortNames;
  if (type.categories.length) resource.categories = type.categories;
  if (version.hasStatus) resource.subresources = [{ subresource: 'status', responseKind, verbs: STATUS_VERBS }];
  return resource;
}

function discoveryGroup(registry: ResourceRegistry, name: string, versions: string[]): JsonObject {
  return {
    metadata: { name, creationTimestamp: null },
    versions: versions.map((version) => ({
      version,
      resources: registry.typesIn(name, version).map(discoveryResource),
      freshness: 'Current',
    })),
  };
}

/** `/api` gives the core group only, `/apis` every named group. */
export function aggregatedDiscovery(registry: ResourceRegistry, core: boolean, version: 'v2' | 'v2beta1'): JsonObject {
  const items = core ? [discoveryGroup(registry, '', ['v1'])] : registry.groups().map((group) => discoveryGroup(registry, group.name, group.versions));
  return { kind: 'APIGroupDiscoveryList', apiVersion: `apidiscovery.k8s.io/${version}`, metadata: {}, items };
}
