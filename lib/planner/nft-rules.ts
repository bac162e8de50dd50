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
  clearMarkBits,
  counter,
  ctDirection,
  ctStateAnyOf,
  drop,
  etherSourceAnyOf,
  interfaceIs,
  markIs,
  nextHopIs,
  portIs,
  ret,
  rule,
  setMarkBits,
  snatTo,
  snatToSource,
  sourceRoutedBackViaInput,
  tcpFlagsAnyOf,
} from './nft/statements.js';

/** One policy as the nft builder needs it: already resolved to this node's role and sets. */
export interface PolicyRuleInput {
  readonly key: string;
  readonly setPrefix: string;
  /** Routing mark value for a remote gateway (worker role) — undefined on the gateway itself. */
  readonly gatewayMark?: number;
  /**
   * Worker role, but the node it steers to has no routing mark (no tunnel identity yet): its pods'
   * matching packets are dropped, never sent by the node's normal path with their own address.
   */
  readonly unsteerable?: boolean;
  readonly carriedHere: boolean;
  /** Selected pod addresses on this node (hash set) — or podSubnet CIDRs (interval set). */
  readonly local: Record<Family, readonly string[]>;
  /** Every selected pod address in the cluster (only needed where the policy is carried). */
  readonly all: Record<Family, readonly string[]>;
  /**
   * Gateway side, for a policy carried by another node that has destination conditions: its pod
   * addresses that a lower-ranked policy carried here selects too. Their tunnel packets to its
   * destinations are not taken by that policy.
   */
  readonly carriedElsewhere?: Record<Family, readonly string[]>;
  /**
   * Gateway side, for a policy carried here: its pod addresses that a higher-ranked policy
   * carried by another node (without destination conditions) selects too. It does not take
   * their tunnel packets.
   */
  readonly carriedElsewhereAbove?: Record<Family, readonly string[]>;
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
   * The node's LAN NIC: packets arriving on it never come from this node's pods (a cheap first
   * filter; the reverse-path check decides). A name nft cannot take is refused
   * (EGW_ERR_NFT_VALUE); plan() passes a checked one (parent-interface.ts).
   */
  readonly parentInterface: string;
  /** Policies in resolution order (first match wins). */
  readonly policies: readonly PolicyRuleInput[];
  /**
   * This node is reached by native routing: workers' packets arrive on the LAN NIC, and only a
   * sender whose link-layer address is one of these (the nodes on its segment) is taken for a node.
   */
  readonly nativeArrival?: { readonly macs: readonly string[] };
  /** Worker: the gateway nodes it reaches by native routing, by mark, with their LAN addresses. */
  readonly nativePaths?: readonly { readonly mark: number; readonly nextHop: Partial<Record<Family, string>> }[];
}

const FAMILIES: readonly Family[] = [4, 6];

/** The set of cluster destinations (pods, Services, nodes) of a family: never egress. */
export const clusterSetName = (family: Family): string => `cluster${family}`;
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
 *
 * Where each chain sits, and why:
 * - egress_mark, prerouting after dstnat: kube-proxy has already turned a Service address
 *   (ClusterIP, NodePort, LoadBalancer, external IP) into its backend's, so "inside the cluster"
 *   is decided on the address the packet really goes to.
 * - egress_unmark, postrouting first of all: our mark bits have done their work (the route is
 *   chosen) and leave with no packet. Nothing after us sees them, kube-proxy's masquerade and
 *   drop bits included, and the VXLAN packet that carries a marked packet does not inherit them.
 * - egress_snat, before srcnat: the first NAT binding of a connection is the only one, so the
 *   EIP SNAT, and on the tunnel a binding that keeps the pod's source, beat a CNI masquerade
 *   that matches no interface (Flannel, Calico), in nft and iptables (both backends) alike.
 */
export function buildNftTable(input: NftInput): NftTablePlan {
  const { config } = input;
  const dev = config.vxlan.device;
  const here = hereMark(config);
  const keep = ~config.markMask >>> 0;
  // Local pods' packets come from their own interfaces: the route back to the source must leave by
  // the interface the packet came in on. One arriving from a LAN (or the tunnel) with a pod's source
  // address is spoofed: marking it would relay it out with the EIP.
  const notFromLanOrTunnel = interfaceIs('iifname', '!=', [dev, input.parentInterface]);
  const fromTunnel = interfaceIs('iifname', '==', dev);
  const fromLan = interfaceIs('iifname', '==', input.parentInterface);
  // Where a node's forwarded packet may arrive: the tunnel (its outer source is a node's address,
  // egress_input's guard), and with native routing the LAN NIC from a node's link-layer address.
  const nativeMacs = input.nativeArrival?.macs ?? [];
  const arrivals: Statement[][] = [[fromTunnel], ...(nativeMacs.length ? [[fromLan, etherSourceAnyOf('==', nativeMacs)]] : [])];
  const snatHere = markIs('ct', config.markMask, '==', here);
  // Statements are immutable data: the ones every policy's rules share are built once.
  const original = ctDirection('original');
  const marksHere = [setMarkBits('meta', keep, here), setMarkBits('ct', keep, here)];
  const markFor = new Map<number, Statement>();
  const markGateway = (value: number) => markFor.get(value) ?? markFor.set(value, setMarkBits('meta', keep, value)).get(value)!;
  const sets: NftSet[] = [];
  const mark: NftRule[] = [];
  const unmark: NftRule[] = [];
  const snat: NftRule[] = [];
  const guardIn: NftRule[] = [];
  const guardFwd: NftRule[] = [];

  if (input.isGateway) {
    mark.push(rule([ctDirection('reply'), snatHere, marksHere[0]!, accept]));
  }
  for (const f of FAMILIES) {
    sets.push(intervalSet(clusterSetName(f), f, input.clusterCidrs));
    mark.push(rule([addressInSet(f, 'daddr', '==', clusterSetName(f)), ret]));
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
      const fromSet = (name: string) => [original, addressInSet(f, 'saddr', '==', name), ...dst];
      if (p.carriedElsewhere) {
        // The worker sent it here by this policy, which another node carries: no later policy
        // takes it, and without a mark the anti-relay guard drops it.
        const elsewhere = `${p.setPrefix}_oth${f}`;
        sets.push(hashSet(elsewhere, f, p.carriedElsewhere[f]));
        for (const from of arrivals) mark.push(rule([...from, ...fromSet(elsewhere), accept]));
      }
      if (!p.carriedHere && p.gatewayMark === undefined && !p.unsteerable) continue;
      // Sets exist even when empty, so pod churn only ever changes elements, never rules.
      const local = p.bySubnet ? `${p.setPrefix}_net${f}` : `${p.setPrefix}_loc${f}`;
      sets.push(p.bySubnet ? intervalSet(local, f, p.subnet) : hashSet(local, f, p.local[f]));
      // The route lookup comes last: it runs only for packets every set already matched.
      const fromLocalPod = [notFromLanOrTunnel, ...fromSet(local), sourceRoutedBackViaInput, counter];
      if (p.carriedHere) {
        if (p.carriedElsewhereAbove) {
          const above = `${p.setPrefix}_abv${f}`;
          sets.push(hashSet(above, f, p.carriedElsewhereAbove[f]));
          for (const from of arrivals) mark.push(rule([...from, original, addressInSet(f, 'saddr', '==', above), accept]));
        }
        const all = p.bySubnet ? local : `${p.setPrefix}_all${f}`;
        if (!p.bySubnet) sets.push(hashSet(all, f, p.all[f]));
        arrivals.forEach((from, i) => mark.push(rule([...from, ...fromSet(all), counter, ...marksHere, accept], policyRuleComment(i === 0 ? 'gateway' : 'native', p.key))));
        mark.push(rule([...fromLocalPod, ...marksHere, accept], policyRuleComment('local', p.key)));
        snat.push(rule([snatHere, addressInSet(f, 'saddr', '==', all), ...dst, counter, snatTo(f, to)], policyRuleComment('snat', p.key)));
      } else if (p.gatewayMark !== undefined) {
        mark.push(rule([...fromLocalPod, markGateway(p.gatewayMark), accept], policyRuleComment('worker', p.key)));
      } else {
        mark.push(rule([...fromLocalPod, drop], policyRuleComment('worker', p.key)));
      }
    }
  }

  // A packet marked for a gateway node reached natively leaves by the LAN NIC to that node's address.
  for (const path of input.nativePaths ?? []) {
    for (const f of FAMILIES) {
      const hop = path.nextHop[f];
      if (hop) guardFwd.push(rule([markIs('meta', config.markMask, '==', path.mark), interfaceIs('oifname', '==', input.parentInterface), nextHopIs(f, '==', [hop]), accept]));
    }
  }
  // Fail closed: a packet marked for a gateway leaves by the tunnel (or its native path) or not at all. Its gateway's
  // rule or table may not be in place yet (an apply loads nft before it adds routes) or no longer
  // be; the lookup then goes on to main, and the packet would leave with the pod's own address
  // (its connection's NAT binding keeps the source) or the node's.
  guardFwd.push(
    rule(
      [markIs('meta', config.markMask, '!=', 0), markIs('meta', config.markMask, '!=', here), interfaceIs('oifname', '!=', dev), counter, drop],
      GUARD_RULE_COMMENTS['off-tunnel'],
    ),
  );
  if (input.hasTunnel) {
    unmark.push(rule([interfaceIs('oifname', '==', dev), clearMarkBits('meta', keep)]));
    for (const f of FAMILIES) {
      sets.push(hashSet(`nodes${f}`, f, input.nodeIps[f]));
      guardIn.push(rule([portIs('udp', 'dport', config.vxlan.port), addressInSet(f, 'saddr', '!=', `nodes${f}`), counter, drop], GUARD_RULE_COMMENTS['vxlan-unknown-host']));
      // Pods' connections into the tunnel keep their source: a masquerade after us must not take them.
      snat.push(rule([interfaceIs('oifname', '==', dev), snatToSource(f)]));
    }
    if (config.mssClamp) {
      guardFwd.push(rule([interfaceIs('oifname', '==', dev), tcpFlagsAnyOf(['syn']), clampMssToRouteMtu]));
      guardFwd.push(rule([fromTunnel, tcpFlagsAnyOf(['syn']), clampMssToRouteMtu]));
    }
    guardFwd.push(rule([fromTunnel, ctDirection('reply'), accept]));
    guardFwd.push(rule([fromTunnel, markIs('meta', config.markMask, '!=', here), counter, drop], GUARD_RULE_COMMENTS['anti-relay']));
  }
  const hops = (f: Family) => [...new Set((input.nativePaths ?? []).flatMap((p) => (p.nextHop[f] ? [p.nextHop[f]] : [])))].sort();
  for (const f of FAMILIES) {
    // Pods' packets routed to a gateway node's LAN address keep their source, as into the tunnel.
    const next = hops(f);
    if (next.length)
      snat.push(rule([interfaceIs('oifname', '==', input.parentInterface), nextHopIs(f, '==', next), addressInSet(f, 'daddr', '!=', clusterSetName(f)), snatToSource(f)]));
  }
  if (input.nativeArrival) {
    // On the LAN, an address proves nothing: a packet in and out of the LAN NIC with a cluster
    // source is forwarded only when this node SNATs it (or it answers a connection that began here).
    for (const f of FAMILIES) {
      guardFwd.push(
        rule(
          [
            fromLan,
            interfaceIs('oifname', '==', input.parentInterface),
            original,
            addressInSet(f, 'saddr', '==', clusterSetName(f)),
            markIs('meta', config.markMask, '!=', here),
            counter,
            drop,
          ],
          GUARD_RULE_COMMENTS['native-relay'],
        ),
      );
    }
  }
  if (input.isGateway) {
    unmark.push(rule([snatHere, clearMarkBits('meta', keep)]));
    for (const f of FAMILIES) {
      sets.push(hashSet(`eips${f}`, f, input.eips[f]));
      guardIn.push(rule([addressInSet(f, 'daddr', '==', `eips${f}`), ctStateAnyOf(['new', 'invalid']), counter, drop], GUARD_RULE_COMMENTS['eip-input']));
    }
  }

  const chains: NftChain[] = [
    { name: 'egress_mark', type: 'filter', hook: 'prerouting', priority: { base: 'dstnat', offset: 10 }, rules: mark },
    { name: 'egress_input', type: 'filter', hook: 'input', priority: { base: 'filter', offset: 0 }, rules: guardIn },
    { name: 'egress_forward', type: 'filter', hook: 'forward', priority: { base: 'filter', offset: 0 }, rules: guardFwd },
    { name: 'egress_unmark', type: 'filter', hook: 'postrouting', priority: { base: 'raw', offset: 0 }, rules: unmark },
    { name: 'egress_snat', type: 'nat', hook: 'postrouting', priority: { base: 'srcnat', offset: -10 }, rules: snat },
  ];
  const uniqueSets = [...new Map(sets.map((s) => [s.name, s])).values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  return { family: 'inet', name: config.nftTable, sets: uniqueSets, chains };
}
