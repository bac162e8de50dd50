/** The structural-schema subset of apiextensions.k8s.io/v1 JSONSchemaProps the server enforces. */
import { isJsonObject, type Json } from './json.js';

export interface ValidationRule {
  rule: string;
  message?: string;
  messageExpression?: string;
  reason?: string;
  fieldPath?: string;
  optionalOldSelf?: boolean;
}

export interface SchemaProps {
  type?: string;
  format?: string;
  nullable?: boolean;
  properties?: Record<string, SchemaProps>;
  additionalProperties?: SchemaProps | boolean;
  items?: SchemaProps;
  required?: string[];
  enum?: Json[];
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  multipleOf?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  minProperties?: number;
  maxProperties?: number;
  allOf?: SchemaProps[];
  anyOf?: SchemaProps[];
  oneOf?: SchemaProps[];
  not?: SchemaProps;
  default?: Json;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  'x-kubernetes-list-type'?: string;
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-validations'?: ValidationRule[];
}

/** CRD schemas come from users; they are trusted to be structural once the CRD was accepted. */
export function asSchema(value: Json | undefined): SchemaProps | undefined {
  return isJsonObject(value) ? (value as unknown as SchemaProps) : undefined;
}

export function additionalPropertiesSchema(schema: SchemaProps): SchemaProps | undefined {
  return typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined;
}

export function childPath(parent: string, key: string): string {
  return parent ? `${parent}.${key}` : key;
}

export function indexPath(parent: string, index: number): string {
  return `${parent}[${index}]`;
}

/** Fields every object at the resource root (or an embedded resource) has without declaring them. */
export const IMPLICIT_ROOT_FIELDS = ['apiVersion', 'kind', 'metadata'];
