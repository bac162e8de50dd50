import { EgressError } from '../errors.js';
import { isAlreadyExists, isConflict, isNotFound } from '../kube/api-error.js';
import type { JsonObject, KubeClient } from '../kube/rest-client.js';
import { objectKey, resourcePath } from '../kube/resource.js';
import { RESOURCES, watchSourceOf, type StoreKind } from './kinds.js';
import type { ClusterStore } from './store.js';
import { sameContent } from '../kube/normalize.js';
import { isRecord } from '../api/fields.js';

export type WriteOutcome = 'unchanged' | 'updated' | 'created' | 'deleted' | 'gone' | 'exists';

export interface WriteResult {
  readonly outcome: WriteOutcome;
  /** The object before the write (or as found when unchanged). */
  readonly before?: JsonObject;
  readonly after?: JsonObject;
}

const MAX_CONFLICTS = 5;

function metaOf(object: JsonObject): { namespace: string; name: string } {
  const meta = isRecord(object.metadata) ? object.metadata : {};
  return { namespace: typeof meta.namespace === 'string' ? meta.namespace : '', name: typeof meta.name === 'string' ? meta.name : '' };
}

/**
 * Writes our objects with the fewest requests. It compares against the stored object and does
 * nothing when the normalized content is unchanged; otherwise get-modify-replace, retrying on
 * 409 Conflict with a fresh GET. Every answer is fed back into the store at once (the watch
 * would deliver it a moment later), so the next reconcile never works from what it replaced.
 */
export class ObjectWriter {
  constructor(
    private readonly client: KubeClient,
    private readonly store: ClusterStore,
  ) {}

  current(kind: StoreKind, key: string): JsonObject | undefined {
    return this.store.get(kind, key)?.raw;
  }

  /** Replaces status with `desired(current)` when it differs (status subresource). */
  writeStatus(kind: StoreKind, key: string, desired: (current: JsonObject) => unknown, signal?: AbortSignal): Promise<WriteResult> {
    return this.modify(
      kind,
      key,
      'status',
      (current) => {
        const status = desired(current);
        return sameContent(current.status, status) ? undefined : { ...current, status };
      },
      signal,
    );
  }

  /** Replaces the whole object with `mutate(current)`; undefined means no change is needed. */
  update(kind: StoreKind, key: string, mutate: (current: JsonObject) => JsonObject | undefined, signal?: AbortSignal): Promise<WriteResult> {
    return this.modify(kind, key, undefined, mutate, signal);
  }

  /** Creates an object; one of the same name already there is not an error ('exists'). */
  async create(kind: StoreKind, body: JsonObject, signal?: AbortSignal): Promise<WriteResult> {
    const resource = RESOURCES[kind];
    const { namespace } = metaOf(body);
    try {
      const after = await this.client.create(resourcePath(resource, { namespace }), { apiVersion: resource.apiVersion, kind: resource.kind, ...body }, signal);
      this.feedBack(kind, after);
      return { outcome: 'created', after };
    } catch (err) {
      if (isAlreadyExists(err)) return { outcome: 'exists' };
      throw err;
    }
  }

  async delete(kind: StoreKind, key: string, signal?: AbortSignal): Promise<WriteResult> {
    const before = this.current(kind, key);
    if (!before) return { outcome: 'gone' };
    try {
      await this.client.delete(resourcePath(RESOURCES[kind], metaOf(before)), signal);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    this.store.remove(watchSourceOf(kind), kind, before);
    return { outcome: 'deleted', before };
  }

  private feedBack(kind: StoreKind, object: JsonObject): void {
    this.store.upsert(watchSourceOf(kind), kind, object, { ifNewer: true });
  }

  private async modify(
    kind: StoreKind,
    key: string,
    subresource: 'status' | undefined,
    mutate: (current: JsonObject) => JsonObject | undefined,
    signal?: AbortSignal,
  ): Promise<WriteResult> {
    const resource = RESOURCES[kind];
    let current = this.current(kind, key);
    if (!current) return { outcome: 'gone' };
    const path = resourcePath(resource, metaOf(current));
    for (let attempt = 0; attempt <= MAX_CONFLICTS; attempt++) {
      signal?.throwIfAborted();
      const body = mutate(current);
      if (!body) return { outcome: 'unchanged', before: current };
      try {
        const after = await this.client.replace(subresource ? `${path}/${subresource}` : path, body, signal);
        this.feedBack(kind, after);
        return { outcome: 'updated', before: current, after };
      } catch (err) {
        if (isNotFound(err)) {
          this.store.remove(watchSourceOf(kind), kind, current);
          return { outcome: 'gone', before: current };
        }
        if (!isConflict(err)) throw err;
      }
      try {
        // the subresource's own GET (the whole object): RBAC grants `get` on `x/status` to a status writer
        current = await this.client.get(subresource ? `${path}/${subresource}` : path, signal);
      } catch (err) {
        if (isNotFound(err)) {
          this.store.remove(watchSourceOf(kind), kind, current);
          return { outcome: 'gone' };
        }
        throw err;
      }
      this.feedBack(kind, current);
    }
    throw new EgressError('EGW_ERR_KUBE', `${resource.kind} ${objectKey(metaOf(current).namespace, metaOf(current).name)}: still conflicting after ${MAX_CONFLICTS} retries`);
  }
}
