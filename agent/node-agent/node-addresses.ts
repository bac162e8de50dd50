import { isRecord } from '../../lib/api/fields.js';
import { NODE_RESOURCE, resourcePath } from '../../lib/kube/resource.js';
import { KubeClient } from '../../lib/kube/rest-client.js';
import type { KubeConfig } from '../../lib/kube/kubeconfig.js';

/** The InternalIPs a Node object lists (status.addresses), ignoring entries of any other shape. */
function internalIps(node: unknown): string[] {
  const status = isRecord(node) && isRecord(node.status) ? node.status : {};
  const addresses = Array.isArray(status.addresses) ? status.addresses : [];
  return addresses.flatMap((a) => (isRecord(a) && a.type === 'InternalIP' && typeof a.address === 'string' ? [a.address] : []));
}

/**
 * The InternalIPs of this node as the API server lists them; empty when it cannot be read in time.
 * Uses a client of its own, closed before it returns (it runs before the agent's client exists).
 */
export async function readNodeAddresses(kubeConfig: KubeConfig, nodeName: string, deadlineMs: number): Promise<string[]> {
  const client = new KubeClient(kubeConfig);
  try {
    return await readUntil(client, nodeName, Date.now() + deadlineMs);
  } finally {
    client.close();
  }
}

async function readUntil(client: KubeClient, nodeName: string, until: number): Promise<string[]> {
  let delay = 200;
  while (Date.now() < until) {
    try {
      return internalIps(await client.json('GET', resourcePath(NODE_RESOURCE, { name: nodeName }), { timeoutMs: Math.max(1, until - Date.now()) }));
    } catch {
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 2000);
    }
  }
  return [];
}
