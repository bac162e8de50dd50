/**
 * What `sluice drain`, `undrain` and `rebalance` send to the API server, and how they tell that the
 * request took effect. The agents and the controller do the moving; these only ask and watch.
 */
import { DRAIN_ANNOTATION, REBALANCE_ANNOTATION } from '../api/group.js';
import { isRecord } from '../api/fields.js';
import type { KubeClient, JsonObject } from '../kube/rest-client.js';
import { resourcePath } from '../kube/resource.js';
import { RESOURCES } from './kinds.js';

const nodePath = (name: string) => resourcePath(RESOURCES.Node, { name });
const gatewayPath = (name: string) => resourcePath(RESOURCES.EgressGateway, { name });

/** Sets (true) or removes (undefined) the node's drain annotation; returns the node as the API server has it now. */
export function setDrain(client: KubeClient, node: string, drained: boolean): Promise<JsonObject> {
  return client.mergePatch(nodePath(node), { metadata: { annotations: { [DRAIN_ANNOTATION]: drained ? 'true' : null } } });
}

/** Whether the node is cordoned (spec.unschedulable). */
export function isCordoned(node: JsonObject): boolean {
  return isRecord(node.spec) && node.spec.unschedulable === true;
}

/** Writes a new rebalance request on the gateway (the token names it: status.rebalance.request echoes it). */
export async function requestRebalance(client: KubeClient, gateway: string, token: string): Promise<void> {
  await client.mergePatch(gatewayPath(gateway), { metadata: { annotations: { [REBALANCE_ANNOTATION]: token } } });
}

/** A request token from a time: its UTC timestamp in milliseconds, as REBALANCE_TOKEN allows. */
export function rebalanceToken(at: Date): string {
  return at.toISOString();
}

/** The policies (both kinds) whose status names `node` as their gateway node, as `kind ns/name`. */
export async function policiesCarriedBy(client: KubeClient, node: string): Promise<string[]> {
  const out: string[] = [];
  for (const kind of ['EgressPolicy', 'EgressClusterPolicy'] as const) {
    const list = await client.list(resourcePath(RESOURCES[kind]));
    for (const item of Array.isArray(list.items) ? list.items : []) {
      if (!isRecord(item) || !isRecord(item.status) || item.status.node !== node || !isRecord(item.metadata)) continue;
      const { name, namespace } = item.metadata;
      out.push(`${kind} ${typeof namespace === 'string' && namespace ? `${namespace}/` : ''}${String(name)}`);
    }
  }
  return out.sort();
}

/** status.rebalance of the gateway and its Rebalanced condition's message, as far as they are there. */
export async function rebalanceProgress(client: KubeClient, gateway: string): Promise<{ request?: string; state?: string; remaining?: number; message?: string }> {
  const g = await client.get(gatewayPath(gateway));
  const status = isRecord(g.status) ? g.status : {};
  const r = isRecord(status.rebalance) ? status.rebalance : {};
  const condition: unknown = Array.isArray(status.conditions) ? (status.conditions as unknown[]).find((c) => isRecord(c) && c.type === 'Rebalanced') : undefined;
  return {
    ...(typeof r.request === 'string' ? { request: r.request } : {}),
    ...(typeof r.state === 'string' ? { state: r.state } : {}),
    ...(typeof r.remaining === 'number' ? { remaining: r.remaining } : {}),
    ...(isRecord(condition) && typeof condition.message === 'string' ? { message: condition.message } : {}),
  };
}
