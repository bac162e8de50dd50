/**
 * Rebalancing on request. Ownership is sticky: a node that joins a gateway takes only new egress
 * IPs. A user who wants the existing ones spread again asks for it with the gateway's rebalance
 * annotation (`sluice rebalance GATEWAY`). The controller then moves the gateway's units (the
 * policies that share an EIP) one at a time to the node the owner function would give them were
 * they new (the rendezvous winner over the eligible nodes), by writing status.node first. Every
 * agent follows status: the new node adds the EIP, the old one keeps it until the new one holds it
 * (handoff.ts), and workers steer to the old one meanwhile (owners.ts): the same make-before-break
 * as a drain. The next unit moves only once the last one's new node reports it applied. When no
 * unit is left to move, status.rebalance acknowledges the request (Done). useNodeIP policies never
 * move: their source address is the node's own, and a move would change it under their flows.
 */
import type { Gateway, Policy } from '../api/model.js';
import type { Snapshot } from '../planner/snapshot.js';
import type { Resolution } from '../planner/resolve.js';
import { placeOwners, type OwnedGroup, type Placeable } from '../planner/owners.js';
import { compareForAllocation } from '../planner/order.js';
import type { ReportLookup } from './policy-programmed.js';

export type RebalanceState = 'InProgress' | 'Done' | 'Invalid';

/** What status.rebalance says of a request, as the controller last wrote it (checked; see readRebalanceStatus). */
export interface RebalanceAck {
  readonly request: string;
  readonly state: RebalanceState;
}

/** Where a gateway's request stands after this pass. */
export interface RebalanceProgress {
  readonly request?: string;
  readonly state: RebalanceState;
  /** Units not on their preferred node (after this pass's move). */
  readonly remaining: number;
  readonly message: string;
}

/** A unit's move this pass: every policy that shares its egress IPs. */
export interface RebalanceMove {
  readonly gateway: string;
  readonly policyKeys: readonly string[];
  readonly from: string;
  readonly to: string;
}

export interface RebalancePlan {
  readonly progress: ReadonlyMap<string, RebalanceProgress>;
  /** By policy key. */
  readonly moves: ReadonlyMap<string, RebalanceMove>;
}

interface Unit {
  readonly keys: string[];
  readonly eips: readonly string[];
  readonly node: string;
  readonly preferred?: string;
}

/** The gateway's active EIP units, each with the node that carries it and the node it would go to were it new. */
function unitsOf(snapshot: Snapshot, resolution: Resolution, gateway: Gateway): Unit[] {
  const assignments = resolution.assignment.policies;
  const members = snapshot.policies
    .filter((p) => p.spec.gatewayName === gateway.name && !p.spec.useNodeIP && assignments.get(p.key)?.active && assignments.get(p.key)?.node)
    .sort(compareForAllocation);
  const fresh: Placeable[] = members.map((p) => {
    const a = assignments.get(p.key)!;
    return { policy: withoutStatus(p), eip: { ...(a.eipV4 ? { 4: a.eipV4 } : {}), ...(a.eipV6 ? { 6: a.eipV6 } : {}) } };
  });
  const preferred = placeOwners(fresh, resolution.eligible);
  const units = new Map<string, Unit>();
  for (const p of members) {
    const group: OwnedGroup | undefined = preferred.get(p.key);
    const id = group?.eips.join(' ') ?? p.key;
    const unit = units.get(id) ?? { keys: [], eips: group?.eips ?? [], node: assignments.get(p.key)!.node!, ...(group?.owner ? { preferred: group.owner } : {}) };
    unit.keys.push(p.key);
    units.set(id, unit);
  }
  return [...units.values()].sort((a, b) => (a.eips[0] ?? '').localeCompare(b.eips[0] ?? ''));
}

function withoutStatus(p: Policy): Policy {
  return { ...p, status: {} };
}

/**
 * This pass's rebalance: per gateway with a request, where it stands, and at most one unit to move
 * (none while a unit moved to its preferred node is not yet applied there by its report). Pure.
 */
export function planRebalance(snapshot: Snapshot, resolution: Resolution, acks: (gateway: string) => RebalanceAck | undefined, reports: ReportLookup): RebalancePlan {
  const progress = new Map<string, RebalanceProgress>();
  const moves = new Map<string, RebalanceMove>();
  for (const gateway of snapshot.gateways) {
    const request = gateway.rebalance;
    if (!request) continue;
    if (request.invalid !== undefined || request.token === undefined) {
      progress.set(gateway.name, { state: 'Invalid', remaining: 0, message: request.invalid ?? 'no request token' });
      continue;
    }
    const token = request.token;
    const units = unitsOf(snapshot, resolution, gateway);
    const away = units.filter((u) => u.preferred !== undefined && u.preferred !== u.node);
    const ack = acks(gateway.name);
    if (ack?.request === token && ack.state === 'Done') {
      progress.set(gateway.name, { request: token, state: 'Done', remaining: away.length, message: doneMessage(token, away.length) });
      continue;
    }
    const applied = (u: Unit) => {
      const report = reports(u.node).report;
      return report?.result === 'Applied' && u.keys.every((k) => report.policies.get(k)?.node === u.node);
    };
    const unsettled = units.filter((u) => u.preferred === u.node && !applied(u));
    const next = away[0];
    if (unsettled.length > 0 || next === undefined) {
      const state = unsettled.length > 0 ? 'InProgress' : 'Done';
      const message =
        state === 'Done'
          ? doneMessage(token, 0)
          : `request "${token}": waiting for "${unsettled[0]!.node}" to apply ${unsettled[0]!.eips.join(', ')}; ${away.length} egress IP group(s) left to move`;
      progress.set(gateway.name, { request: token, state, remaining: away.length, message });
      continue;
    }
    const move: RebalanceMove = { gateway: gateway.name, policyKeys: next.keys, from: next.node, to: next.preferred! };
    for (const key of next.keys) moves.set(key, move);
    progress.set(gateway.name, {
      request: token,
      state: 'InProgress',
      remaining: away.length - 1,
      message: `request "${token}": moving ${next.eips.join(', ')} from "${next.node}" to "${next.preferred}"; ${away.length - 1} egress IP group(s) left after it`,
    });
  }
  return { progress, moves };
}

function doneMessage(token: string, remaining: number): string {
  return `request "${token}": every egress IP is on its preferred node${remaining > 0 ? ` (${remaining} group(s) have another preferred node since; ask again to move them)` : ''}`;
}

/** The snapshot with this pass's moves written into status: the assignment then places the units there (sticky). */
export function withRebalanceMoves(snapshot: Snapshot, moves: ReadonlyMap<string, RebalanceMove>): Snapshot {
  if (moves.size === 0) return snapshot;
  return {
    ...snapshot,
    policies: snapshot.policies.map((p) => {
      const m = moves.get(p.key);
      return m ? { ...p, status: { ...p.status, node: m.to } } : p;
    }),
  };
}
