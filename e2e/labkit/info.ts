import {
  CONTROL_HOST,
  EXT_HOST,
  LAN_V4_CIDR,
  LAN_V6_CIDR,
  POD_V4_CIDR,
  POD_V6_CIDR,
  SERVICE_V4_CIDR,
  eipRangeV4,
  eipRangeV6,
  lanHost,
} from './addressing.js';
import { isRunning } from './daemons.js';
import { serviceLanRange, servicesOf, type ServiceState } from './kube-proxy/services.js';
import { networkOf, type NetworkOptions } from './network-options.js';
import { SEGMENT2_BRIDGE, SEGMENT2_V4_CIDR, SEGMENT2_V6_CIDR, nodeSegment2Addr, segment2HostAddr, segment2Netns } from './second-nic.js';
import type { AgentRunSpec, LabState, NodeRole, PodState } from './state.js';
import { LAN_BRIDGE } from './topology.js';

/** What `e2e/lab info` prints; scripts depend on these field names. */
export interface LabInfo {
  name: string;
  prefix: string;
  stateDir: string;
  phase: LabState['phase'];
  ipv6: boolean;
  nodeGraceSeconds: number;
  /** Whether the cluster plugin starts sluice agents (`up --no-agents` turns it off). */
  agents: boolean;
  /** How they run (`up --agent-main/--agent-caps/--container-proc-sys`); {} = this build, all capabilities. */
  agent: AgentRunSpec;
  nodes: NodeInfo[];
  pods: PodInfo[];
  echo: { netns: string; ipv4: string; ipv6: string | null; httpPort: number; tcpPort: number; udpPort: number; streamPort: number };
  lan: {
    netns: string;
    bridge: string;
    ipv4Cidr: string;
    ipv6Cidr: string | null;
    /** Free for egress IPs: nothing in the lab uses these addresses. */
    eipRangeV4: string;
    eipRangeV6: string | null;
  };
  control: { netns: string; ips: string[] };
  podCidrs: string[];
  serviceCidr: string;
  /** CNI masquerade mode and tool, kube-proxy mode, second NIC. */
  network: NetworkOptions;
  /** Services of the lab's kube-proxy, and the LAN range their LoadBalancer and external IPs come from. */
  services: ServiceState[];
  serviceAddressRange: string;
  /** `up --second-nic`: the segment behind every node's eth1 and its one host. */
  segment2: { netns: string; bridge: string; ipv4Cidr: string; ipv6Cidr: string | null; hostIps: string[]; nodeIps: Record<string, string[]> } | null;
  apiServer: string | null;
  kubeconfig: string | null;
  plugins: string[];
  daemons: Array<{ role: string; netns: string; pid: number | null; running: boolean; log: string }>;
}

export interface NodeInfo {
  name: string;
  netns: string;
  role: NodeRole;
  ips: string[];
  podCIDRs: string[];
  lanInterface: 'eth0';
  failed: boolean;
}

export interface PodInfo {
  namespace: string;
  name: string;
  node: string;
  ips: string[];
  netns: string;
  labels: Record<string, string>;
}

export function podInfo(p: PodState): PodInfo {
  return { namespace: p.namespace, name: p.name, node: p.node, ips: [...p.ips], netns: p.netns, labels: { ...p.labels } };
}

export async function labInfo(s: LabState): Promise<LabInfo> {
  const v6 = s.ipv6;
  const ext = lanHost(EXT_HOST);
  const control = lanHost(CONTROL_HOST);
  return {
    name: s.name,
    prefix: s.prefix,
    stateDir: s.stateDir,
    phase: s.phase,
    ipv6: v6,
    nodeGraceSeconds: s.nodeGraceSeconds,
    agents: s.agents ?? true,
    agent: s.agent ?? {},
    nodes: s.nodes.map((n) => ({
      name: n.name,
      netns: n.netns,
      role: n.role,
      ips: [...n.ips],
      podCIDRs: [...n.podCIDRs],
      lanInterface: 'eth0',
      failed: n.failed,
    })),
    pods: s.pods.map(podInfo),
    echo: { netns: s.netns.ext, ipv4: ext.v4, ipv6: v6 ? ext.v6 : null, ...s.echo },
    lan: {
      netns: s.netns.lan,
      bridge: LAN_BRIDGE,
      ipv4Cidr: LAN_V4_CIDR,
      ipv6Cidr: v6 ? LAN_V6_CIDR : null,
      eipRangeV4,
      eipRangeV6: v6 ? eipRangeV6 : null,
    },
    control: { netns: s.netns.control, ips: v6 ? [control.v4, control.v6] : [control.v4] },
    podCidrs: v6 ? [POD_V4_CIDR, POD_V6_CIDR] : [POD_V4_CIDR],
    serviceCidr: SERVICE_V4_CIDR,
    network: networkOf(s),
    services: servicesOf(s),
    serviceAddressRange: serviceLanRange,
    segment2: networkOf(s).secondNic ? segment2Info(s) : null,
    apiServer: s.apiServer,
    kubeconfig: s.kubeconfig,
    plugins: [...s.plugins],
    daemons: await Promise.all(
      s.daemons.map(async (d) => ({ role: d.role, netns: d.netns, pid: d.pid, running: await isRunning(d), log: d.log })),
    ),
  };
}

function segment2Info(s: LabState): NonNullable<LabInfo['segment2']> {
  const pick = (a: { v4: string; v6: string }) => (s.ipv6 ? [a.v4, a.v6] : [a.v4]);
  return {
    netns: segment2Netns(s),
    bridge: SEGMENT2_BRIDGE,
    ipv4Cidr: SEGMENT2_V4_CIDR,
    ipv6Cidr: s.ipv6 ? SEGMENT2_V6_CIDR : null,
    hostIps: pick(segment2HostAddr()),
    nodeIps: Object.fromEntries(s.nodes.map((n) => [n.name, pick(nodeSegment2Addr(n))])),
  };
}
