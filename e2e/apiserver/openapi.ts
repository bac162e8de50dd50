/**
 * Minimal OpenAPI v3 documents. kubectl needs a PATCH operation per kind that lists the fieldValidation query
 * parameter and carries x-kubernetes-group-version-kind; then it validates on the server (fieldValidation=Strict).
 * PATCH operations have no requestBody on purpose: advertising strategic merge patch there would make kubectl
 * compute strategic patches for custom resources from these documents.
 */
import { createHash } from 'node:crypto';
import type { JsonObject } from './json.js';
import type { ResourceRegistry, ResolvedType } from './resource-registry.js';
import { apiVersionOf } from './resource-type.js';

const QUERY_PARAMETERS = ['dryRun', 'fieldManager', 'fieldValidation', 'force'].map((name) => ({
  name,
  in: 'query',
  schema: { type: name === 'force' ? 'boolean' : 'string', uniqueItems: true },
}));

function schemaName(group: string, version: string, kind: string): string {
  const reversedGroup = group ? group.split('.').reverse().join('.') : 'io.k8s.api.core';
  return `${reversedGroup}.${version}.${kind}`;
}

function gvkOf({ type, version }: ResolvedType): JsonObject {
  return { group: type.group, version: version.name, kind: type.kind };
}

function itemPaths(resolved: ResolvedType, prefix: string): Record<string, JsonObject> {
  const { type, version } = resolved;
  const scope = type.namespaced ? 'Namespaced' : '';
  const base = type.namespaced ? `${prefix}/namespaces/{namespace}/${type.resource}` : `${prefix}/${type.resource}`;
  const gvk = gvkOf(resolved);
  const operation = (action: string, verb: string): JsonObject => ({
    operationId: `${verb}${scope}${type.kind}`,
    parameters: verb === 'patch' ? QUERY_PARAMETERS : [],
    responses: { '200': { description: 'OK' } },
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': gvk,
  });
  const paths: Record<string, JsonObject> = {
    [base]: { get: operation('list', 'list'), post: operation('post', 'create') },
    [`${base}/{name}`]: {
      get: operation('get', 'read'),
      put: operation('put', 'replace'),
      patch: operation('patch', 'patch'),
      delete: operation('delete', 'delete'),
    },
  };
  if (version.hasStatus) {
    paths[`${base}/{name}/status`] = { get: operation('get', 'read'), put: operation('put', 'replace'), patch: operation('patch', 'patch') };
  }
  return paths;
}

export function groupVersionDocument(registry: ResourceRegistry, group: string, version: string): JsonObject | undefined {
  const types = registry.typesIn(group, version);
  if (types.length === 0) return undefined;
  const prefix = group ? `/apis/${group}/${version}` : `/api/${version}`;
  const paths: JsonObject = {};
  const schemas: JsonObject = {};
  for (const resolved of types) {
    Object.assign(paths, itemPaths(resolved, prefix));
    if (resolved.version.schema) {
      schemas[schemaName(group, version, resolved.type.kind)] = {
        ...resolved.version.schema,
        'x-kubernetes-group-version-kind': [gvkOf(resolved)],
      };
    }
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.32.0' }, paths, components: { schemas } };
}

function documentHash(document: JsonObject): string {
  return createHash('sha512').update(JSON.stringify(document)).digest('hex').toUpperCase().slice(0, 128);
}

export function openApiRoot(registry: ResourceRegistry): JsonObject {
  const paths: JsonObject = {};
  const groupVersions: Array<[string, string]> = [['', 'v1'], ...registry.groups().flatMap((group) => group.versions.map((version): [string, string] => [group.name, version]))];
  for (const [group, version] of groupVersions) {
    const document = groupVersionDocument(registry, group, version);
    if (!document) continue;
    const key = group ? `apis/${apiVersionOf(group, version)}` : `api/${version}`;
    paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${documentHash(document)}` };
  }
  return { paths };
}
