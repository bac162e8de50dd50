/** Reads YAML manifests (files or directories, multi-document) and applies them in dependency order. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ApiError } from './api-error.js';
import type { ClusterStore } from './cluster-store.js';
import { asString, isJsonObject, type JsonObject } from './json.js';

function manifestFiles(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .filter((name) => /\.(ya?ml|json)$/.test(name))
    .sort()
    .map((name) => join(path, name));
}

export function readManifests(paths: string[]): JsonObject[] {
  const objects: JsonObject[] = [];
  for (const file of paths.flatMap(manifestFiles)) {
    for (const document of parseAllDocuments(readFileSync(file, 'utf8'))) {
      const value: unknown = document.toJS();
      if (isJsonObject(value) && value.kind === 'List' && Array.isArray(value.items)) objects.push(...value.items.filter(isJsonObject));
      else if (isJsonObject(value) && value.kind) objects.push(value);
    }
  }
  return objects;
}

const ORDER = ['CustomResourceDefinition', 'Namespace'];

/** CRDs and namespaces go first; kinds this server does not serve are reported, not fatal. */
export function applyManifests(store: ClusterStore, objects: JsonObject[], onSkip: (object: JsonObject, reason: string) => void): number {
  const rank = (object: JsonObject) => {
    const index = ORDER.indexOf(asString(object.kind) ?? '');
    return index < 0 ? ORDER.length : index;
  };
  let applied = 0;
  for (const object of [...objects].sort((a, b) => rank(a) - rank(b))) {
    try {
      store.apply(object);
      applied += 1;
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      onSkip(object, error.message);
    }
  }
  return applied;
}
