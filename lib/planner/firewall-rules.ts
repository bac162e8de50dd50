/**
 * The one place where EgressFirewall and EgressClusterFirewall objects become nft rules: a chain
 * at the forward hook of sluice's table, on the node where the selected pods run.
 *
 * - Only new connections are judged (an established one keeps going when a rule changes), and
 *   only to destinations outside the cluster: the `cluster4`/`cluster6` sets that keep cluster
 *   traffic off the tunnel are accepted first, so kube-dns, Services and pods always work.
 * - Firewalls are taken in order (higher priority, then the older object, then namespaced before
 *   cluster, then key); their rules in the order written. The first rule that matches a packet of
 *   one of its pods decides; when none does, the defaultAction of the first firewall selecting the
 *   pod decides.
 * - Allow is `accept`, which ends this chain only: every other chain at the hook (the CNI's
 *   NetworkPolicy drops, EgressPolicy marking before it) still sees the packet. Deny is a TCP reset
 *   or an ICMP "administratively prohibited", so clients fail fast, after a rate-limited log to the
 *   agent (nfnetlink_log, see DenyLog).
 * - Every rule counts packets and bytes under the comment `fw KEY #N` (`fw KEY default`), which
 *   metrics and `sluice explain` read back.
 * - The forward hook runs after routing, so a denied packet of a pod whose EgressPolicy routes it
 *   to the tunnel is refused before it is sent there.
 */
import type { Family } from '../api/ip.js';
import type { Firewall, FirewallAction, FirewallPort, FirewallRule } from '../api/model.js';
import { shortHash } from './hrw.js';
import type { NftChain, NftSet } from './node-plan.js';
import type { NftRule, Statement } from './nft/vocabulary.js';
import { accept, addressInPrefix, addressInSet, counter, ctStateAnyOf, l4protoIs, limitPerSecond, logWithPrefix, nfprotoIs, portIs, reject, rule } from './nft/statements.js';
import { formatIp } from '../api/ip.js';

const FAMILIES: readonly Family[] = [4, 6];
const TYPE: Record<Family, NftSet['type']> = { 4: 'ipv4_addr', 6: 'ipv6_addr' };
const FIREWALL_CHAIN = 'egress_firewall';

/** One firewall as the builder needs it: in evaluation order, with its pods on this node. */
export interface FirewallInput {
  readonly firewall: Firewall;
  readonly local: Record<Family, readonly string[]>;
}

/** The order firewalls selecting the same pod are evaluated in (the tie-break of policies). */
export function compareFirewalls(a: Firewall, b: Firewall): number {
  if (a.spec.priority !== b.spec.priority) return b.spec.priority - a.spec.priority;
  if (a.creationTimestamp !== b.creationTimestamp) return a.creationTimestamp < b.creationTimestamp ? -1 : 1;
  if (a.kind !== b.kind) return a.kind === 'EgressFirewall' ? -1 : 1;
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/** Name of the set of a firewall's pod addresses on this node. */
export function firewallSourceSet(key: string, family: Family): string {
  return `f_${shortHash(key)}_src${family}`;
}

/** Name of the set of the addresses learned for rule `index` (a dnsName rule) of a firewall. */
export function firewallNameSet(key: string, index: number, family: Family): string {
  return `f_${shortHash(key)}_n${index}_${family}`;
}

/** The counted comment of rule `index` of a firewall, or of its default action. */
export function firewallRuleComment(key: string, index: number | 'default'): string {
  const text = `fw ${key} ${index === 'default' ? 'default' : `#${index}`}`;
  return text.slice(0, 120).replace(/[^\x20-\x7e]|["\\]/g, '');
}

function portMatch(p: FirewallPort): Statement {
  const protocol = p.protocol === 'TCP' ? 'tcp' : p.protocol === 'UDP' ? 'udp' : 'sctp';
  return p.port === undefined ? l4protoIs(protocol) : portIs(protocol, 'dport', p.port);
}

/**
 * Where denials are logged: an nfnetlink_log group the agent reads, with the rule's counted comment
 * as prefix (so a log line names the same rule as the counters), at most `rate` per second and rule
 * (twice that at once). A rate of 0 logs nothing.
 */
export interface DenyLog {
  readonly group: number;
  readonly rate: number;
}

/** The verdict statements of an action; a Deny is a reset for TCP and an ICMP error for the rest. */
function verdictRules(match: readonly Statement[], action: FirewallAction, protocol: FirewallPort['protocol'] | undefined, note: string, log: DenyLog): NftRule[] {
  if (action === 'Allow') return [rule([...match, counter, accept], note)];
  const out = log.rate > 0 ? [rule([...match, limitPerSecond(log.rate, 2 * log.rate), logWithPrefix(note, log.group)])] : [];
  if (protocol === undefined) out.push(rule([...match, l4protoIs('tcp'), counter, reject('tcp reset')], note));
  if (protocol === undefined || protocol === 'TCP') out.push(rule([...match, counter, reject(protocol === 'TCP' ? 'tcp reset' : 'icmpx admin-prohibited')], note));
  else out.push(rule([...match, counter, reject('icmpx admin-prohibited')], note));
  return out;
}

function destination(key: string, index: number, r: FirewallRule, family: Family): Statement | undefined {
  if (r.dnsName !== undefined) return addressInSet(family, 'daddr', '==', firewallNameSet(key, index, family));
  if (!r.cidr || r.cidr.family !== family) return undefined;
  const full = family === 4 ? 32 : 128;
  const size = r.cidr.end - r.cidr.start + 1n;
  const prefix = full - (size.toString(2).length - 1);
  // `/0` is every address of the family: nft takes no zero-length prefix.
  if (prefix === 0) return nfprotoIs(family === 4 ? 'ipv4' : 'ipv6');
  return addressInPrefix(family, 'daddr', formatIp(r.cidr.start, family), prefix);
}

export interface FirewallTablePart {
  /** The firewalls in evaluation order, with their rule counts. */
  readonly order: readonly { readonly key: string; readonly rules: number }[];
  readonly sets: readonly NftSet[];
  /** Undefined when no firewall exists: nothing is evaluated at all. */
  readonly chain?: NftChain;
}

/**
 * The sets and the chain of every firewall. Sets exist even when empty, so pod churn only ever
 * changes elements. A rule by DNS name matches the addresses in its learned set (`learned`: the
 * DNS forwarder fills it from the answers the firewall's pods receive, each address for its TTL
 * plus a grace period); an address no answer gave is not in it.
 */
export function buildFirewallRules(firewalls: readonly FirewallInput[], clusterSet: (family: Family) => string, log: DenyLog): FirewallTablePart {
  if (firewalls.length === 0) return { order: [], sets: [] };
  const ordered = [...firewalls].sort((a, b) => compareFirewalls(a.firewall, b.firewall));
  const sets: NftSet[] = [];
  const rules: NftRule[] = [rule([ctStateAnyOf(['established', 'related']), accept])];
  for (const f of FAMILIES) rules.push(rule([addressInSet(f, 'daddr', '==', clusterSet(f)), accept]));
  for (const { firewall, local } of ordered) {
    for (const f of FAMILIES) sets.push({ name: firewallSourceSet(firewall.key, f), type: TYPE[f], interval: false, elements: [...new Set(local[f])].sort() });
    firewall.spec.rules.forEach((r, index) => {
      if (r.dnsName === undefined) return;
      for (const f of FAMILIES) sets.push({ name: firewallNameSet(firewall.key, index, f), type: TYPE[f], interval: false, elements: [], learned: true });
    });
  }
  for (const { firewall } of ordered) {
    firewall.spec.rules.forEach((r, index) => {
      for (const f of FAMILIES) {
        const dst = destination(firewall.key, index, r, f);
        if (!dst) continue;
        const base = [addressInSet(f, 'saddr', '==', firewallSourceSet(firewall.key, f)), dst];
        const note = firewallRuleComment(firewall.key, index);
        if (r.ports.length === 0) rules.push(...verdictRules(base, r.action, undefined, note, log));
        for (const p of r.ports) rules.push(...verdictRules([...base, portMatch(p)], r.action, p.protocol, note, log));
      }
    });
  }
  for (const { firewall } of ordered) {
    for (const f of FAMILIES) {
      rules.push(
        ...verdictRules(
          [addressInSet(f, 'saddr', '==', firewallSourceSet(firewall.key, f))],
          firewall.spec.defaultAction,
          undefined,
          firewallRuleComment(firewall.key, 'default'),
          log,
        ),
      );
    }
  }
  const order = ordered.map(({ firewall }) => ({ key: firewall.key, rules: firewall.spec.rules.length }));
  return { order, sets, chain: { name: FIREWALL_CHAIN, type: 'filter', hook: 'forward', priority: { base: 'filter', offset: -5 }, rules } };
}

/** Which firewall and rule each counted comment (and denial log prefix) of these firewalls stands for. */
export function firewallRulesByComment(firewalls: readonly FirewallInput[]): Map<string, { readonly firewall: string; readonly rule: string }> {
  const out = new Map<string, { readonly firewall: string; readonly rule: string }>();
  for (const { firewall } of firewalls) {
    firewall.spec.rules.forEach((_r, index) => out.set(firewallRuleComment(firewall.key, index), { firewall: firewall.key, rule: `#${index}` }));
    out.set(firewallRuleComment(firewall.key, 'default'), { firewall: firewall.key, rule: 'default' });
  }
  return out;
}

/** One rule by name on this node: what the DNS forwarder learns for, and for which pods. */
export interface FirewallNameRule {
  readonly firewall: string;
  readonly index: number;
  /** Canonical: `github.com` or `*.example.com`. */
  readonly pattern: string;
  readonly sets: Readonly<Record<Family, string>>;
  /** The addresses of the firewall's pods on this node, the only clients it learns for. */
  readonly clients: ReadonlySet<string>;
}

/** Every dnsName rule of the firewalls with pods on this node, in evaluation order. */
export function firewallNameRules(firewalls: readonly FirewallInput[]): FirewallNameRule[] {
  const out: FirewallNameRule[] = [];
  for (const { firewall, local } of [...firewalls].sort((a, b) => compareFirewalls(a.firewall, b.firewall))) {
    const clients = new Set([...local[4], ...local[6]]);
    if (clients.size === 0) continue;
    firewall.spec.rules.forEach((r, index) => {
      if (r.dnsName === undefined) return;
      out.push({ firewall: firewall.key, index, pattern: r.dnsName, sets: { 4: firewallNameSet(firewall.key, index, 4), 6: firewallNameSet(firewall.key, index, 6) }, clients });
    });
  }
  return out;
}
