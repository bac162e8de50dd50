/** What the server knows about one kind of resource, whether built in or served from a CRD. */
import type { GroupResource } from './api-error.js';
import type { FieldError } from './field-error.js';
import type { Json, JsonObject } from './json.js';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export interface ColumnDefinition {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

/** Built-in kinds compute their table cells in code; CRDs use additionalPrinterColumns. */
export interface CellColumn extends ColumnDefinition {
  cell(object: JsonObject, now: Date): Json;
}

export interface ServedVersion {
  name: string;
  hasStatus: boolean;
  columns: CellColumn[];
  /** openAPIV3Schema of a CRD version; built-ins have none. */
  schema?: JsonObject;
}

export interface ValidationContext {
  version: string;
  old?: JsonObject;
  fieldValidation: FieldValidation;
}

export interface ValidationOutcome {
  errors: FieldError[];
  /** Paths of fields the schema does not declare; they have been pruned from the object already. */
  unknownFields: string[];
}

export interface ResourceType extends GroupResource {
  singular: string;
  kind: string;
  listKind: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  /** Served versions, preferred first. */
  versions: ServedVersion[];
  storageVersion: string;
  origin: 'builtin' | 'crd';
  tracksGeneration: boolean;
  /** False when a PUT must carry metadata.resourceVersion (custom resources, CRDs). */
  allowUnconditionalUpdate: boolean;
  /** Nodes may set status on create; every other kind with a status subresource gets it reset. */
  keepsStatusOnCreate: boolean;
  nameRule: 'dns-subdomain' | 'dns-label' | 'path-segment';
  /** Field selector paths accepted besides metadata.name and metadata.namespace. */
  selectableFields: string[];
  prepareForCreate?(object: JsonObject): void;
  prepareForUpdate?(object: JsonObject, old: JsonObject): void;
  validate?(object: JsonObject, context: ValidationContext): ValidationOutcome;
}

export const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
export const STATUS_VERBS = ['get', 'patch', 'update'];

export function apiVersionOf(group: string, version: string): string {
  return group ? `${group}/${version}` : version;
}

export function servedVersion(type: ResourceType, version: string): ServedVersion | undefined {
  return type.versions.find((candidate) => candidate.name === version);
}

export function resourceKey(type: GroupResource): string {
  return type.group ? `${type.resource}.${type.group}` : type.resource;
}
