import { appliedPolicyWire, boundedMessage, sortAppliedPolicies } from '../../lib/api/applied-report.js';
import { APPLIED_POLICIES_MAX } from '../../lib/api/limits.js';
import type { AppliedPolicyWire, AppliedReportWire } from '../../lib/api/wire.js';
import type { ApplyReport, Subsystem } from '../../lib/dataplane/dataplane-types.js';
import { EgressError, errorMessage, type ErrorCode } from '../../lib/errors.js';
import type { NodePlan } from '../../lib/planner/node-plan.js';
import type { Snapshot } from '../../lib/planner/snapshot.js';

/** Why an apply did not succeed: its report (kernel errors), or what was thrown before it ran. */
export type ApplyFailure = { readonly report: ApplyReport } | { readonly thrown: unknown; readonly fallback: ErrorCode };

/**
 * The policies a plan gives this node a part in (it carries them, or routes its pods' traffic for
 * them), with the generation it planned from and the gateway node it planned for: what the
 * controller compares with each policy's current generation and placement.
 */
export function appliedPolicies(plan: NodePlan, snapshot: Snapshot): { policies: AppliedPolicyWire[]; truncated: boolean } {
  const generations = new Map(snapshot.policies.map((p) => [p.key, p.generation]));
  const entries = plan.policies
    .filter((p) => p.role !== 'none' && p.node !== undefined)
    .map((p) => appliedPolicyWire(p.kind === 'EgressPolicy' ? p.namespace : '', p.name, Math.max(1, generations.get(p.key) ?? 1), p.node!));
  const sorted = sortAppliedPolicies(entries);
  return { policies: sorted.slice(0, APPLIED_POLICIES_MAX), truncated: sorted.length > APPLIED_POLICIES_MAX };
}

/** The order an apply runs its subsystems in (see Dataplane.apply): the first failure is the cause of the later ones. */
const APPLY_ORDER: readonly Subsystem[] = ['nft', 'links', 'sysctls', 'routes', 'addresses', 'announcer'];

function firstError(failure: ApplyFailure): { code: string; message: string } {
  if ('report' in failure) {
    for (const subsystem of APPLY_ORDER) {
      const e = failure.report.subsystems[subsystem]?.errors[0];
      if (e) return { code: e.code, message: `${subsystem}: ${e.op}: ${e.message}` };
    }
    return { code: 'EGW_ERR_NETLINK', message: 'the apply reported errors' };
  }
  const code = failure.thrown instanceof EgressError ? failure.thrown.code : failure.fallback;
  return { code, message: errorMessage(failure.thrown) };
}

/** The EgressTunnel `status.applied` this node publishes after an apply (or a skipped one, when its plan was already in force). */
export function appliedReport(applied: { policies: AppliedPolicyWire[]; truncated: boolean }, failure?: ApplyFailure): AppliedReportWire {
  const error = failure ? firstError(failure) : undefined;
  return {
    result: error ? 'Failed' : 'Applied',
    ...(error ? { code: error.code, message: boundedMessage(error.message) } : {}),
    ...(applied.truncated ? { truncated: true } : {}),
    policies: applied.policies,
  };
}
