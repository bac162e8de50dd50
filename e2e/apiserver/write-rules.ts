/** Metadata and status rules shared by create, update and patch (the generic parts of the real strategies). */
import { invalid, type FieldError } from './field-error.js';
import { asJsonObject, asString, deepEqual, type JsonObject } from './json.js';
import { metadataOf } from './object-meta.js';

const SERVER_MANAGED_ON_CREATE = ['uid', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation', 'selfLink', 'managedFields'];

export function resetServerManagedMetadata(object: JsonObject): void {
  const metadata = metadataOf(object);
  for (const field of SERVER_MANAGED_ON_CREATE) delete metadata[field];
}

/** Keeps the fields a client may not change on update; returns errors for an attempted uid change. */
export function carryOverMetadata(object: JsonObject, old: JsonObject): FieldError[] {
  const metadata = metadataOf(object);
  const oldMetadata = metadataOf(old);
  const errors: FieldError[] = [];
  const uid = asString(metadata.uid);
  if (uid && uid !== oldMetadata.uid) errors.push(invalid('metadata.uid', uid, 'field is immutable'));
  for (const field of ['uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation', 'resourceVersion']) {
    if (oldMetadata[field] === undefined) delete metadata[field];
    else metadata[field] = oldMetadata[field];
  }
  delete metadata.managedFields;
  return errors;
}

/** A status-subresource write changes status only; everything else comes from the stored object. */
export function statusOnlyUpdate(requested: JsonObject, old: JsonObject): JsonObject {
  const result = structuredClone(old);
  if (requested.status === undefined) delete result.status;
  else result.status = structuredClone(requested.status);
  return result;
}

/** A main-resource write of a kind with a status subresource keeps the stored status. */
export function keepStoredStatus(object: JsonObject, old: JsonObject): void {
  if (old.status === undefined) delete object.status;
  else object.status = structuredClone(old.status);
}

function withoutMetadata(object: JsonObject, ignoreStatus: boolean): JsonObject {
  const rest: JsonObject = { ...object };
  delete rest.metadata;
  delete rest.apiVersion;
  delete rest.kind;
  if (ignoreStatus) delete rest.status;
  return rest;
}

/** Generation moves when anything but metadata (and status, with a status subresource) changed. */
export function bumpGenerationIfSpecChanged(object: JsonObject, old: JsonObject, hasStatus: boolean): void {
  if (deepEqual(withoutMetadata(object, hasStatus), withoutMetadata(old, hasStatus))) return;
  const metadata = metadataOf(object);
  const generation = asJsonObject(old.metadata)?.generation;
  metadata.generation = (typeof generation === 'number' ? generation : 0) + 1;
}

/** A write that changes nothing is not stored and keeps its resourceVersion, like etcd's no-op updates. */
export function isNoopUpdate(object: JsonObject, old: JsonObject): boolean {
  const strip = (value: JsonObject): JsonObject => {
    const copy: JsonObject = { ...value, metadata: { ...metadataOf(value) } };
    delete (copy.metadata as JsonObject).resourceVersion;
    delete copy.apiVersion;
    delete copy.kind;
    return copy;
  };
  return deepEqual(strip(object), strip(old));
}

export function finalizersOf(object: JsonObject): string[] {
  const finalizers = metadataOf(object).finalizers;
  return Array.isArray(finalizers) ? finalizers.filter((item): item is string => typeof item === 'string') : [];
}
