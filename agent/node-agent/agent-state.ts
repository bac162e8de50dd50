import type { ApplyReport } from '../../lib/dataplane/dataplane-types.js';
import type { NodePlan } from '../../lib/planner/node-plan.js';

/** What `sluice status` shows: the agent's view, its last plan and what the kernel apply did. */
export interface AgentStatus {
  readonly node: string;
  readonly version: string;
  /** The git commit the build recorded, or `unknown`. */
  readonly commit: string;
  readonly leader: boolean;
  readonly synced: boolean;
  readonly ready: boolean;
  readonly parentInterface: string;
  readonly lastPlanAt?: string;
  readonly lastApply?: { readonly at: string; readonly ok: boolean; readonly writes: number; readonly durationMs: number; readonly errors: readonly string[] };
  readonly lastError?: string;
  readonly plan?: NodePlan;
  readonly announcements: readonly { ip: string; ifname: string; framesSent: number; lastError?: string }[];
}

export function applySummary(report: ApplyReport, at: string): NonNullable<AgentStatus['lastApply']> {
  const errors = Object.entries(report.subsystems).flatMap(([name, r]) => r.errors.map((e) => `${name}: ${e.message}`));
  return { at, ok: report.ok, writes: report.writes, durationMs: Math.round(report.durationMs * 10) / 10, errors };
}
