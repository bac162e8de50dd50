import { EgressError } from '../errors.js';

/** An HTTP error answer of the API server; `reason` is the v1 Status reason (NotFound, Conflict…). */
export class KubeApiError extends EgressError {
  readonly status: number;
  readonly reason: string;

  constructor(method: string, path: string, status: number, reason: string, message: string, options?: { cause?: unknown }) {
    super('EGW_ERR_KUBE', `${method} ${path}: ${status} ${reason}${message ? `: ${message}` : ''}`, options);
    this.name = 'KubeApiError';
    this.status = status;
    this.reason = reason;
  }
}

export function isKubeStatus(err: unknown, status: number, reason?: string): boolean {
  return err instanceof KubeApiError && err.status === status && (reason === undefined || err.reason === reason);
}

export const isNotFound = (err: unknown): boolean => isKubeStatus(err, 404);
/** 409 on a stale resourceVersion (reason Conflict), not AlreadyExists. */
export const isConflict = (err: unknown): boolean => isKubeStatus(err, 409) && !isKubeStatus(err, 409, 'AlreadyExists');
export const isAlreadyExists = (err: unknown): boolean => isKubeStatus(err, 409, 'AlreadyExists');
