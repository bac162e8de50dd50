import {
  CONTROL_HOST,
  EXT_HOST,
  LAN_V4_CIDR,
  LAN_V6_CIDR,
  POD_V4_CIDR,
  POD_V6_CIDR,
  SERVICE_V4_CIDR,
  echoAddresses,
  eipRangeV4,
  eipRangeV6,
  lanHost,
  upstreamDns,
} from './addressing.js';
import { DNS_PORT, tlsDir, zoneFile } from './echo-daemon.js';
import { caFiles } from './echo-tls.js';
import { kubeDnsPod } from './dns/resolv-conf.js';
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
  echo: {
    netns: string;
    /** The external host's LAN address; the echo answers on every address of the host. */
    ipv4: string;
    ipv6: string | null;
    /** The lab's internet addresses the echo answers on (IPv4, then IPv6 with `--ipv6`); the DNS names point here. */
    addresses: string[];
    httpPort: number;
    /** HTTP on the scheme's port too, so http://github.com/ works; null in a lab from an older build. */
    httpDefaultPort: number | null;
    /** HTTPS with a certificate for any name asked for (SNI), signed by the lab CA in caFile. */
    httpsPort: number | null;
    caFile: string | null;
    tcpPort: number;
    udpPort: number;
    streamPort: number;
  };
  dns: {
    /** The resolver in pods' /etc/resolv.conf: the cluster DNS pod with `up --kube-dns`, else the external server. */
    ipv4: string;
    ipv6: string | null;
    /** The cluster DNS pod (k8s-app=kube-dns), when the lab has one. */
    kubeDns: { namespace: string; name: string; node: string; ips: string[]; netns: string } | null;
    /** The external authoritative server (every host's resolver, and the cluster DNS's upstream). */
    upstream: { netns: string; ipv4: string; ipv6: string | null; port: number };
    /** What the external server answers (`e2e/lab dns NAME set|del` edit it). */
    zoneFile: string;
  };
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
    echo: {
      netns: s.netns.ext,
      ipv4: ext.v4,
      ipv6: v6 ? ext.v6 : null,
      addresses: [...echoAddresses().map((a) => a.v4), ...(v6 ? echoAddresses().map((a) => a.v6) : [])],
      httpPort: s.echo.httpPort,
      httpDefaultPort: s.echo.httpDefaultPort ?? null,
      httpsPort: s.echo.httpsPort ?? null,
      caFile: s.echo.httpsPort === undefined ? null : caFiles(tlsDir(s)).cert,
      tcpPort: s.echo.tcpPort,
      udpPort: s.echo.udpPort,
      streamPort: s.echo.streamPort,
    },
    dns: dnsInfo(s),
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
    daemons: await Promise.all(s.daemons.map(async (d) => ({ role: d.role, netns: d.netns, pid: d.pid, running: await isRunning(d), log: d.log }))),
  };
}

function dnsInfo(s: LabState): LabInfo['dns'] {
  const up = upstreamDns();
  const kube = kubeDnsPod(s);
  const v4 = (ips: readonly string[]) => ips.find((ip) => !ip.includes(':'))!;
  const v6 = (ips: readonly string[]) => ips.find((ip) => ip.includes(':')) ?? null;
  return {
    ipv4: kube ? v4(kube.ips) : up.v4,
    ipv6: kube ? v6(kube.ips) : s.ipv6 ? up.v6 : null,
    kubeDns: kube ? { namespace: kube.namespace, name: kube.name, node: kube.node, ips: [...kube.ips], netns: kube.netns } : null,
    upstream: { netns: s.netns.ext, ipv4: up.v4, ipv6: s.ipv6 ? up.v6 : null, port: DNS_PORT },
    zoneFile: zoneFile(s),
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
