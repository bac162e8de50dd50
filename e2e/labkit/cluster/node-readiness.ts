/** Waiting for a Node to be Ready again: Ready=True, no lifecycle taints, and a heartbeat seen after `sinceMs`. */
import type { ApiClient } from './api-client.js';
import { apiPaths } from './api-paths.js';
import type { LeaseObject, NodeObject } from './kube-types.js';
import { pollUntil } from './lab-api.js';
import { isMarkedReady } from './node-health.js';

export async function waitNodeReady(api: ApiClient, node: string, sinceMs: number, timeoutMs: number): Promise<void> {
  let seen = 'not found';
  await pollUntil(
    async () => {
      const [n, lease] = await Promise.all([api.get<NodeObject>(apiPaths.node(node)), api.get<LeaseObject>(apiPaths.nodeLease(node))]);
      const renewed = Date.parse(lease?.spec?.renewTime ?? '') >= sinceMs;
      seen = !n ? 'not registered' : !isMarkedReady(n) ? 'not Ready' : !renewed ? 'no heartbeat yet' : '';
      return seen === '' ? true : undefined;
    },
    timeoutMs,
    async () => `node ${node} not Ready after ${timeoutMs} ms (${seen})`,
    100,
  );
}
