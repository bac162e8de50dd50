import { EgressError } from '../../errors.js';
import { STRUCTURE_CHAIN } from './fingerprint.js';
import { NFPROTO_INET } from './nfnetlink.js';
import { chainDumpRequest, parseChainDump } from './nfnetlink-chains.js';
import { parseRuleDump, ruleDumpRequest, type DumpedRule } from './nfnetlink-rules.js';
import { elementDumpRequest, observedSet, parseElementDump, parseSetDump, setDumpRequest, type DumpedSet } from './nfnetlink-sets.js';
import { observedPlainSet, parsePlainElementDump, plainElements } from './nfnetlink-plain-elements.js';
import { parseTableReply, tableGetRequest } from './nfnetlink-table.js';
import { netfilterRequest } from './netfilter-socket.js';
import type { ObservedChain, ObservedSet } from './nft-types.js';

// Reads of our table straight from nf_tables over netlink. libnftables 1.0.6 fetches every set
// element before it lists anything, even `nft -t` or a single chain (~0.3 s at 100k endpoints);
// these cost the same at 10 or 100k endpoints. All throw EGW_ERR_NFT; callers fall back to a
// libnftables listing.

let seq = Math.floor(Date.now() / 1000) >>> 0;
const nextSeq = () => (seq = (seq + 1) >>> 0);

/** Every rule of `inet <table>`; none when the table does not exist. `counters: false`: without their counters. */
export function dumpInetRules(table: string, options: { readonly counters?: boolean } = {}): DumpedRule[] {
  const mine = nextSeq();
  const rules: DumpedRule[] = [];
  netfilterRequest(ruleDumpRequest(NFPROTO_INET, table, mine), (datagram) => {
    const part = parseRuleDump(datagram, mine, options);
    rules.push(...part.rules.filter((r) => r.table === table));
    return part.done;
  });
  return rules;
}

/** The comment of `inet <table>`: '' when it has none, null when the table does not exist. */
function readInetTableComment(table: string): string | null {
  const mine = nextSeq();
  let comment: string | null | undefined;
  netfilterRequest(tableGetRequest(NFPROTO_INET, table, mine), (datagram) => {
    const reply = parseTableReply(datagram, mine);
    if (reply.comment !== undefined) comment = reply.comment;
    return reply.done;
  });
  if (comment === undefined) throw new EgressError('EGW_ERR_NFT', `nf_tables acknowledged the query for table inet ${table} without answering it`);
  return comment;
}

/**
 * The comment of the rule in the structure chain of `inet <table>` (it records the structure
 * fingerprint): '' when there is none, null when the table does not exist.
 */
export function readInetStructureComment(table: string): string | null {
  if (readInetTableComment(table) === null) return null;
  return dumpInetRules(table, { counters: false }).find((r) => r.chain === STRUCTURE_CHAIN && r.comment !== undefined)?.comment ?? '';
}

/** Sets (with elements) and chains (with rules) of `inet <table>`, as observe() needs them; null when the table does not exist. */
export function readInetTable(table: string): { sets: ObservedSet[]; chains: ObservedChain[] } | null {
  if (readInetTableComment(table) === null) return null;
  const dumped = dump(setDumpRequest(NFPROTO_INET, table, nextSeq()), parseSetDump, (p) => p.sets).filter((s) => s.table === table);
  const sets = dumped.map((set) => readSet(table, set));
  const chains = dump(chainDumpRequest(NFPROTO_INET, table, nextSeq()), parseChainDump, (p) => p.chains).filter((c) => c.table === table);
  const rules = dumpInetRules(table);
  return {
    sets,
    chains: chains.map(({ table: _table, ...chain }) => ({
      ...chain,
      rules: rules
        .filter((r) => r.chain === chain.name)
        .map((r) => ({ handle: r.handle, ...(r.comment !== undefined ? { comment: r.comment } : {}), ...(r.counter ? { counter: r.counter } : {}) })),
    })),
  };
}

/** One set with its elements; a set without intervals (pod addresses, the large ones) straight into compact keys. */
function readSet(table: string, set: DumpedSet): ObservedSet {
  const request = elementDumpRequest(NFPROTO_INET, table, set.name, nextSeq());
  if (set.flags.includes('interval'))
    return observedSet(
      set,
      dump(request, parseElementDump, (p) => p.elements),
    );
  const elements = plainElements(set.family);
  const seq = request.readUInt32LE(8);
  netfilterRequest(request, (datagram) => parsePlainElementDump(datagram, seq, elements));
  return observedPlainSet(set, elements);
}

/** Every item of a dump: `parse` reads one datagram of the answer to the request's sequence number. */
function dump<P extends { done: boolean }, T>(request: Buffer, parse: (datagram: Buffer, seq: number) => P, items: (part: P) => T[]): T[] {
  const seq = request.readUInt32LE(8);
  const out: T[] = [];
  netfilterRequest(request, (datagram) => {
    const part = parse(datagram, seq);
    for (const item of items(part)) out.push(item);
    return part.done;
  });
  return out;
}
