/**
 * Field errors in the shape of k8s.io/apimachinery/pkg/util/validation/field (v1.32 wording),
 * and the 422 Invalid error built from them. kubectl prints `The <Kind> "<name>" is invalid: <field>: <body>`.
 */
import { ApiError } from './api-error.js';
import { stableStringify } from './json.js';

export type FieldErrorType =
  | 'FieldValueRequired'
  | 'FieldValueInvalid'
  | 'FieldValueTypeInvalid'
  | 'FieldValueNotSupported'
  | 'FieldValueForbidden'
  | 'FieldValueTooLong'
  | 'FieldValueTooMany'
  | 'FieldValueDuplicate';

const TYPE_WORDS: Record<FieldErrorType, string> = {
  FieldValueRequired: 'Required value',
  FieldValueInvalid: 'Invalid value',
  FieldValueTypeInvalid: 'Invalid value',
  FieldValueNotSupported: 'Unsupported value',
  FieldValueForbidden: 'Forbidden',
  FieldValueTooLong: 'Too long',
  FieldValueTooMany: 'Too many',
  FieldValueDuplicate: 'Duplicate value',
};

/** Types whose message never shows the offending value. */
const VALUELESS_TYPES = new Set<FieldErrorType>(['FieldValueRequired', 'FieldValueForbidden', 'FieldValueTooLong']);

export interface FieldError {
  type: FieldErrorType;
  /** Dotted field path; `<nil>` for the resource root, as the real server prints it. */
  field: string;
  badValue?: unknown;
  detail?: string;
}

export function formatBadValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return stableStringify(value);
}

export function fieldErrorBody(error: FieldError): string {
  let body = TYPE_WORDS[error.type];
  if (!VALUELESS_TYPES.has(error.type)) body += `: ${formatBadValue(error.badValue)}`;
  if (error.detail) body += `: ${error.detail}`;
  return body;
}

export function fieldErrorString(error: FieldError): string {
  return `${error.field}: ${fieldErrorBody(error)}`;
}

export const required = (field: string, detail?: string): FieldError => ({ type: 'FieldValueRequired', field, detail });
export const invalid = (field: string, badValue: unknown, detail?: string): FieldError => ({
  type: 'FieldValueInvalid',
  field,
  badValue,
  detail,
});

/** 422 Invalid, with causes. `kind` is the Kind (not the resource), as client-go prints it. */
export function invalidObject(kind: string, group: string, name: string, errors: FieldError[]): ApiError {
  const messages = errors.map(fieldErrorString);
  const aggregate = messages.length === 1 ? messages[0] : `[${messages.join(', ')}]`;
  const qualifiedKind = group ? `${kind}.${group}` : kind;
  return new ApiError('APISRV_ERR_INVALID', 422, 'Invalid', `${qualifiedKind} "${name}" is invalid: ${aggregate}`, {
    name,
    group,
    kind,
    causes: errors.map((error) => ({ reason: error.type, message: fieldErrorBody(error), field: error.field })),
  });
}
