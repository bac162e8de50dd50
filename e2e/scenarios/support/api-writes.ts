/**
 * Write requests the lab's API server received, from its write counter (`/debug/writes`): per
 * resource (`egresspolicies.egress.sluice.dev/status`, `leases.coordination.k8s.io`, `events`)
 * and verb, failed requests included. The counter starts at zero with the server process.
 */
import type { WriteVerb } from '../../apiserver/write-counter.js';
import { labApi } from '../../labkit/cluster/lab-api.js';
import type { Lab } from '../../labkit/lab.js';

export type WriteCounts = Record<string, Record<WriteVerb, number>>;

export async function apiWrites(lab: Lab): Promise<WriteCounts> {
  const counts = await labApi(await lab.state()).get<WriteCounts>('/debug/writes');
  if (!counts) throw new Error('the API server has no /debug/writes');
  return counts;
}

/** Writes per resource from `before` to `after` (resources with none left out). */
export function writesBetween(before: WriteCounts, after: WriteCounts): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [resource, verbs] of Object.entries(after)) {
    const n = (Object.keys(verbs) as WriteVerb[]).reduce((sum, v) => sum + verbs[v] - (before[resource]?.[v] ?? 0), 0);
    if (n !== 0) out[resource] = n;
  }
  return out;
}

/** Node heartbeats and the controller Lease: the writes a healthy, quiet cluster keeps making. */
export const isLeaseWrite = (resource: string): boolean => resource === 'leases.coordination.k8s.io';
