/** Requests from the lab's control-plane daemons, which run inside the control namespace. */
import { ApiUnavailableError, type ApiTransport } from './api-client.js';

export function fetchTransport(baseUrl: string, timeoutMs = 10_000): ApiTransport {
  return async ({ method, path, body, contentType }) => {
    let res: Response;
    try {
      res = await fetch(baseUrl + path, {
        method,
        headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': contentType ?? 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw new ApiUnavailableError(`${method} ${path}: ${describeFetchError(err)}`);
    }
    const text = await res.text().catch(() => '');
    let parsed: unknown;
    try {
      parsed = text.trim() === '' ? undefined : JSON.parse(text);
    } catch {
      throw new ApiUnavailableError(`${method} ${path}: not JSON: ${text.slice(0, 200)}`);
    }
    return { status: res.status, body: parsed };
  };
}

/** fetch hides the useful part (ECONNREFUSED, …) in `cause`. */
export function describeFetchError(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
}
