/** Turns a CustomResourceDefinition into the ResourceType the server serves, and computes the CRD's status. */
import { ageColumn } from './builtin-tables.js';
import type { SkippedRuleReporter } from './cel-rules.js';
import { validateCustomResource } from './custom-resource-validation.js';
import { invalid, required, type FieldError } from './field-error.js';
import { ageOf } from './human-duration.js';
import { evaluateJsonPath } from './json-path.js';
import { asJsonObject, asString, asStringArray, isJsonObject, type Json, type JsonObject } from './json.js';
import { nameOf, nowTimestamp } from './object-meta.js';
import type { CellColumn, ResourceType, ServedVersion } from './resource-type.js';
import { asSchema } from './schema-types.js';

function specOf(crd: JsonObject): JsonObject {
  return asJsonObject(crd.spec) ?? {};
}

function namesOf(crd: JsonObject): JsonObject {
  return asJsonObject(specOf(crd).names) ?? {};
}

function versionsOf(crd: JsonObject): JsonObject[] {
  const versions = specOf(crd).versions;
  return Array.isArray(versions) ? versions.filter(isJsonObject) : [];
}

/** Kubernetes version priority: v2 > v1 > v1beta2 > v1beta1 > v1alpha1 > anything else (alphabetical). */
export function compareKubeVersions(a: string, b: string): number {
  const parse = (version: string): [number, number, number] | undefined => {
    const match = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(version);
    if (!match) return undefined;
    const stability = match[2] === 'alpha' ? 0 : match[2] === 'beta' ? 1 : 2;
    return [stability, Number(match[1]), Number(match[3] ?? 0)];
  };
  const left = parse(a);
  const right = parse(b);
  if (!left || !right) return left ? -1 : right ? 1 : a.localeCompare(b);
  for (let index = 0; index < 3; index += 1) if (left[index] !== right[index]) return right[index] - left[index];
  return 0;
}

function cellValue(type: string, value: Json | undefined, now: Date): Json {
  if (value === undefined || value === null) return null;
  switch (type) {
    case 'integer':
      return typeof value === 'number' ? Math.trunc(value) : null;
    case 'number':
      return typeof value === 'number' ? value : null;
    case 'boolean':
      return typeof value === 'boolean' ? value : null;
    case 'date':
      return typeof value === 'string' ? ageOf(value, now) : null;
    default:
      return typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
}

function printerColumns(version: JsonObject): CellColumn[] {
  const definitions = Array.isArray(version.additionalPrinterColumns) ? version.additionalPrinterColumns.filter(isJsonObject) : [];
  if (definitions.length === 0) return [ageColumn];
  return definitions.map((definition) => {
    const type = asString(definition.type) ?? 'string';
    const jsonPath = asString(definition.jsonPath) ?? '';
    return {
      name: asString(definition.name) ?? jsonPath,
      type,
      format: asString(definition.format) ?? '',
      description: asString(definition.description) ?? '',
      priority: typeof definition.priority === 'number' ? definition.priority : 0,
      cell: (object: JsonObject, now: Date) => cellValue(type, evaluateJsonPath(object, jsonPath)[0], now),
    };
  });
}

function servedVersions(crd: JsonObject): ServedVersion[] {
  return versionsOf(crd)
    .filter((version) => version.served !== false)
    .map((version) => ({
      name: asString(version.name) ?? '',
      hasStatus: isJsonObject(asJsonObject(version.subresources)?.status),
      columns: printerColumns(version),
      schema: asJsonObject(asJsonObject(version.schema)?.openAPIV3Schema),
    }))
    .sort((a, b) => compareKubeVersions(a.name, b.name));
}

export function resourceTypeFromCrd(crd: JsonObject, onSkippedRule: SkippedRuleReporter): ResourceType {
  const spec = specOf(crd);
  const names = namesOf(crd);
  const kind = asString(names.kind) ?? '';
  const versions = servedVersions(crd);
  const storage = versionsOf(crd).find((version) => version.storage === true);
  const selectable = versionsOf(crd).flatMap((version) =>
    Array.isArray(version.selectableFields) ? version.selectableFields.filter(isJsonObject).map((field) => (asString(field.jsonPath) ?? '').replace(/^\./, '')) : [],
  );
  return {
    group: asString(spec.group) ?? '',
    resource: asString(names.plural) ?? '',
    singular: asString(names.singular) ?? kind.toLowerCase(),
    kind,
    listKind: asString(names.listKind) ?? `${kind}List`,
    namespaced: spec.scope === 'Namespaced',
    shortNames: asStringArray(names.shortNames),
    categories: asStringArray(names.categories),
    versions,
    storageVersion: asString(storage?.name) ?? versions[0]?.name ?? '',
    origin: 'crd',
    tracksGeneration: true,
    allowUnconditionalUpdate: false,
    keepsStatusOnCreate: false,
    nameRule: 'dns-subdomain',
    selectableFields: selectable,
    validate(object, context) {
      const schema = asSchema(versions.find((version) => version.name === context.version)?.schema);
      if (!schema) return { errors: [], unknownFields: [] };
      return validateCustomResource(object, schema, context, onSkippedRule);
    },
  };
}

/** The checks of the real CRD validation that a hand-written or generated CRD most often trips over. */
export function validateCrd(crd: JsonObject): FieldError[] {
  const errors: FieldError[] = [];
  const spec = specOf(crd);
  const names = namesOf(crd);
  const group = asString(spec.group) ?? '';
  const plural = asString(names.plural) ?? '';
  if (!group) errors.push(required('spec.group'));
  else if (!group.includes('.')) errors.push(invalid('spec.group', group, 'should be a domain with at least one dot'));
  if (!plural) errors.push(required('spec.names.plural'));
  if (!asString(names.kind)) errors.push(required('spec.names.kind'));
  if (group && plural && nameOf(crd) !== `${plural}.${group}`) {
    errors.push(invalid('metadata.name', nameOf(crd), 'must be spec.names.plural+"."+spec.group'));
  }
  if (spec.scope !== 'Namespaced' && spec.scope !== 'Cluster') {
    errors.push(
      spec.scope === undefined
        ? required('spec.scope')
        : { type: 'FieldValueNotSupported', field: 'spec.scope', badValue: spec.scope, detail: 'supported values: "Cluster", "Namespaced"' },
    );
  }
  const versions = versionsOf(crd);
  if (versions.length === 0) errors.push(invalid('spec.versions', [], 'must have exactly one version marked as storage version'));
  else if (versions.filter((version) => version.storage === true).length !== 1) {
    errors.push(
      invalid(
        'spec.versions',
        versions.map((version) => version.name ?? ''),
        'must have exactly one version marked as storage version',
      ),
    );
  }
  versions.forEach((version, index) => {
    if (!asString(version.name)) errors.push(required(`spec.versions[${index}].name`));
    const schema = asJsonObject(asJsonObject(version.schema)?.openAPIV3Schema);
    if (!schema) errors.push(required(`spec.versions[${index}].schema.openAPIV3Schema`, 'schemas are required'));
    else if (schema.type !== 'object') {
      errors.push(required(`spec.versions[${index}].schema.openAPIV3Schema.type`, 'must be object at the root'));
    }
  });
  return errors;
}

/** Spec defaults the real server applies to a CRD. */
export function defaultCrdSpec(crd: JsonObject): void {
  const spec = specOf(crd);
  const names = asJsonObject(spec.names);
  if (names && typeof names.kind === 'string') {
    names.singular ??= names.kind.toLowerCase();
    names.listKind ??= `${names.kind}List`;
  }
  spec.conversion ??= { strategy: 'None' };
}

function condition(type: string, reason: string, message: string, previous: JsonObject[], now: string): JsonObject {
  const earlier = previous.find((candidate) => candidate.type === type && candidate.status === 'True');
  return { type, status: 'True', lastTransitionTime: asString(earlier?.lastTransitionTime) ?? now, reason, message };
}

/** What the CRD controllers of a real server would write right after the CRD is accepted. */
export function establishedCrdStatus(crd: JsonObject, previousStatus: Json | undefined): JsonObject {
  const previous = asJsonObject(previousStatus) ?? {};
  const previousConditions = Array.isArray(previous.conditions) ? previous.conditions.filter(isJsonObject) : [];
  const now = nowTimestamp();
  const names = namesOf(crd);
  const acceptedNames: JsonObject = {};
  for (const key of ['plural', 'singular', 'shortNames', 'kind', 'listKind', 'categories']) {
    if (names[key] !== undefined) acceptedNames[key] = names[key];
  }
  const storage = asString(versionsOf(crd).find((version) => version.storage === true)?.name);
  const storedVersions = [...new Set([...asStringArray(previous.storedVersions), ...(storage ? [storage] : [])])];
  return {
    conditions: [
      condition('NamesAccepted', 'NoConflicts', 'no conflicts found', previousConditions, now),
      condition('Established', 'InitialNamesAccepted', 'the initial names have been accepted', previousConditions, now),
    ],
    acceptedNames,
    storedVersions,
  };
}
