/**
 * Which EgressFirewall or EgressClusterFirewall rule decides a pod's connection to a destination,
 * walked as the node's `egress_firewall` chain does (firewall-rules.ts): cluster destinations
 * first, then every rule of every firewall selecting the pod in order, then the first firewall's
 * defaultAction. A rule by name matches the addresses the node learned from the pod's DNS
 * answers; given those (read from the node's kernel), it says which name and answer put an
 * address there.
 */
import { EgressError } from '../errors.js';
import { formatIp, intervalsContain, isIp, parseIpSpec, type Family } from '../api/ip.js';
import type { Firewall, FirewallAction, FirewallPort, FirewallProtocol, FirewallRule } from '../api/model.js';
import { canonicalName, dnsNameMatches } from '../dns/dns-names.js';
import type { Snapshot } from './snapshot.js';
import { insideCluster } from './cluster-cidrs.js';
import { resolveCluster } from './resolve.js';
import { localFirewallInputs } from './firewall-endpoints.js';
import { compareFirewalls, firewallNameSet } from './firewall-rules.js';

/** One element of a learned set as the node's kernel holds it. */
export interface LearnedAddress {
  readonly set: string;
  readonly address: string;
  readonly expiresSeconds?: number;
  /** `dns NAME A ADDRESS ttl T to CLIENT` (lib/dns/learn.ts). */
  readonly comment?: string;
}

/** A connection's protocol and port, when the question names one. */
export interface FirewallPortQuery {
  readonly protocol: FirewallProtocol;
  readonly port: number;
}

type RuleMatch = 'yes' | 'no' | 'unknown';

interface FirewallRuleVerdict {
  readonly firewall: string;
  readonly kind: Firewall['kind'];
  /** The rule's index in spec.egress, or `default`. */
  readonly rule: number | 'default';
  readonly action: FirewallAction;
  readonly match: RuleMatch;
  readonly why: string;
  /** The learned elements that make a rule by name match this destination. */
  readonly learned?: readonly LearnedAddress[];
}

export interface FirewallExplanation {
  /** Allow or Deny; `unknown` when it depends on what only the node knows (learned addresses). */
  readonly verdict: FirewallAction | 'NotJudged' | 'unknown';
  readonly decidedBy?: { readonly firewall: string; readonly kind: Firewall['kind']; readonly rule: number | 'default' };
  readonly summary: string;
  /** In the order the chain tries them, up to the deciding one. */
  readonly rules: readonly FirewallRuleVerdict[];
}

/** `tcp/443`, `udp/53`, `sctp/9`: the --port option of `sluice explain`. */
export function parsePortQuery(text: string): FirewallPortQuery {
  const m = /^(tcp|udp|sctp)\/(\d{1,5})$/i.exec(text.trim());
  const port = m ? Number(m[2]) : 0;
  if (!m || port < 1 || port > 65535) throw new EgressError('EGW_ERR_INPUT', `--port "${text}" is not PROTOCOL/PORT (tcp, udp or sctp; a port 1-65535), e.g. tcp/443`);
  return { protocol: m[1]!.toUpperCase() as FirewallProtocol, port };
}

const HOST_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** An IP address, or a host name as a pod would look it up; anything else is refused. */
export function parseDestination(text: string): { ip: string; family: Family } | { name: string } {
  if (isIp(text)) return { ip: text, family: parseIpSpec(text).family };
  const name = canonicalName(text.trim());
  if (name.length > 0 && name.length <= 253 && name.split('.').every((l) => HOST_LABEL.test(l))) return { name };
  throw new EgressError('EGW_ERR_INPUT', `--dest "${text}" is neither an IP address nor a DNS name`);
}

function portsText(ports: readonly FirewallPort[]): string {
  return ports.map((p) => (p.port === undefined ? p.protocol : `${p.protocol}/${p.port}`)).join(', ');
}

/** Whether the rule's ports admit the connection: yes, no, or unknown when no port was given. */
function portsMatch(r: FirewallRule, port: FirewallPortQuery | undefined): RuleMatch {
  if (r.ports.length === 0) return 'yes';
  if (!port) return 'unknown';
  return r.ports.some((p) => p.protocol === port.protocol && (p.port === undefined || p.port === port.port)) ? 'yes' : 'no';
}

function ruleTarget(r: FirewallRule, family: Family | undefined): string {
  if (r.dnsName !== undefined) return `dnsName ${r.dnsName}`;
  const f = r.cidr?.family ?? 4;
  return `cidrSelector ${r.cidr ? `${formatIp(r.cidr.start, f)}-${formatIp(r.cidr.end, f)}` : '?'}${family && r.cidr && r.cidr.family !== family ? ' (other family)' : ''}`;
}

type Dest = { ip: string; family: Family } | { name: string };

/** How one rule judges the destination, before its ports. */
function destinationMatch(
  fw: Firewall,
  index: number,
  r: FirewallRule,
  dest: Dest,
  learned: readonly LearnedAddress[] | undefined,
): { match: RuleMatch; why: string; learned?: LearnedAddress[] } {
  if ('name' in dest) {
    if (r.dnsName !== undefined) {
      const hits = learned?.filter((l) => (l.set === firewallNameSet(fw.key, index, 4) || l.set === firewallNameSet(fw.key, index, 6)) && l.comment?.split(' ')[1] === dest.name);
      return dnsNameMatches(r.dnsName, dest.name)
        ? { match: 'yes', why: `${dest.name} matches ${r.dnsName}: the addresses the pod's lookups of it return are allowed`, ...(hits?.length ? { learned: hits } : {}) }
        : { match: 'no', why: `${dest.name} does not match ${r.dnsName}` };
    }
    return { match: 'unknown', why: `depends on the address ${dest.name} resolves to (ask with --dest ADDRESS)` };
  }
  if (r.cidr) {
    if (r.cidr.family !== dest.family) return { match: 'no', why: 'other address family' };
    return intervalsContain([r.cidr], dest.ip) ? { match: 'yes', why: `${dest.ip} is in the range` } : { match: 'no', why: `${dest.ip} is not in the range` };
  }
  const set = firewallNameSet(fw.key, index, dest.family);
  if (!learned) return { match: 'unknown', why: `matches if the pod's DNS answers for ${r.dnsName} gave ${dest.ip} (set ${set}; run on the pod's node with --learned to read it)` };
  const hits = learned.filter((l) => l.set === set && l.address === dest.ip);
  if (hits.length === 0) return { match: 'no', why: `${dest.ip} is not among the addresses learned for ${r.dnsName} on this node` };
  const h = hits[0]!;
  return { match: 'yes', why: `learned from ${h.comment ?? 'a DNS answer'}${h.expiresSeconds !== undefined ? `, held ${h.expiresSeconds} s more` : ''}`, learned: hits };
}

/**
 * The firewall verdict for `podKey` connecting to `dest` (an address or a name), optionally on one
 * protocol/port. `learned`: the node's learned elements; without them a rule by name is `unknown`
 * for an address.
 */
export function explainFirewall(snapshot: Snapshot, podKey: string, destText: string, port?: FirewallPortQuery, learned?: readonly LearnedAddress[]): FirewallExplanation {
  const [ns, name] = podKey.split('/');
  const pod = snapshot.pods?.find((p) => p.namespace === ns && p.name === name);
  if (!pod) throw new EgressError('EGW_ERR_PLAN', `pod "${podKey}" is not in the cluster snapshot (give it as namespace/name)`);
  const dest = parseDestination(destText);
  const family: Family = 'ip' in dest ? dest.family : 4;
  if ('ip' in dest && insideCluster(resolveCluster(snapshot).cluster, dest.ip)) {
    return { verdict: 'NotJudged', summary: `${dest.ip} is inside the cluster: firewalls never judge it`, rules: [] };
  }
  const podIps = new Set(family === 4 ? pod.ipv4 : pod.ipv6);
  const selecting = localFirewallInputs(snapshot, pod.node)
    .filter(({ local }) => local[family].some((ip) => podIps.has(ip)))
    .map(({ firewall }) => firewall)
    .sort(compareFirewalls);
  if (selecting.length === 0) return { verdict: 'NotJudged', summary: `no firewall selects ${podKey}: its connections are not judged`, rules: [] };

  const rules: FirewallRuleVerdict[] = [];
  let undecided = false;
  for (const fw of selecting) {
    for (const [index, r] of fw.spec.rules.entries()) {
      const d = destinationMatch(fw, index, r, dest, learned);
      const p = portsMatch(r, port);
      const match: RuleMatch = d.match === 'no' || p === 'no' ? 'no' : d.match === 'yes' && p === 'yes' ? 'yes' : 'unknown';
      const portWhy =
        r.ports.length === 0
          ? ''
          : p === 'yes'
            ? `; port ${port!.protocol}/${port!.port} is in ${portsText(r.ports)}`
            : p === 'no'
              ? `; only ${portsText(r.ports)}`
              : `; only ${portsText(r.ports)} (ask with --port)`;
      rules.push({
        firewall: fw.key,
        kind: fw.kind,
        rule: index,
        action: r.action,
        match,
        why: `${r.action} ${ruleTarget(r, 'ip' in dest ? dest.family : undefined)}: ${d.why}${portWhy}`,
        ...(d.learned ? { learned: d.learned } : {}),
      });
      if (match === 'unknown') undecided = true;
      if (match !== 'yes') continue;
      const decidedBy = { firewall: fw.key, kind: fw.kind, rule: index };
      const caveat = undecided ? ' unless an earlier rule marked unknown matches first' : '';
      return {
        verdict: undecided ? 'unknown' : r.action,
        decidedBy,
        summary: `${r.action}: ${fw.kind} ${fw.key} rule #${index} decides for ${podKey} → ${destText}${caveat}`,
        rules,
      };
    }
  }
  const first = selecting[0]!;
  rules.push({
    firewall: first.key,
    kind: first.kind,
    rule: 'default',
    action: first.spec.defaultAction,
    match: 'yes',
    why: `no rule matches: the defaultAction of the first firewall selecting the pod`,
  });
  const caveat = undecided ? ' unless a rule marked unknown matches' : '';
  return {
    verdict: undecided ? 'unknown' : first.spec.defaultAction,
    decidedBy: { firewall: first.key, kind: first.kind, rule: 'default' },
    summary: `${first.spec.defaultAction}: the defaultAction of ${first.kind} ${first.key} decides for ${podKey} → ${destText}${caveat}`,
    rules,
  };
}
