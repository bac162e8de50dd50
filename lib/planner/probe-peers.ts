import type { Snapshot } from './snapshot.js';
import { nodeDirectory } from './resolve.js';
import { gatewayCapableNodes } from './tunnels.js';

/** A node to probe, at the underlay address its tunnel uses (probes must come from it too). */
export interface ProbePeer {
  readonly node: string;
  readonly address: string;
}

/**
 * The nodes this node probes: every other node that matches an EgressGateway's nodeSelector (the
 * ones that may carry an EIP). A node that may carry one also probes every other node: workers
 * probe the gateway nodes they use, and a prober answers known peers only; and a gateway node whose
 * only gateway peer died still hears the workers, so it does not take itself for cut off. Addresses
 * come from the node directory (Node InternalIPs, else checked EgressTunnel status), never from a
 * packet.
 */
export function probePeers(snapshot: Snapshot, nodeName: string): ProbePeer[] {
  const { directory } = nodeDirectory(snapshot);
  const capable = gatewayCapableNodes(snapshot.nodes, snapshot.gateways);
  const everyone = capable.has(nodeName);
  const out: ProbePeer[] = [];
  for (const d of directory.values()) {
    if (d.node === nodeName || !d.underlayIp || !(everyone || capable.has(d.node))) continue;
    out.push({ node: d.node, address: d.underlayIp });
  }
  return out.sort((a, b) => (a.node < b.node ? -1 : 1));
}
