/**
 * The in-process face of the store for tests and the lab: objects are addressed by apiVersion and kind, and
 * every call follows the same rules as the HTTP API (validation, resourceVersion, status subresource).
 */
import { ApiError } from './api-error.js';
import { parseFieldSelector } from './field-selector.js';
import { asJsonObject, asString, type Json, type JsonObject } from './json.js';
import { parseLabelSelector } from './label-selector.js';
import type { ObjectStore, WriteOptions } from './object-store.js';
import type { Selectors } from './object-view.js';
import type { PatchType } from './patch.js';
import type { ResourceRegistry, ResolvedType } from './resource-registry.js';

const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
};

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export interface PatchOptions extends WriteOptions {
  namespace?: string;
  type?: PatchType;
  subresource?: 'status';
}

function metadataOf(object: JsonObject): JsonObject {
  return asJsonObject(object.metadata) ?? {};
}

export class ClusterStore {
  constructor(
    private readonly store: ObjectStore,
    private readonly registry: ResourceRegistry,
  ) {}

  /** The latest resourceVersion handed out. */
  get resourceVersion(): number {
    return this.store.resourceVersion;
  }

  private resolve(apiVersion: string, kind: string): ResolvedType {
    const resolved = this.registry.resolveKind(apiVersion, kind);
    if (!resolved) {
      throw new ApiError('APISRV_ERR_NOT_FOUND', 404, 'NotFound', `no matches for kind "${kind}" in version "${apiVersion}"`);
    }
    return resolved;
  }

  private resolveObject(object: JsonObject): ResolvedType {
    return this.resolve(asString(object.apiVersion) ?? '', asString(object.kind) ?? '');
  }

  create(object: JsonObject, options: WriteOptions = {}): JsonObject {
    const resolved = this.resolveObject(object);
    return this.store.create(resolved, asString(metadataOf(object).namespace) ?? '', object, options).object;
  }

  get(apiVersion: string, kind: string, name: string, namespace = ''): JsonObject {
    return this.store.get(this.resolve(apiVersion, kind), namespace, name);
  }

  find(apiVersion: string, kind: string, name: string, namespace = ''): JsonObject | undefined {
    try {
      return this.get(apiVersion, kind, name, namespace);
    } catch (error) {
      if (error instanceof ApiError && error.httpStatus === 404) return undefined;
      throw error;
    }
  }

  list(apiVersion: string, kind: string, options: ListOptions = {}): JsonObject[] {
    const resolved = this.resolve(apiVersion, kind);
    const selectors: Selectors = {};
    if (options.labelSelector) selectors.labels = parseLabelSelector(options.labelSelector);
    if (options.fieldSelector) selectors.fields = parseFieldSelector(options.fieldSelector, resolved.type.selectableFields);
    return this.store.list(resolved, options.namespace, selectors).items;
  }

  /** PUT semantics: a stale metadata.resourceVersion is a 409 Conflict. */
  update(object: JsonObject, options: WriteOptions = {}): JsonObject {
    const metadata = metadataOf(object);
    return this.store.update(this.resolveObject(object), asString(metadata.namespace) ?? '', asString(metadata.name) ?? '', object, options).object;
  }

  updateStatus(object: JsonObject, options: WriteOptions = {}): JsonObject {
    const metadata = metadataOf(object);
    const resolved = this.resolveObject(object);
    return this.store.update(resolved, asString(metadata.namespace) ?? '', asString(metadata.name) ?? '', object, { ...options, subresource: 'status' }).object;
  }

  patch(apiVersion: string, kind: string, name: string, patch: Json, options: PatchOptions = {}): JsonObject {
    const contentType = PATCH_CONTENT_TYPES[options.type ?? 'merge'];
    return this.store.patch(this.resolve(apiVersion, kind), options.namespace ?? '', name, contentType, patch, options).object;
  }

  /** Returns false when finalizers keep the object (it then has a deletionTimestamp). */
  delete(apiVersion: string, kind: string, name: string, namespace = '', propagationPolicy?: string): boolean {
    return this.store.delete(this.resolve(apiVersion, kind), namespace, name, { propagationPolicy }).removed;
  }

  /** Creates the object, or replaces the stored one (spec and status) when it exists: handy for seeding. */
  apply(object: JsonObject): JsonObject {
    const metadata = metadataOf(object);
    const name = asString(metadata.name) ?? '';
    const namespace = asString(metadata.namespace) ?? '';
    const existing = name ? this.find(asString(object.apiVersion) ?? '', asString(object.kind) ?? '', name, namespace) : undefined;
    if (!existing) {
      const created = this.create(object);
      return object.status === undefined ? created : this.updateStatus({ ...created, status: object.status });
    }
    const resourceVersion = metadataOf(existing).resourceVersion ?? null;
    const replaced = this.update({ ...object, metadata: { ...metadata, resourceVersion } });
    return object.status === undefined ? replaced : this.updateStatus({ ...replaced, status: object.status });
  }

  /** Polls until `predicate` holds for the object (undefined while it does not exist); rejects after timeoutMs. */
  async waitFor(
    apiVersion: string,
    kind: string,
    name: string,
    namespace: string,
    predicate: (object: JsonObject | undefined) => boolean,
    timeoutMs = 5000,
  ): Promise<JsonObject | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const object = this.find(apiVersion, kind, name, namespace);
      if (predicate(object)) return object;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${kind} ${namespace ? `${namespace}/` : ''}${name}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}
