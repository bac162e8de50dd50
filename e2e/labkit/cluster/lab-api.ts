/** The lab process's own client for its API server (curl inside the control namespace). */
import type { LabState } from '../state.js';
import { ApiClient } from './api-client.js';
import { LOCAL_API_SERVER_URL } from './control-plane-daemons.js';
import { curlTransport } from './curl-transport.js';

export function labApi(s: Pick<LabState, 'netns'>): ApiClient {
  return new ApiClient(curlTransport(s.netns.control, LOCAL_API_SERVER_URL));
}

/** Polls `check` until it returns a value; throws `describe()`'s message after timeoutMs. */
export async function pollUntil<T>(check: () => Promise<T | undefined>, timeoutMs: number, describe: () => Promise<string>, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(await describe());
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
