/** RFC 6902 JSON patch (add, remove, replace, move, copy, test). */
import { deepClone, deepEqual, isJsonObject, type Json } from './json.js';

export class JsonPatchError extends Error {
  readonly code = 'APISRV_ERR_JSON_PATCH';
}

interface Operation {
  op: string;
  path: string;
  from?: string;
  value?: Json;
}

export function applyJsonPatch(document: Json, operations: Json): Json {
  if (!Array.isArray(operations)) throw new JsonPatchError('json patch must be an array of operations');
  let result = deepClone(document);
  for (const raw of operations) result = applyOperation(result, toOperation(raw));
  return result;
}

function toOperation(raw: Json): Operation {
  if (!isJsonObject(raw) || typeof raw.op !== 'string' || typeof raw.path !== 'string') {
    throw new JsonPatchError(`invalid json patch operation: ${JSON.stringify(raw)}`);
  }
  return { op: raw.op, path: raw.path, from: typeof raw.from === 'string' ? raw.from : undefined, value: raw.value };
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new JsonPatchError(`invalid JSON pointer "${pointer}"`);
  return pointer
    .slice(1)
    .split('/')
    .map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function resolveParent(document: Json, tokens: string[], pointer: string): { parent: Json; key: string } {
  let parent: Json = document;
  for (const token of tokens.slice(0, -1)) {
    const next: Json | undefined = Array.isArray(parent) ? parent[arrayIndex(parent, token, false, pointer)] : isJsonObject(parent) ? parent[token] : undefined;
    if (next === undefined) throw new JsonPatchError(`doc is missing path: "${pointer}"`);
    parent = next;
  }
  return { parent, key: tokens[tokens.length - 1] };
}

function arrayIndex(array: Json[], token: string, allowEnd: boolean, pointer: string): number {
  if (allowEnd && token === '-') return array.length;
  if (!/^(0|[1-9]\d*)$/.test(token)) throw new JsonPatchError(`invalid array index "${token}" in "${pointer}"`);
  const index = Number(token);
  if (index > array.length || (!allowEnd && index === array.length)) {
    throw new JsonPatchError(`array index ${index} out of bounds in "${pointer}"`);
  }
  return index;
}

function getValue(document: Json, pointer: string): Json {
  let current: Json | undefined = document;
  for (const token of parsePointer(pointer)) {
    if (Array.isArray(current)) current = current[arrayIndex(current, token, false, pointer)];
    else if (isJsonObject(current)) current = current[token];
    else current = undefined;
    if (current === undefined) throw new JsonPatchError(`doc is missing path: "${pointer}"`);
  }
  return current;
}

function addValue(document: Json, pointer: string, value: Json): Json {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return deepClone(value);
  const { parent, key } = resolveParent(document, tokens, pointer);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, true, pointer), 0, deepClone(value));
  else if (isJsonObject(parent)) parent[key] = deepClone(value);
  else throw new JsonPatchError(`doc is missing path: "${pointer}"`);
  return document;
}

function removeValue(document: Json, pointer: string): Json {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) throw new JsonPatchError('cannot remove the whole document');
  const { parent, key } = resolveParent(document, tokens, pointer);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, false, pointer), 1);
  else if (isJsonObject(parent) && Object.hasOwn(parent, key)) delete parent[key];
  else throw new JsonPatchError(`unable to remove nonexistent key: ${key}: missing value`);
  return document;
}

function applyOperation(document: Json, operation: Operation): Json {
  switch (operation.op) {
    case 'add':
      return addValue(document, operation.path, operation.value ?? null);
    case 'remove':
      return removeValue(document, operation.path);
    case 'replace':
      getValue(document, operation.path);
      return addValue(removeValueIfNotRoot(document, operation.path), operation.path, operation.value ?? null);
    case 'move': {
      const value = getValue(document, requireFrom(operation));
      return addValue(removeValue(document, requireFrom(operation)), operation.path, value);
    }
    case 'copy':
      return addValue(document, operation.path, getValue(document, requireFrom(operation)));
    case 'test':
      if (!deepEqual(getValue(document, operation.path), operation.value ?? null)) {
        throw new JsonPatchError(`testing value ${operation.path} failed: test failed`);
      }
      return document;
    default:
      throw new JsonPatchError(`unexpected json patch operation "${operation.op}"`);
  }
}

function removeValueIfNotRoot(document: Json, pointer: string): Json {
  return pointer === '' ? document : removeValue(document, pointer);
}

function requireFrom(operation: Operation): string {
  if (operation.from === undefined) throw new JsonPatchError(`operation ${operation.op} needs "from"`);
  return operation.from;
}
