/**
 * Structural-schema pruning and defaulting, in the real server's order: unknown fields are reported and
 * dropped, nulls of non-nullable fields are dropped, then `default` values fill missing fields.
 */
import { deepClone, isJsonObject, type Json, type JsonObject } from './json.js';
import { additionalPropertiesSchema, childPath, IMPLICIT_ROOT_FIELDS, indexPath, type SchemaProps } from './schema-types.js';

/** Prunes in place; returns the paths of the removed unknown fields. */
export function pruneUnknownFields(root: JsonObject, schema: SchemaProps): string[] {
  const unknown: string[] = [];
  pruneObject(root, schema, '', true, unknown);
  return unknown;
}

function pruneValue(value: Json, schema: SchemaProps, path: string, unknown: string[]): void {
  if (Array.isArray(value)) {
    if (schema.items) value.forEach((item, index) => pruneValue(item, schema.items as SchemaProps, indexPath(path, index), unknown));
  } else if (isJsonObject(value)) {
    pruneObject(value, schema, path, schema['x-kubernetes-embedded-resource'] === true, unknown);
  }
}

function pruneObject(object: JsonObject, schema: SchemaProps, path: string, isResource: boolean, unknown: string[]): void {
  const additional = additionalPropertiesSchema(schema);
  const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true || schema.additionalProperties === true;
  for (const key of Object.keys(object)) {
    const propertySchema = schema.properties?.[key] ?? additional;
    if (propertySchema) {
      if (!(isResource && key === 'metadata')) pruneValue(object[key], propertySchema, childPath(path, key), unknown);
    } else if (!preserve && !(isResource && IMPLICIT_ROOT_FIELDS.includes(key))) {
      unknown.push(childPath(path, key));
      delete object[key];
    }
  }
}

/** Drops nulls of non-nullable fields and applies defaults, in place. */
export function applyDefaults(value: Json, schema: SchemaProps): void {
  if (Array.isArray(value)) {
    if (schema.items) for (const item of value) applyDefaults(item, schema.items);
    return;
  }
  if (!isJsonObject(value)) return;
  for (const [key, propertySchema] of Object.entries(schema.properties ?? {})) {
    if (value[key] === null && propertySchema.nullable !== true) delete value[key];
    if (value[key] === undefined && propertySchema.default !== undefined) value[key] = deepClone(propertySchema.default);
  }
  const additional = additionalPropertiesSchema(schema);
  for (const [key, child] of Object.entries(value)) {
    const childSchema = schema.properties?.[key] ?? additional;
    if (childSchema) applyDefaults(child, childSchema);
  }
}
