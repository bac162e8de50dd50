/** A small Kubernetes REST client over a pluggable transport (curl in a namespace, or fetch). */

export interface ApiRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  body?: unknown;
  contentType?: string;
}

export interface ApiResponse {
  status: number;
  body: unknown;
}

/** Sends one request; throws ApiUnavailableError when there is no HTTP answer at all. */
export type ApiTransport = (req: ApiRequest) => Promise<ApiResponse>;

export class ApiUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ApiUnavailableError';
  }
}

/** A non-2xx answer, with the Status reason (NotFound, AlreadyExists, Conflict, …). */
export class ApiStatusError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiStatusError';
  }
}

const PATCH_TYPES = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
} as const;

export class ApiClient {
  constructor(private readonly send: ApiTransport) {}

  /** undefined on 404. */
  async get<T>(path: string): Promise<T | undefined> {
    const r = await this.send({ method: 'GET', path });
    if (r.status === 404) return undefined;
    return this.ok<T>(r, 'GET', path);
  }

  async list<T>(path: string): Promise<{ items: T[]; resourceVersion: string }> {
    const list = this.ok<{ items?: T[]; metadata?: { resourceVersion?: string } }>(await this.send({ method: 'GET', path }), 'GET', path);
    return { items: list.items ?? [], resourceVersion: list.metadata?.resourceVersion ?? '' };
  }

  async create<T>(path: string, object: unknown): Promise<T> {
    return this.ok<T>(await this.send({ method: 'POST', path, body: object }), 'POST', path);
  }

  async patch<T>(path: string, patch: unknown, type: keyof typeof PATCH_TYPES = 'merge'): Promise<T> {
    const r = await this.send({ method: 'PATCH', path, body: patch, contentType: PATCH_TYPES[type] });
    return this.ok<T>(r, 'PATCH', path);
  }

  /** false when it was not there. */
  async delete(path: string): Promise<boolean> {
    const r = await this.send({ method: 'DELETE', path });
    if (r.status === 404) return false;
    this.ok(r, 'DELETE', path);
    return true;
  }

  private ok<T>(r: ApiResponse, method: string, path: string): T {
    if (r.status >= 200 && r.status < 300) return r.body as T;
    const status = (r.body ?? {}) as { reason?: string; message?: string };
    throw new ApiStatusError(r.status, status.reason ?? 'Unknown', `${method} ${path}: ${r.status} ${status.message ?? JSON.stringify(r.body)}`);
  }
}

export function isStatus(err: unknown, reason: string): boolean {
  return err instanceof ApiStatusError && err.reason === reason;
}
