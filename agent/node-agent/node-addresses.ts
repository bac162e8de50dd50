import * as k8s from '@kubernetes/client-node';

/** The InternalIPs of this node as the API server lists them; empty when it cannot be read in time. */
export async function readNodeAddresses(kc: k8s.KubeConfig, nodeName: string, deadlineMs: number): Promise<string[]> {
  const api = kc.makeApiClient(k8s.CoreV1Api);
  const until = Date.now() + deadlineMs;
  let delay = 200;
  while (Date.now() < until) {
    try {
      const node = await api.readNode({ name: nodeName });
      return (node.status?.addresses ?? []).filter((a) => a.type === 'InternalIP').map((a) => a.address);
    } catch {
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 2000);
    }
  }
  return [];
}
