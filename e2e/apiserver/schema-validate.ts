/**
 * OpenAPI v3 value validation of a custom resource, with the messages kube-openapi produces and the field
 * error types apiextensions-apiserver converts them to (k8s v1.32).
 */
import { invalid, required, type FieldError } from './field-error.js';
import { deepEqual, isJsonObject, stableStringify, type Json, type JsonObject } from './json.js';
import { matchesFormat } from './schema-formats.js';
import { additionalPropertiesSchema, childPath, indexPath, type SchemaProps } from './schema-types.js';

const patternCache = new Map<string, RegExp | null>();

function compilePattern(pattern: string): RegExp | null {
  let compiled = patternCache.get(pattern);
  if (compiled === undefined) {
    try {
      compiled = new RegExp(pattern, 'u');
    } catch {
      compiled = null;
    }
    patternCache.set(pattern, compiled);
  }
  return compiled;
}

export function jsonTypeName(value: Json): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function typeMatches(expected: string, value: Json): boolean {
  switch (expected) {
    case 'object':
      return isJsonObject(value);
    case 'array':
      return Array.isArray(value);
    case 'string':
      return typeof value === 'string';
    case 'boolean':
      return typeof value === 'boolean';
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'number':
      return typeof value === 'number';
    default:
      return true;
  }
}

/** Root call: `path` is '' and the value is the whole object. */
export function validateAgainstSchema(value: Json, schema: SchemaProps, path = ''): FieldError[] {
  const errors: FieldError[] = [];
  validateNode(value, schema, path, errors);
  return errors;
}

function typeError(path: string, expected: string, actual: string): FieldError {
  return { type: 'FieldValueTypeInvalid', field: path, badValue: actual, detail: `${path} in body must be of type ${expected}: "${actual}"` };
}

function validateNode(value: Json, schema: SchemaProps, path: string, errors: FieldError[]): void {
  const intOrString = schema['x-kubernetes-int-or-string'] === true;
  if (value === null) {
    if (schema.nullable !== true && (schema.type || intOrString)) errors.push(typeError(path, intOrString ? 'integer,string' : (schema.type ?? ''), 'null'));
    return;
  }
  if (intOrString) {
    if (!typeMatches('integer', value) && typeof value !== 'string') {
      errors.push(typeError(path, 'integer,string', jsonTypeName(value)));
      return;
    }
  } else if (schema.type && !typeMatches(schema.type, value)) {
    errors.push(typeError(path, schema.type, jsonTypeName(value)));
    return;
  }
  if (schema.enum && !schema.enum.some((allowed) => deepEqual(allowed, value))) {
    const supported = schema.enum.map((allowed) => (typeof allowed === 'string' ? allowed : stableStringify(allowed)));
    errors.push({
      type: 'FieldValueNotSupported',
      field: path,
      badValue: value,
      detail: `supported values: ${supported.map((item) => JSON.stringify(item)).join(', ')}`,
    });
  }
  if (typeof value === 'string') validateString(value, schema, path, errors);
  else if (typeof value === 'number') validateNumber(value, schema, path, errors);
  else if (Array.isArray(value)) validateArray(value, schema, path, errors);
  else if (isJsonObject(value)) validateObject(value, schema, path, errors);
  validateCombinators(value, schema, path, errors);
}

function validateString(value: string, schema: SchemaProps, path: string, errors: FieldError[]): void {
  const length = [...value].length;
  if (schema.maxLength !== undefined && length > schema.maxLength) {
    errors.push({ type: 'FieldValueTooLong', field: path, detail: `may not be longer than ${schema.maxLength}` });
  }
  if (schema.minLength !== undefined && length < schema.minLength) {
    errors.push(invalid(path, value, `${path} in body should be at least ${schema.minLength} chars long`));
  }
  if (schema.pattern !== undefined) {
    const pattern = compilePattern(schema.pattern);
    if (pattern && !pattern.test(value)) errors.push(invalid(path, value, `${path} in body should match '${schema.pattern}'`));
  }
  if (schema.format && matchesFormat(schema.format, value) === false) {
    errors.push({
      type: 'FieldValueTypeInvalid',
      field: path,
      badValue: value,
      detail: `${path} in body must be of type ${schema.format}: ${JSON.stringify(value)}`,
    });
  }
}

function validateNumber(value: number, schema: SchemaProps, path: string, errors: FieldError[]): void {
  if (schema.maximum !== undefined) {
    const tooBig = schema.exclusiveMaximum ? value >= schema.maximum : value > schema.maximum;
    const words = schema.exclusiveMaximum ? 'less than' : 'less than or equal to';
    if (tooBig) errors.push(invalid(path, value, `${path} in body should be ${words} ${schema.maximum}`));
  }
  if (schema.minimum !== undefined) {
    const tooSmall = schema.exclusiveMinimum ? value <= schema.minimum : value < schema.minimum;
    const words = schema.exclusiveMinimum ? 'greater than' : 'greater than or equal to';
    if (tooSmall) errors.push(invalid(path, value, `${path} in body should be ${words} ${schema.minimum}`));
  }
  if (schema.multipleOf !== undefined && schema.multipleOf > 0) {
    const quotient = value / schema.multipleOf;
    if (Math.abs(quotient - Math.round(quotient)) > 1e-9) {
      errors.push(invalid(path, value, `${path} in body should be a multiple of ${schema.multipleOf}`));
    }
  }
}

function validateArray(value: Json[], schema: SchemaProps, path: string, errors: FieldError[]): void {
  if (schema.items) value.forEach((item, index) => validateNode(item, schema.items as SchemaProps, indexPath(path, index), errors));
  if (schema.minItems !== undefined && value.length < schema.minItems) {
    errors.push(invalid(path, value.length, `${path} in body should have at least ${schema.minItems} items`));
  }
  if (schema.maxItems !== undefined && value.length > schema.maxItems) {
    errors.push({
      type: 'FieldValueTooMany',
      field: path,
      badValue: value.length,
      detail: `must have at most ${schema.maxItems} ${schema.maxItems === 1 ? 'item' : 'items'}`,
    });
  }
  if (schema.uniqueItems && hasDuplicates(value)) {
    errors.push(invalid(path, '', `${path} in body shouldn't contain duplicates`));
  }
  validateListType(value, schema, path, errors);
}

function hasDuplicates(values: Json[]): boolean {
  const seen = new Set(values.map(stableStringify));
  return seen.size !== values.length;
}

function validateListType(value: Json[], schema: SchemaProps, path: string, errors: FieldError[]): void {
  const listType = schema['x-kubernetes-list-type'];
  if (listType !== 'set' && listType !== 'map') return;
  const keys = schema['x-kubernetes-list-map-keys'] ?? [];
  const seen = new Set<string>();
  value.forEach((item, index) => {
    const identity = listType === 'set' ? item : isJsonObject(item) ? Object.fromEntries(keys.filter((key) => item[key] !== undefined).map((key) => [key, item[key]])) : item;
    const fingerprint = stableStringify(identity);
    if (seen.has(fingerprint)) errors.push({ type: 'FieldValueDuplicate', field: indexPath(path, index), badValue: identity });
    seen.add(fingerprint);
  });
}

function validateObject(value: JsonObject, schema: SchemaProps, path: string, errors: FieldError[]): void {
  const count = Object.keys(value).length;
  if (schema.minProperties !== undefined && count < schema.minProperties) {
    errors.push(invalid(path, count, `${path} in body should have at least ${schema.minProperties} properties`));
    return;
  }
  if (schema.maxProperties !== undefined && count > schema.maxProperties) {
    errors.push({
      type: 'FieldValueTooMany',
      field: path,
      badValue: count,
      detail: `must have at most ${schema.maxProperties} ${schema.maxProperties === 1 ? 'item' : 'items'}`,
    });
    return;
  }
  const additional = additionalPropertiesSchema(schema);
  for (const [key, child] of Object.entries(value)) {
    if (path === '' && key === 'metadata') continue;
    const propertySchema = schema.properties?.[key];
    if (propertySchema) validateNode(child, propertySchema, childPath(path, key), errors);
    else if (additional) validateNode(child, additional, childPath(path, key), errors);
  }
  for (const key of schema.required ?? []) {
    if (value[key] === undefined) errors.push(required(childPath(path, key)));
  }
}

function passes(value: Json, schema: SchemaProps, path: string): boolean {
  const errors: FieldError[] = [];
  validateNode(value, schema, path, errors);
  return errors.length === 0;
}

function validateCombinators(value: Json, schema: SchemaProps, path: string, errors: FieldError[]): void {
  for (const branch of schema.allOf ?? []) validateNode(value, branch, path, errors);
  const label = path || '<root>';
  if (schema.anyOf && !schema.anyOf.some((branch) => passes(value, branch, path))) {
    errors.push(invalid(path, '', `${label} in body must validate at least one schema (anyOf)`));
  }
  if (schema.oneOf && schema.oneOf.filter((branch) => passes(value, branch, path)).length !== 1) {
    errors.push(invalid(path, '', `${label} in body must validate one and only one schema (oneOf)`));
  }
  if (schema.not && passes(value, schema.not, path)) {
    errors.push(invalid(path, '', `${label} in body must not validate the schema (not)`));
  }
}
