import { EgressError } from '../../errors.js';
import { attr, attributes, NLM_F_ACK, NLM_F_REQUEST, stringPayload } from '../netlink/netlink-message.js';
import { nftablesRequest, userDataString, walkDatagram } from './nfnetlink.js';

const NFT_MSG_NEWTABLE = 0;
const NFT_MSG_GETTABLE = 1;
const NFTA_TABLE_NAME = 1;
const NFTA_TABLE_USERDATA = 6;
const NFTNL_UDATA_TABLE_COMMENT = 0;
const ENOENT = 2;

/** A GETTABLE request for one table, acknowledged so that the answer has a clear end. */
export function tableGetRequest(family: number, table: string, seq: number): Buffer {
  return nftablesRequest(NFT_MSG_GETTABLE, NLM_F_REQUEST | NLM_F_ACK, family, seq, [attr(NFTA_TABLE_NAME, stringPayload(table))]);
}

/** Table comment state so far: string ('' without comment) once seen, null for no such table. */
export interface TableReply {
  readonly done: boolean;
  readonly comment?: string | null;
}

/** Reads one datagram answering `seq`. Throws EGW_ERR_NFT for errors other than ENOENT. */
export function parseTableReply(buf: Buffer, seq: number): TableReply {
  let comment: string | undefined;
  const walked = walkDatagram(buf, seq, (msgType, body) => {
    if (msgType === NFT_MSG_NEWTABLE) comment = userDataString(attributes(body).get(NFTA_TABLE_USERDATA), NFTNL_UDATA_TABLE_COMMENT) ?? '';
  });
  if (walked.errno === ENOENT) return { done: true, comment: null };
  if (walked.errno !== undefined) throw new EgressError('EGW_ERR_NFT', `nf_tables table query failed: errno ${walked.errno}`);
  return { done: walked.done, ...(comment !== undefined ? { comment } : {}) };
}
