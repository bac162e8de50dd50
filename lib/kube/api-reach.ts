import type { KubeClient } from './rest-client.js';

/** The path asked: every API server serves it, and any answer (even 401/403) proves the server is reachable. */
const CHECK_PATH = '/version';

/**
 * Whether the API server answers at all, asked directly with a short deadline. The informers
 * cannot tell in time: a watch stream cut by a silent partition only ends after its
 * timeoutSeconds plus idle grace (minutes), and a list waits for its request timeout. Only the
 * fence asks this, and only while the node hears no peer.
 */
export async function apiAnswers(client: KubeClient, timeoutMs: number): Promise<boolean> {
  try {
    const res = await client.open('GET', CHECK_PATH, { timeoutMs });
    res.resume();
    res.destroy();
    return true;
  } catch {
    return false;
  }
}
