/**
 * The agents' view of each other by the liveness probes (their `/status`, `liveness.peers`), so a
 * scenario breaks a gateway only once its peers count it and each other alive: a node healed a
 * moment ago is not eligible until its hold-down has passed, and breaking the other gateway then
 * would be a double failure.
 */
import type { Lab } from '../../labkit/lab.js';
import { waitFor } from './wait.js';

const STATUS_URL = 'http://127.0.0.1:9466/status';

interface StatusDoc {
  liveness?: { peers?: Array<{ node?: unknown; alive?: unknown }> };
}

/** Peers `node`'s agent counts alive, or undefined when it does not probe (an agent without probes). */
export async function alivePeers(lab: Lab, node: string): Promise<string[] | undefined> {
  const r = await lab.exec({ node }, ['curl', '-sS', '--max-time', '2', STATUS_URL], { timeoutMs: 5_000 });
  const doc = JSON.parse(r.stdout) as StatusDoc;
  if (!doc.liveness) return undefined;
  return (doc.liveness.peers ?? []).filter((p) => p.alive === true && typeof p.node === 'string').map((p) => p.node as string);
}

/** Waits until every one of `nodes` counts every other one alive (at once when the agents do not probe). */
export async function waitPeersAlive(lab: Lab, nodes: readonly string[], timeoutMs = 30_000): Promise<void> {
  await waitFor(`${nodes.join(', ')} to count each other alive by the probes`, timeoutMs, async () => {
    for (const n of nodes) {
      const alive = await alivePeers(lab, n);
      if (alive === undefined) continue;
      const missing = nodes.filter((m) => m !== n && !alive.includes(m));
      if (missing.length) throw new Error(`${n} does not count ${missing.join(', ')} alive`);
    }
    return true;
  });
}
