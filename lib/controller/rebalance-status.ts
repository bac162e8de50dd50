import { isRecord } from '../api/fields.js';
import { REBALANCE_TOKEN } from '../api/rebalance-request.js';
import type { JsonObject } from '../kube/rest-client.js';
import type { RebalanceAck, RebalanceState } from './rebalance.js';

const STATES: readonly RebalanceState[] = ['InProgress', 'Done', 'Invalid'];

/** status.rebalance of a gateway's wire form, when it is one the controller could have written (status is untrusted). */
export function readRebalanceStatus(raw: JsonObject | undefined): RebalanceAck | undefined {
  const status = raw && isRecord(raw.status) ? raw.status : undefined;
  const r = status && isRecord(status.rebalance) ? status.rebalance : undefined;
  if (!r || typeof r.request !== 'string' || !REBALANCE_TOKEN.test(r.request)) return undefined;
  const state = STATES.find((s) => s === r.state);
  return state ? { request: r.request, state } : undefined;
}
