import { API_VERSION } from '../api/group.js';
import type { DesiredCondition } from '../kube/conditions.js';
import type { StoredObject } from '../cluster/store.js';
import type { JsonObject } from '../kube/rest-client.js';
import type { ControllerContext } from './context.js';
import type { RebalanceProgress } from './rebalance.js';
import { readRebalanceStatus } from './rebalance-status.js';

/** status.rebalance as written: the request taken up, its state, and the units not on their preferred node. */
export function rebalanceStatus(p: RebalanceProgress): { request?: string; state: string; remaining: number } {
  return { ...(p.request !== undefined ? { request: p.request } : {}), state: p.state, remaining: p.remaining };
}

/** The Rebalanced condition: True once the request is done, False while it runs or when it is not a request. */
export function rebalanceCondition(p: RebalanceProgress, generation: number): DesiredCondition {
  const status = p.state === 'Done' ? 'True' : 'False';
  const reason = p.state === 'Done' ? 'Rebalanced' : p.state === 'InProgress' ? 'Rebalancing' : 'InvalidRequest';
  return { type: 'Rebalanced', status, reason, message: p.message, observedGeneration: generation };
}

/** Events when a request starts, finishes or is refused (transitions of status.rebalance only). */
export async function announceRebalance(ctx: ControllerContext, stored: StoredObject<'EgressGateway'>, p: RebalanceProgress, before: JsonObject): Promise<void> {
  const old = readRebalanceStatus(before);
  const subject = { apiVersion: API_VERSION, kind: 'EgressGateway', name: stored.name, uid: stored.uid };
  const same = old?.request === p.request && old?.state === p.state;
  if (same) return;
  if (p.state === 'Invalid') await ctx.events.record(subject, 'Warning', 'InvalidRebalanceRequest', p.message, ctx.signal);
  else if (p.state === 'InProgress') await ctx.events.record(subject, 'Normal', 'Rebalancing', p.message, ctx.signal);
  else if (p.state === 'Done') await ctx.events.record(subject, 'Normal', 'Rebalanced', p.message, ctx.signal);
}
