import { isRecord } from '../api/fields.js';
import type { JsonObject } from './rest-client.js';

/** What client-node's ListWatch reads of the objects it caches: where one is, and its version. */
const IDENTITY = ['name', 'namespace', 'uid', 'resourceVersion'] as const;

/**
 * Empties a delivered object in place down to its identity. client-node's ListWatch keeps every
 * object it delivers (the very object handed to the informer's handlers), but only ever reads its
 * name, namespace and resourceVersion again (to tell an update from a repeat, and to report a
 * deletion); once the store has parsed an object it keeps no reference to, the rest is garbage.
 */
export function hollowInPlace(object: JsonObject): void {
  const meta = isRecord(object.metadata) ? object.metadata : {};
  const identity: JsonObject = {};
  for (const k of IDENTITY) if (meta[k] !== undefined) identity[k] = meta[k];
  for (const k of Object.keys(object)) if (k !== 'apiVersion' && k !== 'kind') delete object[k];
  object.metadata = identity;
}
