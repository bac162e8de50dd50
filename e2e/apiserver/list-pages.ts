/**
 * Paged lists (`limit` and `continue`) served the way a real API server serves them from etcd:
 * - every page of one list is read at the revision of its first page, so pages are consistent with each
 *   other and each carries that revision as metadata.resourceVersion (a client watches from it);
 * - the continue token names that revision and the key to start after (`{"v","rv","start"}` in base64url,
 *   the real encoding), so an object deleted between pages shifts nothing;
 * - with a label or field selector a page holds at most `limit` matches, and a token may lead to an empty last
 *   page; remainingItemCount is only given without selectors (it would count non-matching keys);
 * - a token whose revision was compacted away is a 410 Expired Status carrying a token for the inconsistent
 *   remainder (revision -1: the rest read at the latest revision).
 * The fake keeps the revision a paged list started at as a sorted copy of the store's references (stored
 * objects are replaced, never changed in place). Copies live five minutes (etcd's default compaction
 * interval), at most MAX_KEPT of them, and compaction (the test hook) drops them all.
 */
import { ApiError, badRequest, expired } from './api-error.js';
import type { JsonObject } from './json.js';
import { matchesSelectors, type Selectors } from './object-view.js';

const TOKEN_VERSION = 'meta.k8s.io/v1';
const MAX_KEPT = 64;
export const DEFAULT_LIST_SNAPSHOT_TTL_MS = 300_000;

const INCONSISTENT_CONTINUE =
  'The provided continue parameter is too old to display a consistent list result. You can start a new list without ' +
  'the continue parameter, or use the continue token in this response to retrieve the remainder of the results. ' +
  'Continuing with the provided token results in an inconsistent list - objects that were created, modified, or ' +
  'deleted between the time the first chunk was returned and now may show up in the list.';

/** One resource's objects at one revision, sorted by key (namespace/name), as etcd keeps them. */
export interface ResourceSnapshot {
  readonly resourceVersion: number;
  readonly keys: readonly string[];
  readonly objects: readonly JsonObject[];
}

export interface PageRequest {
  /** Namespace of a namespaced list; undefined lists every namespace. */
  readonly namespace: string | undefined;
  readonly selectors: Selectors;
  /** Query parameters as sent (null when absent). */
  readonly limit: string | null;
  readonly continueToken: string | null;
  readonly resourceVersion: string | null;
}

export interface ListPage {
  /** Stored objects (the caller presents them). */
  readonly items: JsonObject[];
  readonly resourceVersion: number;
  readonly continueToken?: string;
  readonly remainingItemCount?: number;
}

interface ContinueToken {
  readonly resourceVersion: number;
  readonly startKey: string;
}

export function encodeContinue(resourceVersion: number, startKey: string): string {
  return Buffer.from(JSON.stringify({ v: TOKEN_VERSION, rv: resourceVersion, start: startKey })).toString('base64url');
}

function decodeContinue(token: string): ContinueToken {
  const invalid = (why: string) => badRequest(`invalid continue token: continue key is not valid: ${why}`);
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw invalid('not base64-encoded JSON');
  }
  const fields = decoded as { v?: unknown; rv?: unknown; start?: unknown } | null;
  if (typeof fields !== 'object' || fields === null || fields.v !== TOKEN_VERSION) throw invalid(`server does not recognize this encoded key (${String(fields?.v)})`);
  if (typeof fields.rv !== 'number' || !Number.isInteger(fields.rv) || fields.rv === 0 || fields.rv < -1) throw invalid('incorrect encoded start resourceVersion');
  if (typeof fields.start !== 'string' || fields.start === '') throw invalid('encoded start key empty');
  return { resourceVersion: fields.rv, startKey: fields.start };
}

function parseLimit(value: string | null): number {
  if (value === null || value === '') return 0;
  const limit = Number(value);
  if (!Number.isInteger(limit)) throw badRequest(`invalid limit: ${value}`);
  // the real server treats zero and negative limits as "no limit"
  return Math.max(0, limit);
}

/** First index whose key is >= `key` in a sorted array. */
function lowerBound(keys: readonly string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Revisions that paged lists started at, per resource, until they are compacted. */
export class ListSnapshots {
  readonly #kept = new Map<string, { snapshot: ResourceSnapshot; takenAt: number }>();

  constructor(private readonly ttlMs = DEFAULT_LIST_SNAPSHOT_TTL_MS) {}

  /** Forgets every kept revision: tokens naming one now get 410 (compaction, restart). */
  compact(): void {
    this.#kept.clear();
  }

  /**
   * Serves one page. `current` takes the resource's snapshot at the latest revision; it is only called
   * when the request needs it (a first page, or a token for the inconsistent remainder).
   */
  page(resource: string, request: PageRequest, current: () => ResourceSnapshot): ListPage {
    const limit = parseLimit(request.limit);
    let snapshot: ResourceSnapshot;
    let startKey = '';
    if (request.continueToken) {
      const token = decodeContinue(request.continueToken);
      if (request.resourceVersion && request.resourceVersion !== '0') throw badRequest('specifying resource version is not allowed when using continue');
      startKey = token.startKey;
      const kept = token.resourceVersion === -1 ? undefined : this.#find(resource, token.resourceVersion);
      if (token.resourceVersion === -1) snapshot = current();
      else if (kept) snapshot = kept;
      else throw inconsistentContinue(token.startKey);
    } else {
      snapshot = current();
    }
    const { keys, objects } = snapshot;
    const prefix = request.namespace ? `${request.namespace}/` : '';
    // '0' follows '/': every key of the namespace sorts below `${namespace}0`
    const end = prefix ? lowerBound(keys, `${request.namespace}0`) : keys.length;
    let index = Math.max(lowerBound(keys, startKey), prefix ? lowerBound(keys, prefix) : 0);
    const filtered = Boolean(request.selectors.labels || request.selectors.fields);
    const items: JsonObject[] = [];
    let lastKey = '';
    while (index < end && (limit === 0 || items.length < limit)) {
      const object = objects[index]!;
      if (!filtered || matchesSelectors(object, request.selectors)) {
        items.push(object);
        lastKey = keys[index]!;
      }
      index++;
    }
    if (limit === 0 || index >= end) return { items, resourceVersion: snapshot.resourceVersion };
    this.#keep(resource, snapshot);
    return {
      items,
      resourceVersion: snapshot.resourceVersion,
      continueToken: encodeContinue(snapshot.resourceVersion, `${lastKey}\u0000`),
      ...(filtered ? {} : { remainingItemCount: end - index }),
    };
  }

  #find(resource: string, resourceVersion: number): ResourceSnapshot | undefined {
    this.#expire();
    return this.#kept.get(`${resource}@${resourceVersion}`)?.snapshot;
  }

  #keep(resource: string, snapshot: ResourceSnapshot): void {
    this.#expire();
    const key = `${resource}@${snapshot.resourceVersion}`;
    if (this.#kept.has(key)) return;
    this.#kept.set(key, { snapshot, takenAt: Date.now() });
    // the oldest go first, as with compaction
    for (const oldest of this.#kept.keys()) {
      if (this.#kept.size <= MAX_KEPT) break;
      this.#kept.delete(oldest);
    }
  }

  #expire(): void {
    const cutoff = Date.now() - this.ttlMs;
    for (const [key, { takenAt }] of this.#kept) if (takenAt < cutoff) this.#kept.delete(key);
  }
}

function inconsistentContinue(startKey: string): ApiError {
  const error = expired(INCONSISTENT_CONTINUE);
  error.listMeta = { continue: encodeContinue(-1, startKey) };
  return error;
}
