/**
 * kube-proxy's iptables mode, as iptables-restore input: the static chains (with the kubelet-era
 * KUBE-FIREWALL that drops packets carrying 0x8000, and KUBE-FORWARD's drop of INVALID packets) and,
 * per Service, KUBE-SERVICES → KUBE-SVC / KUBE-EXT → KUBE-SEP (DNAT), KUBE-MARK-MASQ (0x4000) and the
 * KUBE-POSTROUTING masquerade of marked packets. Pure.
 */
import { createHash } from 'node:crypto';
import { POD_V4_CIDR } from '../addressing.js';
import { restoreText, type IptablesTable } from '../node-rules.js';
import type { ServiceState } from './services.js';

export const MASQ_MARK = '0x4000';
export const DROP_MARK = '0x8000';

/** Loaded once per node at `up` (and for IPv6 too): chains, jumps from the built-in chains, static rules. */
export function kubeProxyBaseIptables(): string {
  return restoreText([
    {
      name: 'nat',
      chains: ['KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-POSTROUTING', 'KUBE-MARK-MASQ', 'KUBE-MARK-DROP'],
      rules: [
        '-I PREROUTING 1 -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
        '-I OUTPUT 1 -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
        '-I POSTROUTING 1 -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
        `-A KUBE-MARK-MASQ -j MARK --or-mark ${MASQ_MARK}`,
        `-A KUBE-MARK-DROP -j MARK --or-mark ${DROP_MARK}`,
        `-A KUBE-POSTROUTING -m mark ! --mark ${MASQ_MARK}/${MASQ_MARK} -j RETURN`,
        `-A KUBE-POSTROUTING -j MARK --xor-mark ${MASQ_MARK}`,
        '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
      ],
    },
    {
      name: 'filter',
      chains: ['KUBE-FIREWALL', 'KUBE-FORWARD'],
      rules: [
        '-I INPUT 1 -j KUBE-FIREWALL',
        '-I OUTPUT 1 -j KUBE-FIREWALL',
        '-I FORWARD 1 -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD',
        '-A KUBE-FIREWALL -m comment --comment "kubernetes firewall for dropping marked packets" ' + `-m mark --mark ${DROP_MARK}/${DROP_MARK} -j DROP`,
        '-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP',
        `-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark ${MASQ_MARK}/${MASQ_MARK} -j ACCEPT`,
        '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
      ],
    },
  ]);
}

/** The block-localnet rule only exists for IPv4. */
export function kubeProxyLocalnetIptables(): string {
  return restoreText([
    {
      name: 'filter',
      chains: [],
      rules: [
        '-I KUBE-FIREWALL 1 ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block incoming localnet connections" ' +
          '-m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP',
      ],
    },
  ]);
}

/** kube-proxy's chain-name hash: base32 of sha256, 16 characters. */
function hash16(s: string): string {
  const b = createHash('sha256').update(s).digest();
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of b) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < 16) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

export function serviceChains(s: ServiceState): { svc: string; ext: string; sep: string } {
  const key = `${s.namespace}/${s.name}:${s.protocol}`;
  return {
    svc: `KUBE-SVC-${hash16(key)}`,
    ext: `KUBE-EXT-${hash16(key)}`,
    sep: `KUBE-SEP-${hash16(`${key}${s.backend.ip}:${s.targetPort}`)}`,
  };
}

/** Every Service's rules; loading it flushes and refills KUBE-SERVICES, KUBE-NODEPORTS and the per-service chains. */
export function kubeProxyServicesIptables(services: readonly ServiceState[]): string {
  const chains = ['KUBE-SERVICES', 'KUBE-NODEPORTS'];
  const rules: string[] = [];
  for (const s of services) {
    const { svc, ext, sep } = serviceChains(s);
    const name = `${s.namespace}/${s.name}`;
    const match = `-p ${s.protocol} -m comment --comment "${name}`;
    const dport = `-m ${s.protocol} --dport ${s.port}`;
    const external = s.nodePort !== null || s.loadBalancerIP !== null || s.externalIPs.length > 0;
    chains.push(svc, sep, ...(external ? [ext] : []));
    rules.push(`-A KUBE-SERVICES -d ${s.clusterIP}/32 ${match} cluster IP" ${dport} -j ${svc}`);
    for (const ip of s.externalIPs) rules.push(`-A KUBE-SERVICES -d ${ip}/32 ${match} external IP" ${dport} -j ${ext}`);
    if (s.loadBalancerIP) rules.push(`-A KUBE-SERVICES -d ${s.loadBalancerIP}/32 ${match} loadbalancer IP" ${dport} -j ${ext}`);
    if (s.nodePort !== null) rules.push(`-A KUBE-NODEPORTS ${match}" -m ${s.protocol} --dport ${s.nodePort} -j ${ext}`);
    rules.push(
      `-A ${svc} ! -s ${POD_V4_CIDR} -d ${s.clusterIP}/32 ${match} cluster IP" ${dport} -j KUBE-MARK-MASQ`,
      `-A ${svc} -m comment --comment "${name} -> ${s.backend.ip}:${s.targetPort}" -j ${sep}`,
      `-A ${sep} -s ${s.backend.ip}/32 -m comment --comment "${name}" -j KUBE-MARK-MASQ`,
      `-A ${sep} ${match}" -m ${s.protocol} -j DNAT --to-destination ${s.backend.ip}:${s.targetPort}`,
    );
    if (external) {
      rules.push(`-A ${ext} -m comment --comment "masquerade traffic for ${name} external destinations" -j KUBE-MARK-MASQ`, `-A ${ext} -j ${svc}`);
    }
  }
  rules.push('-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS');
  const nat: IptablesTable = { name: 'nat', chains, rules };
  return restoreText([nat]);
}
