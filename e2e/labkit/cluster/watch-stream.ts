/** One watch request: newline-delimited events until the server ends the stream or `signal` aborts it. */
import { ApiStatusError, ApiUnavailableError } from './api-client.js';
import { describeFetchError } from './fetch-transport.js';
import type { WatchEvent } from './kube-types.js';

export async function watchStream<T>(baseUrl: string, path: string, resourceVersion: string, signal: AbortSignal, onEvent: (event: WatchEvent<T>) => void): Promise<void> {
  const query = new URLSearchParams({ watch: 'true', resourceVersion, allowWatchBookmarks: 'true', timeoutSeconds: '300' });
  let res: Response;
  try {
    res = await fetch(`${baseUrl}${path}?${query}`, { headers: { accept: 'application/json' }, signal });
  } catch (err) {
    throw new ApiUnavailableError(`watch ${path}: ${describeFetchError(err)}`);
  }
  if (res.status !== 200 || !res.body) {
    const body = (await res.json().catch(() => ({}))) as { reason?: string; message?: string };
    throw new ApiStatusError(res.status, body.reason ?? 'Unknown', `watch ${path}: ${res.status} ${body.message ?? ''}`);
  }
  const decoder = new TextDecoder();
  let buffered = '';
  try {
    for await (const chunk of res.body) {
      buffered += decoder.decode(chunk as Uint8Array, { stream: true });
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (line) onEvent(JSON.parse(line) as WatchEvent<T>);
      }
    }
  } catch (err) {
    if (signal.aborted) return;
    throw new ApiUnavailableError(`watch ${path}: ${describeFetchError(err)}`);
  }
}
