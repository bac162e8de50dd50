/**
 * Strategic merge patch for the built-in kinds, reduced to what kubectl sends: lists of objects that have a
 * patch merge key in the Kubernetes API are merged by that key, `metadata.finalizers` is merged as a set,
 * every other list is replaced. Directives `$patch`, `$retainKeys`, `$setElementOrder/` and
 * `$deleteFromPrimitiveList/` are honoured.
 */
import { deepClone, deepEqual, isJsonObject, type Json, type JsonObject } from './json.js';

const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  volumes: 'name',
  env: 'name',
  imagePullSecrets: 'name',
  resourceClaims: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  conditions: 'type',
  addresses: 'type',
  ownerReferences: 'uid',
  taints: 'key',
  hostAliases: 'ip',
  podIPs: 'ip',
  hostIPs: 'ip',
};

const PRIMITIVE_SET_LISTS = new Set(['finalizers']);

function mergeKeyFor(path: string[], field: string): string | undefined {
  if (field === 'ports') return path.some((segment) => segment.endsWith('ontainers')) ? 'containerPort' : 'port';
  return MERGE_KEYS[field];
}

export function applyStrategicMergePatch(original: Json | undefined, patch: Json): Json {
  return mergeValue(original, patch, []) ?? null;
}

function mergeValue(original: Json | undefined, patch: Json, path: string[]): Json | undefined {
  if (!isJsonObject(patch)) return deepClone(patch);
  const directive = patch.$patch;
  if (directive === 'delete') return undefined;
  if (directive === 'replace') return withoutDirectives(patch);
  const result: JsonObject = isJsonObject(original) ? { ...original } : {};
  const retainKeys = Array.isArray(patch.$retainKeys) ? patch.$retainKeys : undefined;
  for (const [key, value] of Object.entries(patch)) {
    if (key === '$patch' || key === '$retainKeys' || key.startsWith('$setElementOrder/')) continue;
    if (key.startsWith('$deleteFromPrimitiveList/')) {
      const field = key.slice('$deleteFromPrimitiveList/'.length);
      const current = result[field];
      if (Array.isArray(current) && Array.isArray(value)) result[field] = current.filter((item) => !value.some((gone) => deepEqual(gone, item)));
      continue;
    }
    if (value === null) {
      delete result[key];
      continue;
    }
    const merged = Array.isArray(value) ? mergeList(result[key], value, [...path, key]) : mergeValue(result[key], value, [...path, key]);
    if (merged === undefined) delete result[key];
    else result[key] = merged;
  }
  for (const [key, order] of Object.entries(patch)) {
    if (!key.startsWith('$setElementOrder/') || !Array.isArray(order)) continue;
    const field = key.slice('$setElementOrder/'.length);
    const list = result[field];
    if (Array.isArray(list)) result[field] = reorder(list, order, mergeKeyFor(path, field));
  }
  if (retainKeys) {
    for (const key of Object.keys(result)) if (!retainKeys.includes(key)) delete result[key];
  }
  return result;
}

function mergeList(original: Json | undefined, patch: Json[], path: string[]): Json[] {
  const field = path[path.length - 1];
  const current = Array.isArray(original) ? original : [];
  if (PRIMITIVE_SET_LISTS.has(field)) {
    return [...current, ...patch.filter((item) => !current.some((existing) => deepEqual(existing, item)))];
  }
  const mergeKey = mergeKeyFor(path.slice(0, -1), field);
  if (!mergeKey || !patch.every(isJsonObject)) return patch.map((item) => (isJsonObject(item) ? withoutDirectives(item) : item));
  if (patch.some((item) => isJsonObject(item) && item.$patch === 'replace')) {
    return patch.filter((item) => !(isJsonObject(item) && item.$patch === 'replace'));
  }
  const result = [...current];
  for (const item of patch as JsonObject[]) {
    const index = result.findIndex((existing) => isJsonObject(existing) && deepEqual(existing[mergeKey], item[mergeKey]));
    if (item.$patch === 'delete') {
      if (index >= 0) result.splice(index, 1);
      continue;
    }
    const merged = mergeValue(index >= 0 ? result[index] : undefined, item, path);
    if (merged === undefined) continue;
    if (index >= 0) result[index] = merged;
    else result.push(merged);
  }
  return result;
}

function reorder(list: Json[], order: Json[], mergeKey: string | undefined): Json[] {
  const rank = (item: Json): number => {
    const index = order.findIndex((wanted) => (mergeKey && isJsonObject(wanted) && isJsonObject(item) ? deepEqual(wanted[mergeKey], item[mergeKey]) : deepEqual(wanted, item)));
    return index < 0 ? order.length : index;
  };
  return list
    .map((item, position) => ({ item, position, rank: rank(item) }))
    .sort((a, b) => a.rank - b.rank || a.position - b.position)
    .map(({ item }) => item);
}

function withoutDirectives(object: JsonObject): JsonObject {
  const copy: JsonObject = {};
  for (const [key, value] of Object.entries(object)) if (!key.startsWith('$')) copy[key] = deepClone(value);
  return copy;
}
