/**
 * The object store: CRUD with a global monotonic resourceVersion, optimistic concurrency, status
 * subresource rules, generation, finalizers and validation. Everything is synchronous, so a list followed
 * by a watch subscription can never miss an event in between.
 */
import { randomUUID } from 'node:crypto';
import { alreadyExists, ApiError, badRequest, conflict, forbidden, notFound } from './api-error.js';
import { invalid, invalidObject, type FieldError } from './field-error.js';
import { JsonPatchError } from './json-patch.js';
import { asJsonObject, asString, isJsonObject, type Json, type JsonObject } from './json.js';
import { generateName, metadataOf, nameOf, namespaceOf, nowTimestamp, validateObjectMeta } from './object-meta.js';
import { matchesSelectors, presentAs, type Selectors } from './object-view.js';
import { ListSnapshots, type PageRequest, type ResourceSnapshot } from './list-pages.js';
import { applyPatch, patchTypeOf } from './patch.js';
import type { ResourceRegistry, ResolvedType } from './resource-registry.js';
import { apiVersionOf, resourceKey, type FieldValidation, type ResourceType } from './resource-type.js';
import type { WatchEventType } from './watch-hub.js';
import { bumpGenerationIfSpecChanged, carryOverMetadata, finalizersOf, isNoopUpdate, keepStoredStatus, resetServerManagedMetadata, statusOnlyUpdate } from './write-rules.js';

export interface WriteOptions {
  dryRun?: boolean;
  /** What to do with fields the schema does not know; the real server's default is Warn. */
  fieldValidation?: FieldValidation;
}

export interface WriteResult {
  object: JsonObject;
  warnings: string[];
}

export interface DeleteOptions {
  dryRun?: boolean;
  propagationPolicy?: string;
  preconditions?: { uid?: string; resourceVersion?: string };
}

export interface DeleteResult {
  object: JsonObject;
  /** False while finalizers hold the object (it then carries deletionTimestamp). */
  removed: boolean;
}

export interface StoreChange {
  resource: string;
  type: WatchEventType;
  resourceVersion: number;
  object: JsonObject;
  previous?: JsonObject;
  propagationPolicy?: string;
}

export type StoreListener = (change: StoreChange) => void;

export interface StoreSnapshot {
  resourceVersion: number;
  objects: JsonObject[];
}

type Subresource = 'status' | undefined;

function objectKey(namespace: string, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

export class ObjectStore {
  private readonly objects = new Map<string, Map<string, JsonObject>>();
  private readonly uids = new Map<string, { resource: string; key: string }>();
  private readonly listeners: StoreListener[] = [];
  private lastResourceVersion = 0;
  /** Revisions paged lists started at (compacted with the watch history). */
  readonly listSnapshots: ListSnapshots;

  constructor(
    readonly registry: ResourceRegistry,
    listSnapshotTtlMs?: number,
  ) {
    this.listSnapshots = new ListSnapshots(listSnapshotTtlMs);
  }

  get resourceVersion(): number {
    return this.lastResourceVersion;
  }

  onChange(listener: StoreListener): void {
    this.listeners.push(listener);
  }

  private bucket(resource: string): Map<string, JsonObject> {
    let bucket = this.objects.get(resource);
    if (!bucket) {
      bucket = new Map();
      this.objects.set(resource, bucket);
    }
    return bucket;
  }

  private requireExisting(type: ResourceType, namespace: string, name: string): JsonObject {
    const existing = this.bucket(resourceKey(type)).get(objectKey(namespace, name));
    if (!existing) throw notFound(type, name);
    return existing;
  }

  /** Raw stored objects of one resource, sorted by namespace/name (etcd key order). */
  storedObjects(resource: string): JsonObject[] {
    return [...this.snapshotOf(resource).objects];
  }

  /** The resource as it is now: keys and stored objects in key order (objects are replaced, never changed in place). */
  snapshotOf(resource: string): ResourceSnapshot {
    const keys = [...this.bucket(resource).keys()].sort();
    const bucket = this.bucket(resource);
    return { resourceVersion: this.lastResourceVersion, keys, objects: keys.map((key) => bucket.get(key)!) };
  }

  findByUid(uid: string): JsonObject | undefined {
    const location = this.uids.get(uid);
    return location ? this.objects.get(location.resource)?.get(location.key) : undefined;
  }

  namespaceExists(namespace: string): boolean {
    return this.bucket('namespaces').has(namespace);
  }

  get({ type, version }: ResolvedType, namespace: string, name: string): JsonObject {
    return presentAs(type, version.name, this.requireExisting(type, namespace, name));
  }

  list({ type, version }: ResolvedType, namespace: string | undefined, selectors: Selectors): { items: JsonObject[]; resourceVersion: string } {
    const items = this.storedObjects(resourceKey(type))
      .filter((object) => !namespace || namespaceOf(object) === namespace)
      .filter((object) => matchesSelectors(object, selectors))
      .map((object) => presentAs(type, version.name, object));
    return { items, resourceVersion: String(this.lastResourceVersion) };
  }

  /** One page of a list (all of it without `limit`), read at the revision its first page was read at. */
  listPage({ type, version }: ResolvedType, request: PageRequest): { items: JsonObject[]; resourceVersion: string; continueToken?: string; remainingItemCount?: number } {
    const resource = resourceKey(type);
    const page = this.listSnapshots.page(resource, request, () => this.snapshotOf(resource));
    return { ...page, items: page.items.map((object) => presentAs(type, version.name, object)), resourceVersion: String(page.resourceVersion) };
  }

  private commit(type: ResourceType, change: Omit<StoreChange, 'resource' | 'resourceVersion'>): JsonObject {
    const resource = resourceKey(type);
    this.lastResourceVersion += 1;
    const object = change.object;
    metadataOf(object).resourceVersion = String(this.lastResourceVersion);
    const key = objectKey(namespaceOf(object), nameOf(object));
    const uid = asString(metadataOf(object).uid) ?? '';
    if (change.type === 'DELETED') {
      this.bucket(resource).delete(key);
      this.uids.delete(uid);
    } else {
      this.bucket(resource).set(key, object);
      this.uids.set(uid, { resource, key });
    }
    const full: StoreChange = { ...change, resource, resourceVersion: this.lastResourceVersion };
    for (const listener of this.listeners) listener(full);
    return object;
  }

  private checkTypeMeta({ type, version }: ResolvedType, body: JsonObject): void {
    const expectedApiVersion = apiVersionOf(type.group, version.name);
    if (body.apiVersion !== undefined && body.apiVersion !== expectedApiVersion) {
      throw badRequest(`the API version in the data (${String(body.apiVersion)}) does not match the expected API version (${expectedApiVersion})`);
    }
    if (body.kind !== undefined && body.kind !== type.kind) {
      throw badRequest(`the kind in the data (${String(body.kind)}) does not match the expected kind (${type.kind})`);
    }
  }

  private validate(resolved: ResolvedType, object: JsonObject, old: JsonObject | undefined, options: WriteOptions): string[] {
    const { type, version } = resolved;
    const fieldValidation = options.fieldValidation ?? 'Warn';
    const errors: FieldError[] = validateObjectMeta(object, type);
    const outcome = type.validate?.(object, { version: version.name, old, fieldValidation });
    const unknown = outcome?.unknownFields ?? [];
    if (unknown.length > 0 && fieldValidation === 'Strict') {
      const fields = unknown.map((field) => `unknown field "${field}"`).join(', ');
      throw badRequest(`${type.kind} in version "${version.name}" cannot be handled as a ${type.kind}: strict decoding error: ${fields}`);
    }
    errors.push(...(outcome?.errors ?? []));
    if (errors.length > 0) throw invalidObject(type.kind, type.group, nameOf(object), errors);
    return fieldValidation === 'Warn' ? unknown.map((field) => `unknown field "${field}"`) : [];
  }

  private requireNamespace(type: ResourceType, namespace: string, name: string): void {
    if (!type.namespaced) return;
    const namespaceObject = this.bucket('namespaces').get(namespace);
    if (!namespaceObject) throw notFound({ group: '', resource: 'namespaces' }, namespace);
    if (metadataOf(namespaceObject).deletionTimestamp) {
      throw forbidden(type, name, `unable to create new content in namespace ${namespace} because it is being terminated`);
    }
  }

  create(resolved: ResolvedType, namespace: string, body: Json, options: WriteOptions = {}): WriteResult {
    const { type, version } = resolved;
    if (!isJsonObject(body)) throw badRequest('the body of the request must be a JSON object');
    this.checkTypeMeta(resolved, body);
    const object = structuredClone(body);
    const metadata = metadataOf(object);
    if (type.namespaced) {
      if (metadata.namespace !== undefined && metadata.namespace !== '' && metadata.namespace !== namespace) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      metadata.namespace = namespace;
    } else {
      delete metadata.namespace;
    }
    if (!asString(metadata.name) && asString(metadata.generateName)) metadata.name = this.freshName(type, namespace, String(metadata.generateName));
    const name = asString(metadata.name) ?? '';
    resetServerManagedMetadata(object);
    if (version.hasStatus && !type.keepsStatusOnCreate) delete object.status;
    type.prepareForCreate?.(object);
    this.requireNamespace(type, namespace, name);
    const warnings = this.validate(resolved, object, undefined, options);
    if (this.bucket(resourceKey(type)).has(objectKey(namespace, name))) throw alreadyExists(type, name);
    metadata.uid = randomUUID();
    metadata.creationTimestamp = nowTimestamp();
    if (type.tracksGeneration) metadata.generation = 1;
    object.apiVersion = apiVersionOf(type.group, type.storageVersion);
    object.kind = type.kind;
    if (options.dryRun) return { object: presentAs(type, version.name, object), warnings };
    const stored = this.commit(type, { type: 'ADDED', object });
    return { object: presentAs(type, version.name, stored), warnings };
  }

  private freshName(type: ResourceType, namespace: string, base: string): string {
    for (let attempt = 0; attempt < 8; attempt += 1) {
      const candidate = generateName(base);
      if (!this.bucket(resourceKey(type)).has(objectKey(namespace, candidate))) return candidate;
    }
    throw alreadyExists(type, base);
  }

  /** PUT, on the object or on its status subresource. */
  update(resolved: ResolvedType, namespace: string, name: string, body: Json, options: WriteOptions & { subresource?: Subresource } = {}): WriteResult {
    const { type } = resolved;
    const existing = this.requireExisting(type, namespace, name);
    if (!isJsonObject(body)) throw badRequest('the body of the request must be a JSON object');
    const requestedVersion = asString(asJsonObject(body.metadata)?.resourceVersion) ?? '';
    if (!requestedVersion && !type.allowUnconditionalUpdate) {
      throw invalidObject(type.kind, type.group, name, [invalid('metadata.resourceVersion', 0, 'must be specified for an update')]);
    }
    return this.applyUpdate(resolved, existing, body, requestedVersion, options);
  }

  /** PATCH, on the object or on its status subresource. */
  patch(resolved: ResolvedType, namespace: string, name: string, contentType: string, patchBody: Json, options: WriteOptions & { subresource?: Subresource } = {}): WriteResult {
    const { type, version } = resolved;
    const patchType = patchTypeOf(contentType, type.origin === 'builtin');
    const existing = this.requireExisting(type, namespace, name);
    let patched: Json;
    try {
      patched = applyPatch(presentAs(type, version.name, existing), patchType, patchBody);
    } catch (error) {
      if (error instanceof JsonPatchError) throw new ApiError('APISRV_ERR_INVALID', 422, 'Invalid', error.message);
      throw error;
    }
    if (!isJsonObject(patched)) throw badRequest('the patched object must be a JSON object');
    const requestedVersion = asString(asJsonObject(patched.metadata)?.resourceVersion) ?? '';
    return this.applyUpdate(resolved, existing, patched, requestedVersion, options);
  }

  private applyUpdate(
    resolved: ResolvedType,
    existing: JsonObject,
    body: JsonObject,
    requestedVersion: string,
    options: WriteOptions & { subresource?: Subresource },
  ): WriteResult {
    const { type, version } = resolved;
    const name = nameOf(existing);
    const namespace = namespaceOf(existing);
    this.checkTypeMeta(resolved, body);
    const bodyMetadata = asJsonObject(body.metadata) ?? {};
    if (bodyMetadata.name !== name) {
      throw badRequest(`the name of the object (${String(bodyMetadata.name ?? '')}) does not match the name on the URL (${name})`);
    }
    if (type.namespaced && bodyMetadata.namespace !== undefined && bodyMetadata.namespace !== '' && bodyMetadata.namespace !== namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    if (requestedVersion && requestedVersion !== metadataOf(existing).resourceVersion) throw conflict(type, name);
    let object = structuredClone(body);
    if (options.subresource === 'status') {
      object = statusOnlyUpdate(object, existing);
    } else if (version.hasStatus) {
      keepStoredStatus(object, existing);
    }
    const metadataErrors = carryOverMetadata(object, existing);
    if (type.namespaced) metadataOf(object).namespace = namespace;
    if (metadataErrors.length > 0) throw invalidObject(type.kind, type.group, name, metadataErrors);
    object.apiVersion = apiVersionOf(type.group, type.storageVersion);
    object.kind = type.kind;
    type.prepareForUpdate?.(object, existing);
    const warnings = this.validate(resolved, object, existing, options);
    if (type.tracksGeneration) bumpGenerationIfSpecChanged(object, existing, version.hasStatus);
    const releasing = metadataOf(existing).deletionTimestamp !== undefined && finalizersOf(object).length === 0;
    if (!releasing && isNoopUpdate(object, existing)) return { object: presentAs(type, version.name, existing), warnings };
    if (options.dryRun) return { object: presentAs(type, version.name, object), warnings };
    const stored = this.commit(type, { type: releasing ? 'DELETED' : 'MODIFIED', object, previous: existing });
    return { object: presentAs(type, version.name, stored), warnings };
  }

  delete(resolved: ResolvedType, namespace: string, name: string, options: DeleteOptions = {}): DeleteResult {
    const { type, version } = resolved;
    const existing = this.requireExisting(type, namespace, name);
    const metadata = metadataOf(existing);
    const { uid, resourceVersion } = options.preconditions ?? {};
    if (uid && uid !== metadata.uid) {
      throw conflict(type, name, `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${String(metadata.uid)}`);
    }
    if (resourceVersion && resourceVersion !== metadata.resourceVersion) {
      throw conflict(type, name, `Precondition failed: ResourceVersion in precondition: ${resourceVersion}, ResourceVersion in object meta: ${String(metadata.resourceVersion)}`);
    }
    if (options.dryRun) return { object: presentAs(type, version.name, existing), removed: true };
    if (metadata.deletionTimestamp !== undefined) return { object: presentAs(type, version.name, existing), removed: false };
    if (finalizersOf(existing).length > 0) {
      const marked = structuredClone(existing);
      metadataOf(marked).deletionTimestamp = nowTimestamp();
      metadataOf(marked).deletionGracePeriodSeconds = 0;
      const stored = this.commit(type, { type: 'MODIFIED', object: marked, previous: existing });
      return { object: presentAs(type, version.name, stored), removed: false };
    }
    const removed = this.commit(type, {
      type: 'DELETED',
      object: structuredClone(existing),
      propagationPolicy: options.propagationPolicy,
    });
    return { object: presentAs(type, version.name, removed), removed: true };
  }

  /** Removes an object whatever its finalizers say (CRD cleanup, namespace teardown of the fake). */
  forceRemove(type: ResourceType, object: JsonObject): void {
    if (!this.bucket(resourceKey(type)).has(objectKey(namespaceOf(object), nameOf(object)))) return;
    this.commit(type, { type: 'DELETED', object: structuredClone(object) });
  }

  snapshot(): StoreSnapshot {
    const objects: JsonObject[] = [];
    for (const bucket of this.objects.values()) for (const object of bucket.values()) objects.push(structuredClone(object));
    return { resourceVersion: this.lastResourceVersion, objects };
  }

  /**
   * Loads objects saved by snapshot() without validation or events. `resolveType` maps a stored object to
   * its type; objects of unknown types are returned so the caller can retry once their CRD is registered.
   */
  restore(objects: JsonObject[], resourceVersion: number, resolveType: (object: JsonObject) => ResourceType | undefined): JsonObject[] {
    const pending: JsonObject[] = [];
    for (const object of objects) {
      const type = resolveType(object);
      if (!type) {
        pending.push(object);
        continue;
      }
      const resource = resourceKey(type);
      const key = objectKey(namespaceOf(object), nameOf(object));
      this.bucket(resource).set(key, structuredClone(object));
      this.uids.set(asString(metadataOf(object).uid) ?? '', { resource, key });
    }
    this.lastResourceVersion = Math.max(this.lastResourceVersion, resourceVersion);
    return pending;
  }
}
