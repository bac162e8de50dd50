import { REBALANCE_ANNOTATION } from './group.js';
import { isRecord } from './fields.js';
import type { RebalanceRequest } from './model.js';

/** What a request names itself with: `sluice rebalance` writes a UTC timestamp; any such token will do. */
export const REBALANCE_TOKEN = /^[A-Za-z0-9][A-Za-z0-9._:+-]{0,62}$/;

/**
 * The rebalance request of an EgressGateway, from its annotation (untrusted text): a token of at
 * most 63 letters, digits and `._:+-`. Anything else is a request the controller refuses (named in
 * `invalid`, reported in the gateway's Rebalanced condition and an Event); the gateway itself stays
 * valid. Absent: no request.
 */
export function rebalanceRequest(metadata: unknown): RebalanceRequest | undefined {
  const annotations = isRecord(metadata) && isRecord(metadata.annotations) ? metadata.annotations : {};
  const raw = annotations[REBALANCE_ANNOTATION];
  if (raw === undefined) return undefined;
  if (typeof raw === 'string' && REBALANCE_TOKEN.test(raw)) return { token: raw };
  const shown = typeof raw === 'string' ? JSON.stringify(raw.length > 64 ? `${raw.slice(0, 64)}…` : raw) : `a ${Array.isArray(raw) ? 'list' : typeof raw}`;
  return { invalid: `annotation ${REBALANCE_ANNOTATION}: ${shown} is not a request token (1-63 letters, digits and ._:+-, starting with a letter or digit)` };
}
