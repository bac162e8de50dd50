import type { Snapshot } from './snapshot.js';
import { assignPolicies } from './assign.js';

export interface CrossProblem {
  readonly object: string;
  readonly reason: string;
  readonly message: string;
}

/**
 * Problems that need more than one object: a policy naming a missing gateway, an EIP outside the
 * pool or taken by another gateway, an exhausted pool. Node readiness is not a validation error.
 */
export function crossCheck(snapshot: Snapshot): CrossProblem[] {
  const out: CrossProblem[] = [];
  const assignments = assignPolicies(snapshot);
  for (const policy of snapshot.policies) {
    const a = assignments.get(policy.key);
    if (!a || a.active || !a.reason || a.reason === 'NoReadyGatewayNode') continue;
    out.push({ object: `${policy.kind} "${policy.key}"`, reason: a.reason, message: a.message ?? a.reason });
  }
  return out;
}
