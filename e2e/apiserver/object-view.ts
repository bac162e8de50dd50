/** How stored objects are seen by requests: as a given served version, and through selectors. */
import { asJsonObject, type JsonObject } from './json.js';
import { labelsMatch, type LabelRequirement, type Labels } from './label-selector.js';
import { fieldsMatch, type FieldRequirement } from './field-selector.js';
import { metadataOf } from './object-meta.js';
import { apiVersionOf, type ResourceType } from './resource-type.js';

export interface Selectors {
  labels?: LabelRequirement[];
  fields?: FieldRequirement[];
}

export function labelsOf(object: JsonObject): Labels {
  const labels = asJsonObject(metadataOf(object).labels) ?? {};
  return Object.fromEntries(Object.entries(labels).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}

export function matchesSelectors(object: JsonObject, selectors: Selectors): boolean {
  return (!selectors.labels || labelsMatch(selectors.labels, labelsOf(object))) && (!selectors.fields || fieldsMatch(selectors.fields, object));
}

/** The object as served in `version`: same data, that version's apiVersion (conversion strategy None). */
export function presentAs(type: ResourceType, version: string, stored: JsonObject): JsonObject {
  const copy = structuredClone(stored);
  delete copy.apiVersion;
  delete copy.kind;
  return { apiVersion: apiVersionOf(type.group, version), kind: type.kind, ...copy };
}
