/** POST, PUT, PATCH and DELETE on resources and their status subresource. */
import { badRequest } from './api-error.js';
import { parseBody, readBody, sendJson } from './http-io.js';
import { asJsonObject, asString, isJsonObject, type JsonObject } from './json.js';
import type { DeleteOptions } from './object-store.js';
import { isPretty, namespaceOfRequest, selectorsOf, writeOptionsOf, type ResourceRequest } from './request-context.js';
import { apiVersionOf } from './resource-type.js';

async function body(context: ResourceRequest) {
  return parseBody(await readBody(context.request), context.request.headers['content-type']);
}

export async function handleCreate(context: ResourceRequest): Promise<void> {
  const payload = await body(context);
  if (payload === undefined) throw badRequest('the request body is empty');
  const result = context.store.create(context.resolved, namespaceOfRequest(context), payload, writeOptionsOf(context));
  sendJson(context.response, 201, result.object, { warnings: result.warnings, pretty: isPretty(context) });
}

export async function handleUpdate(context: ResourceRequest, name: string, subresource: 'status' | undefined): Promise<void> {
  const payload = await body(context);
  if (payload === undefined) throw badRequest('the request body is empty');
  const options = { ...writeOptionsOf(context), subresource };
  const result = context.store.update(context.resolved, namespaceOfRequest(context), name, payload, options);
  sendJson(context.response, 200, result.object, { warnings: result.warnings, pretty: isPretty(context) });
}

export async function handlePatch(context: ResourceRequest, name: string, subresource: 'status' | undefined): Promise<void> {
  const payload = await body(context);
  if (payload === undefined) throw badRequest('the request body is empty');
  const contentType = context.request.headers['content-type'] ?? '';
  const options = { ...writeOptionsOf(context), subresource };
  const result = context.store.patch(context.resolved, namespaceOfRequest(context), name, contentType, payload, options);
  sendJson(context.response, 200, result.object, { warnings: result.warnings, pretty: isPretty(context) });
}

async function deleteOptionsOf(context: ResourceRequest): Promise<DeleteOptions> {
  const payload = await body(context);
  const options = isJsonObject(payload) ? payload : {};
  const params = context.url.searchParams;
  const preconditions = asJsonObject(options.preconditions);
  const dryRun = [...params.getAll('dryRun'), ...(Array.isArray(options.dryRun) ? options.dryRun : [])];
  return {
    dryRun: dryRun.includes('All'),
    propagationPolicy: params.get('propagationPolicy') ?? asString(options.propagationPolicy) ?? (options.orphanDependents === true ? 'Orphan' : undefined),
    preconditions: preconditions ? { uid: asString(preconditions.uid), resourceVersion: asString(preconditions.resourceVersion) } : undefined,
  };
}

function successStatus(context: ResourceRequest, object: JsonObject): JsonObject {
  const metadata = asJsonObject(object.metadata) ?? {};
  const { type } = context.resolved;
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    details: { name: metadata.name ?? '', group: type.group, kind: type.resource, uid: metadata.uid ?? '' },
  };
}

export async function handleDelete(context: ResourceRequest, name: string): Promise<void> {
  const options = await deleteOptionsOf(context);
  const result = context.store.delete(context.resolved, namespaceOfRequest(context), name, options);
  const payload = result.removed ? successStatus(context, result.object) : result.object;
  sendJson(context.response, 200, payload, { pretty: isPretty(context) });
}

export async function handleDeleteCollection(context: ResourceRequest): Promise<void> {
  const options = await deleteOptionsOf(context);
  const { type, version } = context.resolved;
  const { items, resourceVersion } = context.store.list(context.resolved, context.target.namespace, selectorsOf(context));
  const deleted: JsonObject[] = [];
  for (const item of items) {
    const metadata = asJsonObject(item.metadata) ?? {};
    try {
      deleted.push(context.store.delete(context.resolved, asString(metadata.namespace) ?? '', asString(metadata.name) ?? '', options).object);
    } catch {
      // Removed meanwhile by a cascade; nothing left to delete.
    }
  }
  const list = { kind: type.listKind, apiVersion: apiVersionOf(type.group, version.name), metadata: { resourceVersion }, items: deleted };
  sendJson(context.response, 200, list, { pretty: isPretty(context) });
}
