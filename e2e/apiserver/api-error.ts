/**
 * Errors of the fake API server. Each carries a stable `code` (catalogued in README.md) and renders
 * as the v1 Status body client-go and client-node expect (kind and apiVersion are mandatory there).
 */
import type { JsonObject } from './json.js';

export type ApiErrorCode =
  | 'APISRV_ERR_NOT_FOUND'
  | 'APISRV_ERR_ALREADY_EXISTS'
  | 'APISRV_ERR_CONFLICT'
  | 'APISRV_ERR_INVALID'
  | 'APISRV_ERR_BAD_REQUEST'
  | 'APISRV_ERR_METHOD_NOT_ALLOWED'
  | 'APISRV_ERR_UNSUPPORTED_MEDIA_TYPE'
  | 'APISRV_ERR_EXPIRED'
  | 'APISRV_ERR_FORBIDDEN'
  | 'APISRV_ERR_INTERNAL';

export interface StatusCause {
  reason: string;
  message: string;
  field: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
}

/** A group and a plural resource name, as used in "not found" and "already exists" messages. */
export interface GroupResource {
  group: string;
  resource: string;
}

export function qualifiedResource({ group, resource }: GroupResource): string {
  return group ? `${resource}.${group}` : resource;
}

export class ApiError extends Error {
  /** The Status's list metadata (a 410 on an expired continue token carries a token for the rest). */
  listMeta?: JsonObject;

  constructor(
    readonly code: ApiErrorCode,
    readonly httpStatus: number,
    readonly reason: string,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  toStatus(): JsonObject {
    const status: JsonObject = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: this.listMeta ?? {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      code: this.httpStatus,
    };
    if (this.details) status.details = this.details as unknown as JsonObject;
    return status;
  }
}

export function notFound(target: GroupResource, name: string): ApiError {
  return new ApiError('APISRV_ERR_NOT_FOUND', 404, 'NotFound', `${qualifiedResource(target)} "${name}" not found`, {
    name,
    group: target.group,
    kind: target.resource,
  });
}

export function unknownPath(): ApiError {
  return new ApiError('APISRV_ERR_NOT_FOUND', 404, 'NotFound', 'the server could not find the requested resource', {});
}

export function alreadyExists(target: GroupResource, name: string): ApiError {
  return new ApiError('APISRV_ERR_ALREADY_EXISTS', 409, 'AlreadyExists', `${qualifiedResource(target)} "${name}" already exists`, {
    name,
    group: target.group,
    kind: target.resource,
  });
}

export const STALE_OBJECT_DETAIL = 'the object has been modified; please apply your changes to the latest version and try again';

export function conflict(target: GroupResource, name: string, detail = STALE_OBJECT_DETAIL): ApiError {
  return new ApiError('APISRV_ERR_CONFLICT', 409, 'Conflict', `Operation cannot be fulfilled on ${qualifiedResource(target)} "${name}": ${detail}`, {
    name,
    group: target.group,
    kind: target.resource,
  });
}

export function badRequest(message: string): ApiError {
  return new ApiError('APISRV_ERR_BAD_REQUEST', 400, 'BadRequest', message);
}

export function methodNotAllowed(): ApiError {
  return new ApiError('APISRV_ERR_METHOD_NOT_ALLOWED', 405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});
}

export function unsupportedMediaType(contentType: string, accepted: string[]): ApiError {
  const message =
    contentType === 'application/apply-patch+yaml'
      ? 'the fake API server does not implement server-side apply (application/apply-patch+yaml); use client-side apply'
      : `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`;
  return new ApiError('APISRV_ERR_UNSUPPORTED_MEDIA_TYPE', 415, 'UnsupportedMediaType', message);
}

export function expired(message: string): ApiError {
  return new ApiError('APISRV_ERR_EXPIRED', 410, 'Expired', message);
}

export function forbidden(target: GroupResource, name: string, detail: string): ApiError {
  return new ApiError('APISRV_ERR_FORBIDDEN', 403, 'Forbidden', `${qualifiedResource(target)} "${name}" is forbidden: ${detail}`, {
    name,
    group: target.group,
    kind: target.resource,
  });
}

export function internalError(message: string): ApiError {
  return new ApiError('APISRV_ERR_INTERNAL', 500, 'InternalError', `Internal error occurred: ${message}`, {
    causes: [{ reason: '', message, field: '' }],
  });
}
