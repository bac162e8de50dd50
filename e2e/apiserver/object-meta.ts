/** ObjectMeta rules every kind shares: names, generateName, labels, timestamps. */
import { randomInt } from 'node:crypto';
import { invalid, required, type FieldError } from './field-error.js';
import { asJsonObject, asString, type JsonObject } from './json.js';
import type { ResourceType } from './resource-type.js';

const DNS1123_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUBDOMAIN = `${DNS1123_LABEL}(\\.${DNS1123_LABEL})*`;
const LABEL_VALUE = '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?';
const QUALIFIED_NAME_PART = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';

const SUBDOMAIN_MESSAGE =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start " +
  `and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '${DNS1123_SUBDOMAIN}')`;
const LABEL_MESSAGE =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end " +
  `with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '${DNS1123_LABEL}')`;
const LABEL_VALUE_MESSAGE =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start " +
  `and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '${LABEL_VALUE}')`;
const NAME_PART_MESSAGE =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric " +
  `character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '${QUALIFIED_NAME_PART}')`;

export function metadataOf(object: JsonObject): JsonObject {
  const existing = asJsonObject(object.metadata);
  if (existing) return existing;
  const created: JsonObject = {};
  object.metadata = created;
  return created;
}

export function nameOf(object: JsonObject): string {
  return asString(asJsonObject(object.metadata)?.name) ?? '';
}

export function namespaceOf(object: JsonObject): string {
  return asString(asJsonObject(object.metadata)?.namespace) ?? '';
}

/** RFC 3339 with whole seconds, like metav1.Time. */
export function nowTimestamp(now = new Date()): string {
  return now.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const GENERATE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

export function generateName(base: string): string {
  let suffix = '';
  for (let index = 0; index < 5; index += 1) suffix += GENERATE_ALPHABET[randomInt(GENERATE_ALPHABET.length)];
  return `${base.slice(0, 58)}${suffix}`;
}

export function validateName(name: string, rule: ResourceType['nameRule'], fieldPath = 'metadata.name'): FieldError[] {
  switch (rule) {
    case 'dns-label':
      if (name.length > 63) return [invalid(fieldPath, name, 'must be no more than 63 characters')];
      return new RegExp(`^${DNS1123_LABEL}$`).test(name) ? [] : [invalid(fieldPath, name, LABEL_MESSAGE)];
    case 'dns-subdomain':
      if (name.length > 253) return [invalid(fieldPath, name, 'must be no more than 253 characters')];
      return new RegExp(`^${DNS1123_SUBDOMAIN}$`).test(name) ? [] : [invalid(fieldPath, name, SUBDOMAIN_MESSAGE)];
    case 'path-segment':
      if (name === '.' || name === '..') return [invalid(fieldPath, name, `may not be '${name}'`)];
      if (/[/%]/.test(name)) return [invalid(fieldPath, name, "may not contain '/' or '%'")];
      return [];
  }
}

/** validation.IsQualifiedName: an optional DNS-1123 subdomain prefix and '/', then a name part of at most 63. */
function qualifiedNameErrors(key: string): string[] {
  const parts = key.split('/');
  if (parts.length > 2) return [`a qualified name ${NAME_PART_MESSAGE.replace(/^name part /, '')} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`];
  const errors: string[] = [];
  const name = parts[parts.length - 1]!;
  if (parts.length === 2) {
    const prefix = parts[0]!;
    if (prefix.length === 0) errors.push('prefix part must be non-empty');
    else if (prefix.length > 253) errors.push('prefix part must be no more than 253 characters');
    else if (!new RegExp(`^${DNS1123_SUBDOMAIN}$`).test(prefix)) errors.push(`prefix part ${SUBDOMAIN_MESSAGE}`);
  }
  if (name.length === 0) errors.push('name part must be non-empty');
  else if (name.length > 63) errors.push('name part must be no more than 63 characters');
  if (!new RegExp(`^${QUALIFIED_NAME_PART}$`).test(name)) errors.push(NAME_PART_MESSAGE);
  return errors;
}

function validateLabels(labels: JsonObject): FieldError[] {
  const errors: FieldError[] = [];
  for (const [key, value] of Object.entries(labels)) {
    for (const message of qualifiedNameErrors(key)) errors.push(invalid('metadata.labels', key, message));
    if (typeof value !== 'string') {
      errors.push(invalid(`metadata.labels`, value, 'label values must be strings'));
    } else if (value.length > 63 || !new RegExp(`^${LABEL_VALUE}$`).test(value)) {
      errors.push(invalid('metadata.labels', value, LABEL_VALUE_MESSAGE));
    }
  }
  return errors;
}

export function validateObjectMeta(object: JsonObject, type: ResourceType): FieldError[] {
  const metadata = metadataOf(object);
  const name = asString(metadata.name) ?? '';
  const errors: FieldError[] = name ? validateName(name, type.nameRule) : [required('metadata.name', 'name or generateName is required')];
  const labels = asJsonObject(metadata.labels);
  if (labels) errors.push(...validateLabels(labels));
  // a real server cannot even decode such metadata (400); either way the write is refused
  else if (metadata.labels !== undefined && metadata.labels !== null) errors.push(invalid('metadata.labels', metadata.labels, 'must be a map of strings'));
  if (metadata.annotations !== undefined && asJsonObject(metadata.annotations) === undefined) {
    errors.push(invalid('metadata.annotations', metadata.annotations, 'must be a map of strings'));
  }
  return errors;
}
