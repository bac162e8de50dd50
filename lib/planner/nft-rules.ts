import type { Family, IpInterval } from '../api/ip.js';
import { formatInterval, mergeIntervals } from '../api/ip.js';
import type { NftChain, NftSet, NftTablePlan } from './node-plan.js';
import type { AgentConfig } from './config.js';
import { hereMark } from './config.js';
import { GUARD_RULE_COMMENTS, policyRuleComment } from './rule-comment.js';
import type { NftRule, Statement } from './nft/vocabulary.js';
import {
  accept,
  addressInSet,
  clampMssToRouteMtu,
  counter,
  ctDirection,
  ctStateAnyOf,
  drop,
  interfaceIs,
  markIs,
  portIs,
  ret,
  rule,
  setMarkBits,
  snatTo,
  tcpFlagsAnyOf,
} from './nft/statements.js';

/** One policy as the nft builder needs it: already resolved to this node's role and sets. */
export interface PolicyRuleInput {
  readonly key: string;
  readonly setPrefix: string;
  /** Routing mark value for a remote gateway (worker role) — undefined on the gateway itself. */
  readonly gatewayMark?: number;
  readonly carriedHere: boolean;
  /** Selected pod addresses on this node (hash set) — or podSubnet CIDRs (interval set). */
  readonly local: Record<Family, readonly string[]>;
  /** Every selected pod address in the cluster (only needed where the policy is carried). */
  readonly all: Record<Family, readonly string[]>;
  readonly bySubnet: boolean;
  readonly subnet: readonly IpInterval[];
  readonly dest: readonly IpInterval[];
  readonly exclude: readonly IpInterval[];
  readonly snat: Partial<Record<Family, string>>;
}

export interface NftInput {
  readonly config: AgentConfig;
  readonly clusterCidrs: readonly IpInterval[];
  readonly nodeIps: Record<Family, readonly string[]>;
  readonly eips: Record<Family, readonly string[]>;
  readonly hasTunnel: boolean;
  readonly isGateway: boolean;
  /**
   * The node's LAN NIC: packets arriving on it never come from this node's pods. A name nft
   * cannot take is refused (EGW_ERR_NFT_VALUE); plan() passes a checked one (parent-interface.ts).
   */
  readonly parentInterface: string;
  /** Policies in resolution order (first match wins). */
  readonly policies: readonly PolicyRuleInput[];
}

const FAMILIES: readonly Family[] = [4, 6];
const TYPE: Record<Family, NftSet['type']> = { 4: 'ipv4_addr', 6: 'ipv6_addr' };

function intervalSet(name: string, family: Family, ivs: readonly IpInterval[]): NftSet {
  const elements = mergeIntervals(ivs.filter((iv) => iv.family === family)).map(formatInterval);
  return { name, type: TYPE[family], interval: true, elements };
}

function hashSet(name: string, family: Family, ips: readonly string[]): NftSet {
  return { name, type: TYPE[family], interval: false, elements: [...new Set(ips)].sort() };
}

/**
 * Builds the `inet` table: sets of pod, cluster and destination addresses, the marking chain
 * (first matching policy wins), SNAT on the gateway, and guards against relaying and takeover RSTs.
 */
export function buildNftTable(input: NftInput): NftTablePlan {
  const { config } = input;
  const dev = config.vxlan.device;
  const here = hereMark(config);
  const keep = ~config.markMask >>> 0;
  // Local pods' packets come from their own interfaces. One arriving from the LAN (or the tunnel)
  // with a pod's source address is spoofed: marking it would relay it out with the EIP.
  const fromLocalPod = interfaceIs('iifname', '!=', [dev, input.parentInterface]);
  const fromTunnel = interfaceIs('iifname', '==', dev);
  const markedHere = markIs('meta', config.markMask, '==', here);
  // Statements are immutable data: the ones every policy's rules share are built once.
  const original = ctDirection('original');
  const marksHere = [setMarkBits('meta', keep, here), setMarkBits('ct', keep, here)];
  const markFor = new Map<number, Statement>();
  const markGateway = (value: number) => markFor.get(value) ?? markFor.set(value, setMarkBits('meta', keep, value)).get(value)!;
  const sets: NftSet[] = [];
  const mark: NftRule[] = [];
  const snat: NftRule[] = [];
  const guardIn: NftRule[] = [];
  const guardFwd: NftRule[] = [];

  if (input.isGateway) {
    mark.push(rule([ctDirection('reply'), markIs('ct', config.markMask, '==', here), marksHere[0]!, accept]));
  }
  for (const f of FAMILIES) {
    sets.push(intervalSet(`cluster${f}`, f, input.clusterCidrs));
    mark.push(rule([addressInSet(f, 'daddr', '==', `cluster${f}`), ret]));
  }

  for (const p of input.policies) {
    for (const f of FAMILIES) {
      const to = p.snat[f];
      if (!to) continue; // the policy has no source address of this family: such traffic keeps its normal path
      const dest = p.dest.filter((iv) => iv.family === f);
      if (p.dest.length > 0 && dest.length === 0) continue; // destSubnet lists only the other family
      if (p.bySubnet && !p.subnet.some((iv) => iv.family === f)) continue;
      const exclude = p.exclude.filter((iv) => iv.family === f);
      const dst: Statement[] = [];
      if (dest.length) {
        sets.push(intervalSet(`${p.setPrefix}_dst${f}`, f, dest));
        dst.push(addressInSet(f, 'daddr', '==', `${p.setPrefix}_dst${f}`));
      }
      if (exclude.length) {
        sets.push(intervalSet(`${p.setPrefix}_exc${f}`, f, exclude));
        dst.push(addressInSet(f, 'daddr', '!=', `${p.setPrefix}_exc${f}`));
      }
      // Sets exist even when empty, so pod churn only ever changes elements, never rules.
      const local = p.bySubnet ? `${p.setPrefix}_net${f}` : `${p.setPrefix}_loc${f}`;
      sets.push(p.bySubnet ? intervalSet(local, f, p.subnet) : hashSet(local, f, p.local[f]));
      const fromSet = (name: string) => [original, addressInSet(f, 'saddr', '==', name), ...dst, counter];
      if (p.carriedHere) {
        const all = p.bySubnet ? local : `${p.setPrefix}_all${f}`;
        if (!p.bySubnet) sets.push(hashSet(all, f, p.all[f]));
        mark.push(rule([fromTunnel, ...fromSet(all), ...marksHere, accept], policyRuleComment('gateway', p.key)));
        mark.push(rule([fromLocalPod, ...fromSet(local), ...marksHere, accept], policyRuleComment('local', p.key)));
        snat.push(rule([markedHere, addressInSet(f, 'saddr', '==', all), ...dst, counter, snatTo(f, to)], policyRuleComment('snat', p.key)));
      } else if (p.gatewayMark !== undefined) {
        mark.push(rule([fromLocalPod, ...fromSet(local), markGateway(p.gatewayMark), accept], policyRuleComment('worker', p.key)));
      }
    }
  }

  if (input.hasTunnel) {
    for (const f of FAMILIES) {
      sets.push(hashSet(`nodes${f}`, f, input.nodeIps[f]));
      guardIn.push(rule([portIs('udp', 'dport', config.vxlan.port), addressInSet(f, 'saddr', '!=', `nodes${f}`), counter, drop], GUARD_RULE_COMMENTS['vxlan-unknown-host']));
    }
    if (config.mssClamp) {
      guardFwd.push(rule([interfaceIs('oifname', '==', dev), tcpFlagsAnyOf(['syn']), clampMssToRouteMtu]));
      guardFwd.push(rule([fromTunnel, tcpFlagsAnyOf(['syn']), clampMssToRouteMtu]));
    }
    guardFwd.push(rule([fromTunnel, ctDirection('reply'), accept]));
    guardFwd.push(rule([fromTunnel, markIs('meta', config.markMask, '!=', here), counter, drop], GUARD_RULE_COMMENTS['anti-relay']));
  }
  if (input.isGateway) {
    for (const f of FAMILIES) {
      sets.push(hashSet(`eips${f}`, f, input.eips[f]));
      guardIn.push(rule([addressInSet(f, 'daddr', '==', `eips${f}`), ctStateAnyOf(['new', 'invalid']), counter, drop], GUARD_RULE_COMMENTS['eip-input']));
    }
  }

  const chains: NftChain[] = [
    { name: 'egress_mark', type: 'filter', hook: 'prerouting', priority: { base: 'mangle', offset: 0 }, rules: mark },
    { name: 'egress_input', type: 'filter', hook: 'input', priority: { base: 'filter', offset: 0 }, rules: guardIn },
    { name: 'egress_forward', type: 'filter', hook: 'forward', priority: { base: 'filter', offset: 0 }, rules: guardFwd },
    // Ahead of the CNI's masquerade (srcnat): only the first NAT rule that matches a connection applies.
    { name: 'egress_snat', type: 'nat', hook: 'postrouting', priority: { base: 'srcnat', offset: -10 }, rules: snat },
  ];
  const uniqueSets = [...new Map(sets.map((s) => [s.name, s])).values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  return { family: 'inet', name: config.nftTable, sets: uniqueSets, chains };
}
