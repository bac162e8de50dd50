import type { ClusterInfo, EndpointSlice, Firewall, Gateway, NamespaceInfo, NodeInfo, PodInfo, Policy, Tunnel } from '../api/model.js';
import type { AgentConfig } from './config.js';
import type { ProbeFacts } from './probe-facts.js';

/**
 * Everything the planner may know about the cluster. Agents on workers do not watch every Pod:
 * then `pods` is undefined and endpoints come from the endpoint slices the controller writes.
 */
export interface Snapshot {
  readonly nodes: readonly NodeInfo[];
  readonly namespaces: readonly NamespaceInfo[];
  readonly pods?: readonly PodInfo[];
  readonly gateways: readonly Gateway[];
  readonly policies: readonly Policy[];
  /** EgressFirewall and EgressClusterFirewall objects (absent in older callers: none). */
  readonly firewalls?: readonly Firewall[];
  readonly slices: readonly EndpointSlice[];
  /** The controller's slices of the firewalls' selected pods (used when `pods` is undefined). */
  readonly firewallSlices?: readonly EndpointSlice[];
  readonly tunnels: readonly Tunnel[];
  readonly clusterInfo?: ClusterInfo;
  readonly config: AgentConfig;
  /**
   * What this node's UDP probes say of its peers and itself (absent: the API alone decides). An
   * overlay the agent adds before planning; the store never sets it.
   */
  readonly probes?: ProbeFacts;
  /**
   * The mark index of each node in this process's last plan (absent after a start). Another
   * overlay the store never sets: a status mark that is unusable or that another node's last mark
   * contests yields to it (see assignTunnels).
   */
  readonly lastMarks?: Readonly<Record<string, number>>;
}
