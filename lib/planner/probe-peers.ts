import type { Snapshot } from './snapshot.js';
import { nodeDirectory } from './resolve.js';
import { gatewayCapableNodes } from './tunnels.js';

/** A known node, at the underlay address its tunnel uses (its probes must come from it too). */
export interface ProbePeer {
  readonly node: string;
  readonly address: string;
  /** Probed by this node; false: only answered (its packets still show this node is not cut off). */
  readonly probe: boolean;
}

/**
 * The nodes this node knows for the probes. Every node probes the other nodes that match an
 * EgressGateway's nodeSelector or carry a policy now (gatewayCapableNodes: the ones that may
 * carry an EIP; with the snapshot's probe facts, also a carrier that still holds a policy's EIP
 * after status named its successor), workers and gateway nodes alike.
 * Only those are probed, so only they need to know the rest: a node that may carry an EIP also
 * lists every other node with `probe: false`, to answer its probes (a prober answers known nodes
 * only) and so that a gateway node whose only gateway peer died still hears the workers and does
 * not take itself for cut off. Addresses come from the node directory (Node InternalIPs, else
 * checked EgressTunnel status), never from a packet.
 */
export function probePeers(snapshot: Snapshot, nodeName: string): ProbePeer[] {
  const { directory } = nodeDirectory(snapshot);
  const capable = gatewayCapableNodes(snapshot);
  const answersAll = capable.has(nodeName);
  const out: ProbePeer[] = [];
  for (const d of directory.values()) {
    if (d.node === nodeName || !d.underlayIp) continue;
    const probe = capable.has(d.node);
    if (probe || answersAll) out.push({ node: d.node, address: d.underlayIp, probe });
  }
  return out.sort((a, b) => (a.node < b.node ? -1 : 1));
}
