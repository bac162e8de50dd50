/**
 * Status follows the data path. When a gateway node dies, the agents move its egress IPs to the
 * successor by their probes alone (the same owner function, the dead node not eligible), long
 * before the API server marks the node NotReady. The successor then reports, in its EgressTunnel's
 * applied report, that it applied the policy for itself. The controller checks that claim and
 * writes status.node to match, so status names the node that carries the policy.
 *
 * A report is untrusted input (any agent may write any EgressTunnel's status). A claim is
 * followed only when all of these hold:
 * - it is about the policy as it is now (its generation, in an apply that succeeded), and status
 *   names another node, the one the assignment keeps it on;
 * - it is newer than that status (a report left over from before the last move claims nothing);
 * - the claiming node is eligible for the policy's gateway by the API server (its nodeSelector
 *   matches, it is Ready, it has a tunnel address and a mark);
 * - it is the node the owner function (placeOwners) picks when the status node is not eligible:
 *   the deterministic successor every agent computes;
 * - the status node has not reported since the claim that it still carries the policy.
 * A claim that fails the eligibility or successor test is refused and logged.
 */
import type { Policy } from '../api/model.js';
import type { Snapshot } from '../planner/snapshot.js';
import { resolveCluster, type Resolution } from '../planner/resolve.js';
import type { Assignment } from '../planner/assign.js';
import { placeOwners, type OwnedGroup, type Placeable } from '../planner/owners.js';
import { compareForAllocation } from '../planner/order.js';
import type { ClaimFacts } from './claim-order.js';
import type { ReportLookup } from './policy-programmed.js';

/** A policy whose carrying node the controller takes from a report: `to` took it over from `from`. */
export interface Takeover {
  readonly policyKey: string;
  readonly from: string;
  readonly to: string;
}

/** A claim a well-behaved agent does not make. */
interface RefusedClaim {
  readonly node: string;
  readonly policyKey: string;
  readonly since: number;
  readonly why: string;
}

export interface TakeoverJudgement {
  /** By policy key: every member of a claimed unit (the policies that share its egress IPs) moves. */
  readonly accepted: ReadonlyMap<string, Takeover>;
  readonly refused: readonly RefusedClaim[];
}

function placeable(policy: Policy, a: Assignment): Placeable {
  return { policy, eip: { ...(a.eipV4 ? { 4: a.eipV4 } : {}), ...(a.eipV6 ? { 6: a.eipV6 } : {}) } };
}

/** A unit's identity: its egress IPs (disjoint between units), or the policy for a useNodeIP unit. */
function unitId(key: string, group: OwnedGroup): string {
  return group.eips.length ? group.eips.join(' ') : `policy ${key}`;
}

interface Placement {
  readonly owners: ReadonlyMap<string, OwnedGroup>;
  /** Unit id → the keys of its policies. */
  readonly members: ReadonlyMap<string, readonly string[]>;
}

/** Which claims to follow, judged against the assignment made from status alone. Pure. */
export function judgeTakeovers(snapshot: Snapshot, resolution: Resolution, facts: ClaimFacts, reports: ReportLookup): TakeoverJudgement {
  const policies = new Map(snapshot.policies.map((p) => [p.key, p]));
  const assignments = resolution.assignment.policies;
  const placements = new Map<string, Placement>();
  /** The owner function's placement of a gateway's policies with `from` not eligible (computed once per pair). */
  const without = (gateway: string, from: string): Placement => {
    const id = `${gateway}\u0000${from}`;
    let placement = placements.get(id);
    if (!placement) {
      const active = snapshot.policies.filter((p) => p.spec.gatewayName === gateway && assignments.get(p.key)?.active);
      const placeables = active.sort(compareForAllocation).map((p) => placeable(p, assignments.get(p.key)!));
      const eligible = new Map(resolution.eligible);
      eligible.set(
        gateway,
        (resolution.eligible.get(gateway) ?? []).filter((n) => n !== from),
      );
      const owners = placeOwners(placeables, eligible);
      const members = new Map<string, string[]>();
      for (const [key, group] of owners) {
        const unit = unitId(key, group);
        const keys = members.get(unit);
        if (keys) keys.push(key);
        else members.set(unit, [key]);
      }
      placements.set(id, (placement = { owners, members }));
    }
    return placement;
  };
  const accepted = new Map<string, Takeover>();
  const refused: RefusedClaim[] = [];
  for (const claim of facts.selfClaims()) {
    const policy = policies.get(claim.policyKey);
    const a = policy && assignments.get(policy.key);
    const from = policy?.status.node;
    if (!policy || !a?.active || !from || a.node !== from || claim.node === from || accepted.has(policy.key)) continue;
    const report = reports(claim.node).report;
    const entry = report?.policies.get(policy.key);
    if (report?.result !== 'Applied' || entry?.node !== claim.node || entry.generation !== policy.generation) continue;
    if (claim.since <= (facts.holderSince(policy.key) ?? Number.POSITIVE_INFINITY)) continue;
    const refuse = (why: string) => refused.push({ node: claim.node, policyKey: policy.key, since: claim.since, why });
    const gateway = policy.spec.gatewayName;
    if (!(resolution.eligible.get(gateway) ?? []).includes(claim.node)) {
      refuse(`not eligible for EgressGateway "${gateway}" by the API server (not matched by its nodeSelector, not Ready, or without a tunnel address or mark)`);
      continue;
    }
    const placement = without(gateway, from);
    const group = placement.owners.get(policy.key);
    if (group?.owner !== claim.node) {
      refuse(`not the successor of "${from}" (that is ${group?.owner ? `"${group.owner}"` : 'no node'})`);
      continue;
    }
    const holder = reports(from).report;
    const stillHeld = holder?.result === 'Applied' && holder.policies.get(policy.key)?.node === from;
    if (stillHeld && (facts.reportChangedAt(from) ?? Number.NEGATIVE_INFINITY) > claim.since) continue;
    for (const key of placement.members.get(unitId(policy.key, group)) ?? []) accepted.set(key, { policyKey: key, from, to: claim.node });
  }
  return { accepted, refused };
}

/** The snapshot with the taken-over units' status naming their new holder: the assignment then keeps them there. */
export function withTakeovers(snapshot: Snapshot, accepted: ReadonlyMap<string, Takeover>): Snapshot {
  if (accepted.size === 0) return snapshot;
  const policies = snapshot.policies.map((p) => {
    const t = accepted.get(p.key);
    return t && p.status.node === t.from ? { ...p, status: { ...p.status, node: t.to } } : p;
  });
  return { ...snapshot, policies };
}

/** A pass's resolution with the takeovers it follows. */
export interface FollowedResolution {
  readonly resolution: Resolution;
  readonly takeovers: ReadonlyMap<string, Takeover>;
  readonly refused: readonly RefusedClaim[];
}

/**
 * Resolves the cluster as every agent does, then once more with the claims that pass (only while
 * a takeover is not yet in status, so a quiet cluster resolves once). The one assignment places
 * the units: a followed claim only changes who holds a unit now, and stickiness keeps it there.
 */
export function resolveFollowingTakeovers(snapshot: Snapshot, facts: ClaimFacts, reports: ReportLookup): FollowedResolution {
  const base = resolveCluster(snapshot);
  const { accepted, refused } = judgeTakeovers(snapshot, base, facts, reports);
  if (accepted.size === 0) return { resolution: base, takeovers: accepted, refused };
  const resolution = resolveCluster(withTakeovers(snapshot, accepted));
  const takeovers = new Map([...accepted].filter(([key, t]) => resolution.assignment.policies.get(key)?.node === t.to));
  return { resolution, takeovers, refused };
}
