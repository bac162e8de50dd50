import type { NodeInfo } from '../api/model.js';
import { selectorMatches } from '../api/labels.js';
import type { Snapshot } from './snapshot.js';

/**
 * The nodes of one gateway that are not drained, from those the API finds eligible. Never none
 * while there was one: when every such node is drained, they all stay (as with the probes, see
 * overlayProbes in resolve.ts), so draining a gateway's last node keeps its policies active on it
 * rather than letting the pods' flows leave un-NATed; its egress IPs leave once another node can
 * carry them.
 */
export function withoutDrained(nodes: readonly NodeInfo[]): NodeInfo[] {
  const staying = nodes.filter((n) => !n.drain?.drained);
  return staying.length > 0 ? staying : [...nodes];
}

/** The nodes the API offers a gateway before the drain and the probes judge them: matched by its nodeSelector, Ready, reachable. */
export function offeredNodes(snapshot: Pick<Snapshot, 'nodes'>, nodeSelector: Snapshot['gateways'][number]['nodeSelector']): NodeInfo[] {
  return snapshot.nodes.filter((n) => n.ready && !n.unreachable && selectorMatches(nodeSelector, n.labels));
}

/**
 * Whether the node is a drained gateway node that carries nothing by the API's word: every gateway
 * that could use it has another node that is not drained (withoutDrained leaves it out). Such a node answers
 * as draining while it holds no egress IP (SelfState), so a peer whose API view of the drain is
 * late does not take it for a carrier again once it has handed its EIPs over.
 */
export function drainedAside(snapshot: Pick<Snapshot, 'nodes' | 'gateways'>, node: string): boolean {
  const self = snapshot.nodes.find((n) => n.name === node);
  if (!self?.drain?.drained) return false;
  const offering = snapshot.gateways.map((g) => offeredNodes(snapshot, g.nodeSelector)).filter((offered) => offered.some((n) => n.name === node));
  return offering.length > 0 && offering.every((offered) => !withoutDrained(offered).some((n) => n.name === node));
}
