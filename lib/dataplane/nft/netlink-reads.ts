import { EgressError } from '../../errors.js';
import { STRUCTURE_CHAIN } from './fingerprint.js';
import { NFPROTO_INET } from './nfnetlink.js';
import { parseRuleDump, ruleDumpRequest, type DumpedRule } from './nfnetlink-rules.js';
import { parseTableReply, tableGetRequest } from './nfnetlink-table.js';
import { netfilterRequest } from './netfilter-socket.js';

// Reads of our table straight from nf_tables over netlink. libnftables 1.0.6 fetches every set
// element before it lists anything, even `nft -t` or a single chain (~0.3 s at 100k endpoints);
// these cost the same at 10 or 100k endpoints. All throw EGW_ERR_NFT; callers fall back to a
// libnftables listing.

let seq = Math.floor(Date.now() / 1000) >>> 0;
const nextSeq = () => (seq = (seq + 1) >>> 0);

/** Every rule of `inet <table>`; none when the table does not exist. */
export function dumpInetRules(table: string): DumpedRule[] {
  const mine = nextSeq();
  const rules: DumpedRule[] = [];
  netfilterRequest(ruleDumpRequest(NFPROTO_INET, table, mine), (datagram) => {
    const part = parseRuleDump(datagram, mine);
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
  return dumpInetRules(table).find((r) => r.chain === STRUCTURE_CHAIN && r.comment !== undefined)?.comment ?? '';
}
