/**
 * A second segment (`up --second-nic`): bridge br1 in the LAN namespace, an eth1 on every node and one
 * host of its own (the "segment host", namespace `…-seg`) behind it. Nodes route nothing over it by
 * default: it is a storage or management network whose hosts can still send a node anything, e.g. a
 * packet with a pod's source address. Reverse-path filtering on eth1 is loose, as systemd sets it.
 */
import { addNetns, setSysctls } from './netns.js';
import { netnsName } from './names.js';
import { ipBatch } from './run.js';
import type { LabState, NodeState } from './state.js';
import type { HostAddrs } from './addressing.js';

export const SEGMENT2_BRIDGE = 'br1';
export const SEGMENT2_V4_CIDR = '198.18.1.0/24';
export const SEGMENT2_V6_CIDR = 'fd00:198:18:1::/64';
const SEGMENT2_HOST = 2;
const FIRST_NODE_HOST = 11;

export function segment2Addr(host: number): HostAddrs {
  return { v4: `198.18.1.${host}`, v6: `fd00:198:18:1::${host}` };
}

export const segment2HostAddr = (): HostAddrs => segment2Addr(SEGMENT2_HOST);
export const nodeSegment2Addr = (node: Pick<NodeState, 'index'>): HostAddrs => segment2Addr(FIRST_NODE_HOST + node.index - 1);

export function segment2Netns(state: Pick<LabState, 'prefix'>): string {
  return netnsName(state.prefix, 'seg');
}

/** The node's port on br1 (in the LAN namespace): its namespace name plus `x`. */
const nodePort = (node: NodeState) => `${node.netns}x`;

export async function buildSecondSegment(state: LabState): Promise<void> {
  const host = segment2Netns(state);
  const lan = state.netns.lan;
  const v6 = state.ipv6;
  await addNetns([host]);
  await setSysctls(host, [
    { key: 'net.ipv6.conf.all.accept_dad', value: '0' },
    { key: 'net.ipv6.conf.default.accept_dad', value: '0' },
  ]);
  await ipBatch(lan, [
    `link add ${SEGMENT2_BRIDGE} type bridge mcast_snooping 0`,
    `link set ${SEGMENT2_BRIDGE} up`,
    ...[...state.nodes.map((n) => ({ port: nodePort(n), netns: n.netns, dev: 'eth1' })), { port: host, netns: host, dev: 'eth0' }].flatMap((h) => [
      `link add ${h.port} type veth peer name ${h.dev} netns ${h.netns}`,
      `link set ${h.port} master ${SEGMENT2_BRIDGE}`,
      `link set ${h.port} up`,
    ]),
  ]);
  const addr = segment2HostAddr();
  await Promise.all([
    ipBatch(host, ['link set lo up', 'link set eth0 up', `address add ${addr.v4}/24 dev eth0`, ...(v6 ? [`address add ${addr.v6}/64 dev eth0 nodad`] : [])]),
    ...state.nodes.map(async (n) => {
      const a = nodeSegment2Addr(n);
      await setSysctls(n.netns, [{ key: 'net.ipv4.conf.eth1.rp_filter', value: '2' }]);
      await ipBatch(n.netns, ['link set eth1 up', `address add ${a.v4}/24 dev eth1`, ...(v6 ? [`address add ${a.v6}/64 dev eth1 nodad`] : [])]);
    }),
  ]);
}
