/**
 * Steering the DNS of pods with rules by name to the node's DNS forwarder: a NAT chain at
 * prerouting, before kube-proxy's (dstnat - 5), that rewrites queries of those pods to the
 * cluster DNS Service (UDP and TCP port 53) to the forwarder's port on this node's address.
 *
 * The rules match destinations in `dns_steer4`/`dns_steer6`, a learned set the forwarder itself
 * keeps filled (the upstream addresses, with a few seconds' timeout, refreshed while it answers).
 * So when the agent is stopped, killed or restarting, the elements expire and the pods' DNS goes
 * straight to the cluster DNS again: DNS keeps working for everyone. What is not learned in that
 * time is not in the rules' sets, so the firewall fails closed for new addresses.
 */
import { isIp, type Family } from '../api/ip.js';
import type { NftChain, NftSet } from './node-plan.js';
import { addressInSet, dnatTo, portIs, rule } from './nft/statements.js';
import type { FirewallNameRule } from './firewall-rules.js';

export const DNS_STEER_CHAIN = 'firewall_dns';
export const dnsClientSet = (family: Family) => `dns_clients${family}`;
export const dnsSteerSet = (family: Family) => `dns_steer${family}`;
const TYPE: Record<Family, NftSet['type']> = { 4: 'ipv4_addr', 6: 'ipv6_addr' };

export interface DnsSteeringInput {
  readonly nameRules: readonly FirewallNameRule[];
  /** The forwarder's port; 0 turns the forwarder and the steering off. */
  readonly port: number;
  /** This node's addresses, where the forwarder listens. */
  readonly nodeAddress: Partial<Record<Family, string>>;
}

export function buildDnsSteering(input: DnsSteeringInput): { sets: NftSet[]; chain?: NftChain } {
  if (input.port === 0 || input.nameRules.length === 0) return { sets: [] };
  const clients: Record<Family, Set<string>> = { 4: new Set(), 6: new Set() };
  for (const r of input.nameRules) for (const c of r.clients) clients[isIp(c, 4) ? 4 : 6].add(c);
  const sets: NftSet[] = [];
  const rules = [];
  for (const f of [4, 6] as const) {
    const to = input.nodeAddress[f];
    if (!to || clients[f].size === 0) continue;
    sets.push({ name: dnsClientSet(f), type: TYPE[f], interval: false, elements: [...clients[f]].sort() });
    sets.push({ name: dnsSteerSet(f), type: TYPE[f], interval: false, elements: [], learned: true });
    for (const protocol of ['udp', 'tcp'] as const) {
      rules.push(rule([addressInSet(f, 'saddr', '==', dnsClientSet(f)), addressInSet(f, 'daddr', '==', dnsSteerSet(f)), portIs(protocol, 'dport', 53), dnatTo(f, to, input.port)]));
    }
  }
  if (rules.length === 0) return { sets: [] };
  return { sets, chain: { name: DNS_STEER_CHAIN, type: 'nat', hook: 'prerouting', priority: { base: 'dstnat', offset: -5 }, rules } };
}
