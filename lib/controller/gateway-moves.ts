import type { Policy } from '../api/model.js';
import { selectorMatches } from '../api/labels.js';
import { DRAIN_ANNOTATION } from '../api/group.js';
import type { Snapshot } from '../planner/snapshot.js';
import type { ReportLookup } from './policy-programmed.js';

export type MoveKind = 'failover' | 'handoff';

/** Why a policy's gateway node changed: the Event's reason and message say it. */
export interface GatewayMove {
  readonly kind: MoveKind;
  /** Event reason: GatewayFailover or GatewayHandoff. */
  readonly reason: 'GatewayFailover' | 'GatewayHandoff';
  readonly message: string;
}

/**
 * Tells a planned move from a failure by what the controller sees of the old node. Planned
 * (handoff): the node left the gateway's nodeSelector, it is drained (cordon or annotation), or its own latest report applied the policy
 * for the new node (it was draining and handed over; a dead node writes no report). Otherwise the
 * node failed: it is gone, NotReady or unreachable, or its peers found it dead by their probes and
 * the new node took over while the API server still said Ready (`takenOver`), or it is no longer
 * eligible (`eligible`: the gateway's eligible nodes). Undefined when the old node can still carry
 * the policy: not a move of its egress IPs, but a status that named another node corrected.
 */
export function classifyMove(
  snapshot: Snapshot,
  policy: Policy,
  from: string,
  to: string,
  reports: ReportLookup,
  takenOver: boolean,
  eligible: readonly string[],
): GatewayMove | undefined {
  const failover = (why: string): GatewayMove => ({ kind: 'failover', reason: 'GatewayFailover', message: `gateway node "${from}" ${why}; "${to}" took over` });
  const handoff = (why: string): GatewayMove => ({ kind: 'handoff', reason: 'GatewayHandoff', message: `gateway node "${from}" handed over to "${to}" (${why})` });
  const node = snapshot.nodes.find((n) => n.name === from);
  if (!node) return failover('is gone');
  if (!node.ready) return failover('is NotReady');
  if (node.unreachable) return failover('is unreachable');
  const gateway = snapshot.gateways.find((g) => g.name === policy.spec.gatewayName);
  if (gateway && !selectorMatches(gateway.nodeSelector, node.labels)) return handoff(`it left the nodeSelector of EgressGateway "${gateway.name}"`);
  if (node.drain?.drained) return handoff(node.drain.by === 'cordon' ? 'it was cordoned' : `it was drained (annotation ${DRAIN_ANNOTATION})`);
  const report = reports(from).report;
  if (report?.result === 'Applied' && report.policies.get(policy.key)?.node === to) return handoff('it was draining and applied the move itself');
  if (takenOver) return failover("failed its peers' probes (dead, or its agent unhealthy)");
  if (!eligible.includes(from)) return failover('is no longer eligible');
  return undefined;
}
