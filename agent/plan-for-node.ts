import type { NodePlan } from '../lib/planner/node-plan.js';
import type { ProbeFacts } from '../lib/planner/probe-facts.js';
import type { Snapshot } from '../lib/planner/snapshot.js';
import { plan } from '../lib/planner/plan.js';
import { withOwnParent } from './node-agent/own-parent.js';

/** What a node knows of itself beyond the cluster's objects. */
export interface NodeSelf {
  readonly node: string;
  /** Its parent NIC (the agent's `--interface`, or the NIC it detected); absent: its EgressTunnel's word. */
  readonly parentInterface?: string;
  /** What its UDP probes say; absent: the API alone decides. */
  readonly probes?: ProbeFacts;
  /** The mark index of each node in its last plan (see Snapshot.lastMarks). */
  readonly lastMarks?: Readonly<Record<string, number>>;
}

/** A node's plan as its agent computes it; `sluice plan` computes it the same way (with no last plan). */
export function planForNode(snapshot: Snapshot, self: NodeSelf): NodePlan {
  const probed =
    self.probes || self.lastMarks ? { ...snapshot, ...(self.probes ? { probes: self.probes } : {}), ...(self.lastMarks ? { lastMarks: self.lastMarks } : {}) } : snapshot;
  return plan(self.parentInterface ? withOwnParent(probed, self.node, self.parentInterface) : probed, self.node);
}
