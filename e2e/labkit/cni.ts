/**
 * A host-gw CNI in miniature: pods are namespaces with a veth to their node (ptp style: pod /32 and
 * /128 addresses, the node side holds the podCIDR's .1 as the pods' gateway), nodes route each
 * other's podCIDRs via the peer's LAN IP, and pod traffic leaving eth0 for a non-pod destination is
 * masqueraded to the node IP by the lab's own nft table (other masquerades: cni-masquerade.ts).
 */
import { POD_V4_CIDR, POD_V6_CIDR, nodeLan, nodePodCidrs, podAddr, podGateway } from './addressing.js';
import { podResolvConf, writeResolvConf } from './dns/resolv-conf.js';
import { addNetns, deleteNetns } from './netns.js';
import { removeNetns } from './teardown.js';
import { ipBatch, run } from './run.js';
import type { LabState, NodeState, PodState } from './state.js';

/** Chosen so it is obvious in `nft list ruleset` that the lab, not sluice, owns it. */
export const CNI_TABLE = 'labcni';

/** `ip -batch` lines for the routes to every other node's podCIDR. */
export function hostGwRoutes(state: LabState, self: NodeState): string[] {
  return state.nodes
    .filter((peer) => peer.name !== self.name)
    .flatMap((peer) => {
      const cidrs = nodePodCidrs(peer.index);
      const via = nodeLan(peer.index);
      const v4 = `route add ${cidrs.v4} via ${via.v4} dev eth0`;
      return state.ipv6 ? [v4, `route add ${cidrs.v6} via ${via.v6} dev eth0`] : [v4];
    });
}

/**
 * Plain masquerade at srcnat priority: a NAT rule at an earlier priority (sluice's egress SNAT) wins,
 * because only the first NAT binding of a connection takes effect.
 */
export function cniRuleset(): string {
  return `table inet ${CNI_TABLE} {
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "eth0" ip saddr ${POD_V4_CIDR} ip daddr != ${POD_V4_CIDR} masquerade
    oifname "eth0" ip6 saddr ${POD_V6_CIDR} ip6 daddr != ${POD_V6_CIDR} masquerade
  }
}
`;
}

/** Creates the pod namespace and wires it to its node. The pod record must already carry its addresses. */
export async function addPodNetwork(state: LabState, node: NodeState, pod: PodState): Promise<void> {
  const gw = podGateway(node.index);
  const ip = podAddr(node.index, pod.host);
  await addNetns([pod.netns]);
  try {
    await writeResolvConf(pod.netns, podResolvConf(state, pod));
    await ipBatch(node.netns, [`link add ${pod.hostVeth} type veth peer name eth0 netns ${pod.netns}`]);
    const onNode = [`link set ${pod.hostVeth} up`, `address add ${gw.v4}/32 dev ${pod.hostVeth}`, `route add ${ip.v4}/32 dev ${pod.hostVeth} src ${gw.v4}`];
    const inPod = [
      'link set lo up',
      'link set eth0 up',
      `address add ${ip.v4}/32 dev eth0`,
      `route add ${gw.v4}/32 dev eth0 scope link`,
      `route add default via ${gw.v4} dev eth0 src ${ip.v4}`,
    ];
    if (state.ipv6) {
      // nodad: a tentative address would delay the pod's first packets by about a second.
      onNode.push(`address add ${gw.v6}/128 dev ${pod.hostVeth} nodad`, `route add ${ip.v6}/128 dev ${pod.hostVeth}`);
      inPod.push(`address add ${ip.v6}/128 dev eth0 nodad`, `route add ${gw.v6}/128 dev eth0`, `route add ::/0 via ${gw.v6} dev eth0 src ${ip.v6}`);
    }
    await Promise.all([ipBatch(node.netns, onNode), ipBatch(pod.netns, inPod)]);
  } catch (err) {
    await deleteNetns([pod.netns]);
    throw err;
  }
}

/**
 * Unwires pods and removes their namespaces. The node end of each veth goes first, at once: a
 * deleted namespace is torn down by the kernel later, in the background, and until then its
 * veth would still carry the pod's packets.
 */
export async function removePodNetworks(state: LabState, pods: readonly PodState[]): Promise<void> {
  await Promise.all(
    pods.map(async (pod) => {
      const node = state.nodes.find((n) => n.name === pod.node);
      if (node) await run(['ip', 'link', 'del', pod.hostVeth], { netns: node.netns, allowFailure: true });
    }),
  );
  await removeNetns(pods.map((p) => p.netns));
}
