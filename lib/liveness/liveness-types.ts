/**
 * What a node's agent knows of its peers' liveness from its own UDP probes (lib/liveness), without
 * the API server. The planner sees it only as an overlay on the nodes' readiness: a peer that is
 * dead, unhealthy or draining by the probes is not eligible to carry egress IPs.
 */

/** What this node's probes say of one peer. */
export interface PeerLiveness {
  readonly node: string;
  /** The underlay address probes go to and must come from. */
  readonly address: string;
  /** Answered directly within the detection window (interval × misses). */
  readonly heard: boolean;
  /**
   * Alive by the probes: heard directly, or, when not heard, reported heard within the window
   * by a peer this node itself heard (so a partition between two gateways that the workers still
   * see both sides of is not taken for a death). A peer never probed long enough is alive.
   */
  readonly alive: boolean;
  /** Its last answer said: agent running and its last dataplane apply succeeded. */
  readonly healthy: boolean;
  /** Its last answer said: handing its egress IPs over before it stops or leaves the selector. */
  readonly draining: boolean;
  /** The egress IPs its last answer said it holds on its NIC now. */
  readonly holds: readonly string[];
  /** Its last answer had to cut its lists to fit one datagram: `holds` may be incomplete. */
  readonly truncated?: boolean;
  /** Probes in a row without an answer. */
  readonly misses: number;
  /** Milliseconds since the last answer (undefined: never answered). */
  readonly sinceHeardMs?: number;
}

/** A consistent picture of every probed peer at one instant. */
export interface LivenessView {
  readonly peers: ReadonlyMap<string, PeerLiveness>;
  /** No peer answered directly within the fence window (the node may be cut off). */
  readonly isolated: boolean;
  /**
   * No node at all, probed or known, was heard within the detection window: whatever this node
   * could not hear could not hear it either, so its peers are judging it dead (absent: false).
   */
  readonly hearsNobody?: boolean;
}

/** What this node says of itself in every probe and answer. */
export interface SelfReport {
  readonly healthy: boolean;
  readonly draining: boolean;
  readonly holds: readonly string[];
}

/** A peer is fit to carry egress IPs by the probes (peers not probed are judged by the API alone). */
export function fitByProbes(peer: PeerLiveness | undefined): boolean {
  return peer === undefined || (peer.alive && peer.healthy && !peer.draining);
}
