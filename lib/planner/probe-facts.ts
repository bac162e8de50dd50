import { fitByProbes, type LivenessView } from '../liveness/liveness-types.js';

/**
 * What a node's probes say that changes a plan, as plain data the planner takes with the snapshot
 * (Snapshot.probes). Without it the planner judges nodes by the API alone.
 */
export interface ProbeFacts {
  /** Nodes that must not carry egress IPs now by the probes (dead, unhealthy, draining), sorted. */
  readonly unfit: readonly string[];
  /**
   * Those of `unfit` that are unfit only because the probes find them dead (their last answer
   * said healthy, not draining). When every node a gateway could use is unfit, the deaths are not
   * acted on first, and then nothing the probes say (overlayProbes in resolve.ts).
   */
  readonly dead: readonly string[];
  /** Egress IP → the nodes alive by the probes that hold it on their NIC now (sorted; only IPs with a holder). */
  readonly holders: ReadonlyMap<string, readonly string[]>;
}

/** What this node says of itself: the same judgement its peers make of it from its answers. */
export interface SelfFacts {
  readonly node: string;
  /** Fit to carry egress IPs (healthy and not draining, as its probe answers say). */
  readonly fit: boolean;
  /** The egress IPs on its NIC after its last apply. */
  readonly holds: readonly string[];
  /**
   * This node's own process stalled lately: a peer it hears now but judged dead (held down) may
   * only have gone unheard while this node was not listening, so it counts as alive.
   */
  readonly doubtDeaths?: boolean;
}

/**
 * The probe facts from this node's liveness view and its own report. This node judges itself as
 * its peers judge it (from what it answers), so every node reaches the same owners from the same
 * answers. Holders are counted only while alive: a dead node's NIC is nobody's concern.
 */
export function probeFacts(view: LivenessView, self: SelfFacts): ProbeFacts {
  const unfit = new Set<string>();
  const dead = new Set<string>();
  const holders = new Map<string, Set<string>>();
  const hold = (ip: string, node: string) => {
    let set = holders.get(ip);
    if (!set) holders.set(ip, (set = new Set()));
    set.add(node);
  };
  for (const peer of view.peers.values()) {
    if (peer.node === self.node) continue;
    const alive = peer.alive || (self.doubtDeaths === true && peer.heard);
    if (!fitByProbes({ ...peer, alive })) unfit.add(peer.node);
    if (!alive && fitByProbes({ ...peer, alive: true })) dead.add(peer.node);
    if (alive) for (const ip of peer.holds) hold(ip, peer.node);
  }
  if (!self.fit) unfit.add(self.node);
  for (const ip of self.holds) hold(ip, self.node);
  return {
    unfit: [...unfit].sort(),
    dead: [...dead].sort(),
    holders: new Map([...holders].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([ip, set]) => [ip, [...set].sort()])),
  };
}

/** A canonical text of the facts: equal facts give equal keys (the agent's plan memo keys on it). */
export function probeFactsKey(facts: ProbeFacts): string {
  return JSON.stringify([facts.unfit, facts.dead, [...facts.holders]]);
}
