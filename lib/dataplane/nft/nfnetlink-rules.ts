import { EgressError } from '../../errors.js';
import type { NftCounter } from './nft-types.js';
import { attr, attributeList, attributes, cString, NLM_F_DUMP, NLM_F_REQUEST, stringPayload } from '../netlink/netlink-message.js';
import { nftablesRequest, u64, userDataString, walkDatagram } from './nfnetlink.js';

const NFT_MSG_NEWRULE = 6;
const NFT_MSG_GETRULE = 7;
const NFTA_RULE_TABLE = 1;
const NFTA_RULE_CHAIN = 2;
const NFTA_RULE_HANDLE = 3;
const NFTA_RULE_EXPRESSIONS = 4;
const NFTA_RULE_USERDATA = 7;
const NFTA_LIST_ELEM = 1;
const NFTA_EXPR_NAME = 1;
const NFTA_EXPR_DATA = 2;
const NFTA_COUNTER_BYTES = 1;
const NFTA_COUNTER_PACKETS = 2;
const NFTNL_UDATA_RULE_COMMENT = 0;

/** What counters need of a rule: where it is, its comment and its counter. */
export interface DumpedRule {
  readonly table: string;
  readonly chain: string;
  readonly handle: number;
  readonly comment?: string;
  readonly counter?: NftCounter;
}

/** A GETRULE dump request for every rule of `family` `table` (the kernel filters by both). */
export function ruleDumpRequest(family: number, table: string, seq: number): Buffer {
  return nftablesRequest(NFT_MSG_GETRULE, NLM_F_REQUEST | NLM_F_DUMP, family, seq, [attr(NFTA_RULE_TABLE, stringPayload(table))]);
}

function counterOf(expressions: Buffer | undefined): NftCounter | undefined {
  if (expressions === undefined) return undefined;
  for (const [type, elem] of attributeList(expressions)) {
    if (type !== NFTA_LIST_ELEM) continue;
    const expr = attributes(elem);
    if (cString(expr.get(NFTA_EXPR_NAME)) !== 'counter') continue;
    const data = attributes(expr.get(NFTA_EXPR_DATA) ?? Buffer.alloc(0));
    return { packets: u64(data.get(NFTA_COUNTER_PACKETS)), bytes: u64(data.get(NFTA_COUNTER_BYTES)) };
  }
  return undefined;
}

/**
 * The rules in one datagram of the dump answering request `seq`; `done` once NLMSG_DONE came.
 * `counters: false` leaves each rule's counter out, and with it the walk through its expressions.
 * Throws EGW_ERR_NFT for an NLMSG_ERROR.
 */
export function parseRuleDump(buf: Buffer, seq: number, options: { readonly counters?: boolean } = {}): { rules: DumpedRule[]; done: boolean } {
  const counters = options.counters ?? true;
  const rules: DumpedRule[] = [];
  const walked = walkDatagram(buf, seq, (msgType, body) => {
    if (msgType !== NFT_MSG_NEWRULE) return;
    const a = attributes(body);
    const comment = userDataString(a.get(NFTA_RULE_USERDATA), NFTNL_UDATA_RULE_COMMENT);
    const counter = counters ? counterOf(a.get(NFTA_RULE_EXPRESSIONS)) : undefined;
    rules.push({
      table: cString(a.get(NFTA_RULE_TABLE)) ?? '',
      chain: cString(a.get(NFTA_RULE_CHAIN)) ?? '',
      handle: u64(a.get(NFTA_RULE_HANDLE)),
      ...(comment !== undefined ? { comment } : {}),
      ...(counter ? { counter } : {}),
    });
  });
  if (walked.errno !== undefined) throw new EgressError('EGW_ERR_NFT', `nf_tables rule dump failed: errno ${walked.errno}`);
  return { rules, done: walked.done };
}
