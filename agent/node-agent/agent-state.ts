import type { ApplyReport } from '../../lib/dataplane/dataplane-types.js';
import type { NodePlan } from '../../lib/planner/node-plan.js';
import type { LivenessView } from '../../lib/liveness/liveness-types.js';
import { isIp } from '../../lib/api/ip.js';

/** One peer as this node's probes see it (a PeerLiveness, as JSON). */
export interface PeerStatus {
  readonly node: string;
  readonly address: string;
  /** Alive by the probes: heard directly, or vouched for by a peer this node heard. */
  readonly alive: boolean;
  /** Answered this node directly within the detection window. */
  readonly heard: boolean;
  /** Its last answer said: agent running, last apply succeeded. */
  readonly healthy: boolean;
  readonly draining: boolean;
  /** Probes in a row without an answer. */
  readonly misses: number;
  /** Milliseconds since its last answer; absent when it never answered. */
  readonly sinceHeardMs?: number;
  /** The egress IPs its last answer said it holds (addresses only: anything else a peer sent is left out). */
  readonly holds: readonly string[];
  /** Its last answer cut its lists to fit one datagram: `holds` may be incomplete. */
  readonly truncated?: true;
}

/** What `sluice status` shows of the probes: every peer, sorted by node name. */
export interface LivenessStatus {
  /** No peer answered within the fence window: this node may be cut off. */
  readonly isolated: boolean;
  readonly peers: readonly PeerStatus[];
}

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
  /** The probes' view of the peers (absent while this agent does not probe). */
  readonly liveness?: LivenessStatus;
}

/** The status document's form of the prober's view: plain JSON, peers in a stable order. */
export function livenessStatus(view: LivenessView): LivenessStatus {
  const peers = [...view.peers.values()]
    .map((p): PeerStatus => ({
      node: p.node,
      address: p.address,
      alive: p.alive,
      heard: p.heard,
      healthy: p.healthy,
      draining: p.draining,
      misses: p.misses,
      ...(p.sinceHeardMs !== undefined ? { sinceHeardMs: Math.round(p.sinceHeardMs) } : {}),
      holds: p.holds.filter((ip) => typeof ip === 'string' && isIp(ip)),
      ...(p.truncated ? { truncated: true as const } : {}),
    }))
    .sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
  return { isolated: view.isolated, peers };
}

export function applySummary(report: ApplyReport, at: string): NonNullable<AgentStatus['lastApply']> {
  const errors = Object.entries(report.subsystems).flatMap(([name, r]) => r.errors.map((e) => `${name}: ${e.message}`));
  return { at, ok: report.ok, writes: report.writes, durationMs: Math.round(report.durationMs * 10) / 10, errors };
}
