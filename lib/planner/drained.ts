import type { NodeInfo } from '../api/model.js';

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
