/**
 * What a DNS answer teaches the firewall: for the rules by name that apply to the pod that asked
 * and match the queried name, the A and AAAA addresses the answer gives for that name (directly
 * or through its CNAME chain), each with the record's TTL plus a grace period as the element's
 * timeout. Pure: the forwarder applies the result before it hands the answer to the pod.
 */
import dnsPacket, { type Answer, type DecodedPacket } from 'dns-packet';
import { canonicalIp, isIp, type Family } from '../api/ip.js';
import { canonicalName, dnsNameMatches } from './dns-names.js';

/** One rule by name, as the forwarder needs it. */
export interface DnsRuleTarget {
  /** Canonical rule name: `github.com` or `*.example.com`. */
  readonly pattern: string;
  /** The sets the rule matches destinations in, by family. */
  readonly sets: Readonly<Record<Family, string>>;
  /** Whether the rule applies to a pod with this address (its firewall selects the pod). */
  readonly appliesTo: (client: string) => boolean;
}

/** One address to hold in a set for `timeoutSeconds`. */
export interface LearnedElement {
  readonly set: string;
  readonly family: Family;
  readonly address: string;
  readonly timeoutSeconds: number;
  /** The queried name that put it there (explain, logs). */
  readonly name: string;
  /** Which answer put it there, kept on the element in the kernel for `sluice explain`. */
  readonly comment: string;
}

/** Longest comment kept on a learned element (nft takes more; a listing stays readable). */
const MAX_COMMENT = 120;

/**
 * `dns NAME A ADDRESS ttl T to CLIENT`: the queried name, the record and the pod that received it.
 * The name is canonical and was matched by a rule's pattern, the address and client are canonical
 * addresses; anything else is cut out all the same, as it goes into the kernel.
 */
export function learnedComment(name: string, family: Family, address: string, ttl: number, client: string): string {
  const text = `dns ${name} ${family === 4 ? 'A' : 'AAAA'} ${address} ttl ${ttl} to ${client}`;
  return text.replace(/[^\x21-\x7e ]|["\\]/g, '').slice(0, MAX_COMMENT);
}

/** Longest CNAME chain followed (resolvers stop well before this). */
const MAX_CHAIN = 16;
/** nft timeouts are kept within a day: a longer TTL is still refreshed by the next lookup. */
export const MAX_TIMEOUT_SECONDS = 86_400;

export type AnswerDecode = { ok: true; packet: DecodedPacket } | { ok: false; reason: string };

/** Decodes an upstream answer; a message that does not decode is refused, never passed on unread. */
export function decodeAnswer(message: Buffer): AnswerDecode {
  try {
    const packet = dnsPacket.decode(message);
    if (packet.type !== 'response') return { ok: false, reason: 'not a response' };
    return { ok: true, packet };
  } catch (err) {
    return { ok: false, reason: `undecodable: ${(err as Error).message}` };
  }
}

/** The A/AAAA records reachable from `qname` through CNAMEs, with their TTLs. */
export function addressesFor(qname: string, answers: readonly Answer[]): { family: Family; address: string; ttl: number }[] {
  const names = new Set([canonicalName(qname)]);
  for (let i = 0; i < MAX_CHAIN; i++) {
    let grew = false;
    for (const a of answers) {
      if (a.type === 'CNAME' && names.has(canonicalName(a.name)) && !names.has(canonicalName(a.data))) {
        names.add(canonicalName(a.data));
        grew = true;
      }
    }
    if (!grew) break;
  }
  const out: { family: Family; address: string; ttl: number }[] = [];
  for (const a of answers) {
    if ((a.type !== 'A' && a.type !== 'AAAA') || !names.has(canonicalName(a.name))) continue;
    const family: Family = a.type === 'A' ? 4 : 6;
    // Addresses go into nft commands: only well-formed ones of the record's family, canonical.
    if (typeof a.data !== 'string' || !isIp(a.data, family)) continue;
    out.push({ family, address: canonicalIp(a.data), ttl: a.ttl ?? 0 });
  }
  return out;
}

/**
 * The elements an answer to `client` puts into the rules' sets: one per set and address, the
 * longest timeout kept when an address appears twice.
 */
export function learnFromAnswer(packet: DecodedPacket, client: string, rules: readonly DnsRuleTarget[], graceSeconds: number): LearnedElement[] {
  const question = packet.questions?.[0];
  // The low four bits of the flags are the RCODE: only NOERROR answers carry addresses to learn.
  if (!question || ((packet.flags ?? 0) & 0xf) !== 0) return [];
  const matching = rules.filter((r) => dnsNameMatches(r.pattern, question.name) && r.appliesTo(client));
  if (matching.length === 0) return [];
  const addresses = addressesFor(question.name, packet.answers ?? []);
  const byKey = new Map<string, LearnedElement>();
  const name = canonicalName(question.name);
  const asker = client.replace(/^::ffff:(?=\d+\.)/, '');
  for (const rule of matching) {
    for (const a of addresses) {
      const set = rule.sets[a.family];
      const timeoutSeconds = Math.min(MAX_TIMEOUT_SECONDS, Math.max(1, a.ttl) + graceSeconds);
      const key = `${set} ${a.address}`;
      const prior = byKey.get(key);
      if (!prior || prior.timeoutSeconds < timeoutSeconds) {
        byKey.set(key, { set, family: a.family, address: a.address, timeoutSeconds, name, comment: learnedComment(name, a.family, a.address, a.ttl, asker) });
      }
    }
  }
  return [...byKey.values()];
}
