/**
 * kube-proxy's nftables mode: table `ip kube-proxy` with its base chains at the priorities
 * kube-proxy uses (filter chains at dstnat - 10, DNAT at dstnat, masquerade at srcnat), the
 * service-ips / service-nodeports verdict maps, and per Service the service-, external- and
 * endpoint- chains. Replaced whole in one transaction on every change. IPv4 only. Pure.
 */
import { createHash } from 'node:crypto';
import { POD_V4_CIDR, SERVICE_V4_CIDR } from '../addressing.js';
import { MASQ_MARK } from './iptables-rules.js';
import type { ServiceState } from './services.js';

export const KUBE_PROXY_TABLE = 'ip kube-proxy';
// Numbers, as knftables writes them: nft 1.0.6 accepts the name `dstnat` on the prerouting hook only.
const DSTNAT = '-100';
const DSTNAT_MINUS_10 = '-110';
const DSTNAT_PLUS_10 = '-90';

function chainBase(s: ServiceState, endpoint?: string): string {
  const name = `${s.namespace}/${s.name}/${s.protocol}/p${s.port}${endpoint ? `__${endpoint}` : ''}`;
  const hash = createHash('sha256')
    .update(name)
    .digest('base64')
    .replace(/[^A-Z0-9]/gi, '')
    .slice(0, 8)
    .toUpperCase();
  return `${hash}-${name}`;
}

export function nftServiceChains(s: ServiceState): { svc: string; ext: string; ep: string } {
  return {
    svc: `service-${chainBase(s)}`,
    ext: `external-${chainBase(s)}`,
    ep: `endpoint-${chainBase(s, `${s.backend.ip}/${s.targetPort}`)}`,
  };
}

// Verdict-map elements go in after the table block: they name chains the block defines.
const addElements = (map: string, items: readonly string[]) => (items.length ? `add element ${KUBE_PROXY_TABLE} ${map} { ${items.join(', ')} }\n` : '');
const elements = (items: readonly string[]) => (items.length ? ` elements = { ${items.join(', ')} };` : '');

export function kubeProxyNft(services: readonly ServiceState[]): string {
  const serviceIps: string[] = [];
  const nodePorts: string[] = [];
  const clusterIps: string[] = [];
  const chains: string[] = [];
  for (const s of services) {
    const { svc, ext, ep } = nftServiceChains(s);
    const external = s.nodePort !== null || s.loadBalancerIP !== null || s.externalIPs.length > 0;
    clusterIps.push(s.clusterIP);
    serviceIps.push(`${s.clusterIP} . ${s.protocol} . ${s.port} : goto ${svc}`);
    for (const ip of [...s.externalIPs, ...(s.loadBalancerIP ? [s.loadBalancerIP] : [])]) serviceIps.push(`${ip} . ${s.protocol} . ${s.port} : goto ${ext}`);
    if (s.nodePort !== null) nodePorts.push(`${s.protocol} . ${s.nodePort} : goto ${ext}`);
    chains.push(
      `  chain ${ep} {
    ip saddr ${s.backend.ip} jump mark-for-masquerade
    meta l4proto ${s.protocol} dnat to ${s.backend.ip}:${s.targetPort}
  }`,
      `  chain ${svc} {
    ip daddr ${s.clusterIP} ${s.protocol} dport ${s.port} ip saddr != ${POD_V4_CIDR} jump mark-for-masquerade
    numgen random mod 1 vmap { 0 : goto ${ep} }
  }`,
    );
    if (external) {
      chains.push(`  chain ${ext} {
    jump mark-for-masquerade
    goto ${svc}
  }`);
    }
  }
  const base = (name: string, type: string, hook: string, priority: string, body: string) =>
    `  chain ${name} {\n    type ${type} hook ${hook} priority ${priority}; policy accept;\n${body}\n  }`;
  return `add table ${KUBE_PROXY_TABLE}
delete table ${KUBE_PROXY_TABLE}
table ${KUBE_PROXY_TABLE} {
  comment "rules for kube-proxy"
  set cluster-ips { type ipv4_addr; comment "Active ClusterIPs";${elements(clusterIps)} }
  map service-ips { type ipv4_addr . inet_proto . inet_service : verdict; comment "ClusterIP, ExternalIP and LoadBalancer IP traffic"; }
  map service-nodeports { type inet_proto . inet_service : verdict; comment "NodePort traffic"; }
  map no-endpoint-services { type ipv4_addr . inet_proto . inet_service : verdict; comment "vmap to drop or reject packets to services with no endpoints"; }
  map no-endpoint-nodeports { type inet_proto . inet_service : verdict; comment "vmap to drop or reject packets to service nodeports with no endpoints"; }
  map firewall-ips { type ipv4_addr . inet_proto . inet_service : verdict; comment "destinations that are subject to LoadBalancerSourceRanges"; }
  chain firewall-check {
    ip daddr . meta l4proto . th dport vmap @firewall-ips
  }
  chain reject-chain {
    reject
  }
  chain service-endpoints-check {
    ip daddr . meta l4proto . th dport vmap @no-endpoint-services
  }
  chain nodeport-endpoints-check {
    fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @no-endpoint-nodeports
  }
  chain cluster-ips-check {
    ip daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"
    ip daddr ${SERVICE_V4_CIDR} drop comment "Drop traffic to unallocated ClusterIPs"
  }
  chain mark-for-masquerade {
    meta mark set meta mark | ${MASQ_MARK}
  }
  chain masquerading {
    meta mark & ${MASQ_MARK} == 0 return
    meta mark set meta mark ^ ${MASQ_MARK}
    masquerade fully-random
  }
  chain services {
    ip daddr . meta l4proto . th dport vmap @service-ips
    fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @service-nodeports
  }
${chains.join('\n')}
${base('filter-prerouting', 'filter', 'prerouting', DSTNAT_MINUS_10, '    ct state new jump firewall-check')}
${base('filter-input', 'filter', 'input', DSTNAT_MINUS_10, '    ct state new jump nodeport-endpoints-check\n    ct state new jump service-endpoints-check')}
${base('filter-forward', 'filter', 'forward', DSTNAT_MINUS_10, '    ct state new jump service-endpoints-check\n    ct state new jump cluster-ips-check')}
${base('filter-output', 'filter', 'output', DSTNAT_MINUS_10, '    ct state new jump service-endpoints-check\n    ct state new jump firewall-check')}
${base('filter-output-post-dnat', 'filter', 'output', DSTNAT_PLUS_10, '    ct state new jump cluster-ips-check')}
${base('nat-prerouting', 'nat', 'prerouting', 'dstnat', '    jump services')}
${base('nat-output', 'nat', 'output', DSTNAT, '    jump services')}
${base('nat-postrouting', 'nat', 'postrouting', 'srcnat', '    jump masquerading')}
}
${addElements('service-ips', serviceIps)}${addElements('service-nodeports', nodePorts)}`;
}
