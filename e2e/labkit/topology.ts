/**
 * The simulated cluster's LAN: one namespace holding bridge br0, and one veth from it to each host
 * (external host, control host, every node), all created inside lab namespaces so nothing ever
 * appears in the root namespace.
 */
import { CONTROL_HOST, ECHO_POOL_V4_CIDR, EXT_HOST, INTERNET_V4_CIDR, INTERNET_V6_CIDR, echoAddresses, lanHost, nodeLan, upstreamDns, type HostAddrs } from './addressing.js';
import { hostGwRoutes } from './cni.js';
import { hostResolvConf, writeResolvConf } from './dns/resolv-conf.js';
import { loadCniMasquerade } from './cni-masquerade.js';
import { loadKubeProxyBase } from './kube-proxy/kube-proxy.js';
import { networkOf } from './network-options.js';
import { buildSecondSegment } from './second-nic.js';
import { addNetns, setSysctls, type Sysctl } from './netns.js';
import { ipBatch } from './run.js';
import type { LabState, NodeState } from './state.js';

export const LAN_BRIDGE = 'br0';

interface LanHost {
  netns: string;
  port: string;
  addrs: HostAddrs;
  node?: NodeState;
}

const BRIDGE_NF_OFF: Sysctl[] = ['arptables', 'iptables', 'ip6tables'].map((t) => ({
  key: `net.bridge.bridge-nf-call-${t}`,
  value: '0',
  optional: true,
}));
// Addresses are added with nodad too; this covers link-local addresses and anything agents add later.
const NO_DAD: Sysctl[] = ['all', 'default'].map((c) => ({ key: `net.ipv6.conf.${c}.accept_dad`, value: '0' }));
const FORWARDING: Sysctl[] = [
  { key: 'net.ipv4.ip_forward', value: '1' },
  { key: 'net.ipv6.conf.all.forwarding', value: '1' },
];
// The bridge and its ports need no addresses of their own.
const LAN_NO_IPV6: Sysctl[] = [{ key: 'net.ipv6.conf.default.disable_ipv6', value: '1' }];

export function lanHosts(state: LabState): LanHost[] {
  return [
    { netns: state.netns.ext, port: state.netns.ext, addrs: lanHost(EXT_HOST) },
    { netns: state.netns.control, port: state.netns.control, addrs: lanHost(CONTROL_HOST) },
    ...state.nodes.map((node) => ({
      netns: node.netns,
      port: node.lanPort,
      addrs: nodeLan(node.index),
      node,
    })),
  ];
}

export async function buildNetwork(state: LabState): Promise<void> {
  const hosts = lanHosts(state);
  const lan = state.netns.lan;
  await addNetns([lan, ...hosts.map((h) => h.netns)]);
  // Sysctls first: a veth end takes its per-device defaults from its namespace when it is created.
  await Promise.all([setSysctls(lan, [...BRIDGE_NF_OFF, ...LAN_NO_IPV6]), ...hosts.map((h) => setSysctls(h.netns, [...BRIDGE_NF_OFF, ...NO_DAD, ...(h.node ? FORWARDING : [])]))]);
  await ipBatch(lan, [
    'link set lo up',
    `link add ${LAN_BRIDGE} type bridge mcast_snooping 0`,
    `link set ${LAN_BRIDGE} up`,
    ...hosts.flatMap((h) => [`link add ${h.port} type veth peer name eth0 netns ${h.netns}`, `link set ${h.port} master ${LAN_BRIDGE}`, `link set ${h.port} up`]),
  ]);
  await Promise.all(
    hosts.map(async (h) => {
      await ipBatch(h.netns, [
        'link set lo up',
        'link set eth0 up',
        `address add ${h.addrs.v4}/24 dev eth0`,
        ...(state.ipv6 ? [`address add ${h.addrs.v6}/64 dev eth0 nodad`] : []),
        ...(h.node ? [...hostGwRoutes(state, h.node), ...internetRoutes(state)] : []),
        ...(h.netns === state.netns.ext ? internetAddresses(state) : []),
      ]);
      await writeResolvConf(h.netns, hostResolvConf(state));
      if (h.node) await loadCniMasquerade(state, h.node, networkOf(state));
    }),
  );
  if (networkOf(state).secondNic) await buildSecondSegment(state);
  await loadKubeProxyBase(state, networkOf(state));
}

/** The external host holds the lab's internet addresses (echo and DNS server) on its loopback. */
function internetAddresses(state: LabState): string[] {
  return [
    ...[...echoAddresses(), upstreamDns()].flatMap((a) => [`address add ${a.v4}/32 dev lo`, ...(state.ipv6 ? [`address add ${a.v6}/128 dev lo nodad`] : [])]),
    `route add local ${ECHO_POOL_V4_CIDR} dev lo`,
  ];
}

/** Nodes reach the lab's internet through the external host, as through the router upstream of a cluster. */
function internetRoutes(state: LabState): string[] {
  const ext = lanHost(EXT_HOST);
  return [
    `route add ${INTERNET_V4_CIDR} via ${ext.v4} dev eth0`,
    `route add ${ECHO_POOL_V4_CIDR} via ${ext.v4} dev eth0`,
    ...(state.ipv6 ? [`route add ${INTERNET_V6_CIDR} via ${ext.v6} dev eth0`] : []),
  ];
}

/** Cuts (or restores) a node's only link to the LAN at the bridge: the node gets no say in it. */
export async function setNodeLink(state: LabState, node: NodeState, up: boolean): Promise<void> {
  await ipBatch(state.netns.lan, [`link set ${node.lanPort} ${up ? 'up' : 'down'}`]);
}
