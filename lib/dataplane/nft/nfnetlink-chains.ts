import { EgressError } from '../../errors.js';
import { attr, attributes, cString, NLM_F_DUMP, NLM_F_REQUEST, stringPayload } from '../netlink/netlink-message.js';
import { nftablesRequest, walkDatagram } from './nfnetlink.js';
import type { ObservedChain } from './nft-types.js';

// Chains as a GETCHAIN dump has them, in the fields libnftables prints in JSON. Layouts from
// linux/netfilter/nf_tables.h; hook numbers from linux/netfilter.h (inet family).

const NFT_MSG_NEWCHAIN = 3;
const NFT_MSG_GETCHAIN = 4;
const NFTA_CHAIN_TABLE = 1;
const NFTA_CHAIN_NAME = 3;
const NFTA_CHAIN_HOOK = 4;
const NFTA_CHAIN_POLICY = 5;
const NFTA_CHAIN_TYPE = 7;
const NFTA_HOOK_HOOKNUM = 1;
const NFTA_HOOK_PRIORITY = 2;
const HOOKS = ['prerouting', 'input', 'forward', 'output', 'postrouting', 'ingress'];
const POLICIES = ['drop', 'accept'];

/** A chain without its rules, and the table it is in. */
export type DumpedChain = Omit<ObservedChain, 'rules'> & { readonly table: string };

/** A GETCHAIN dump request for `family` `table` (older kernels ignore the table: filter the answer). */
export function chainDumpRequest(family: number, table: string, seq: number): Buffer {
  return nftablesRequest(NFT_MSG_GETCHAIN, NLM_F_REQUEST | NLM_F_DUMP, family, seq, [attr(NFTA_CHAIN_TABLE, stringPayload(table))]);
}

/** The chains in one datagram of the dump answering `seq`. Throws EGW_ERR_NFT for an error. */
export function parseChainDump(buf: Buffer, seq: number): { chains: DumpedChain[]; done: boolean } {
  const chains: DumpedChain[] = [];
  const walked = walkDatagram(buf, seq, (msgType, body) => {
    if (msgType !== NFT_MSG_NEWCHAIN) return;
    const a = attributes(body);
    const hook = a.get(NFTA_CHAIN_HOOK);
    const base = hook === undefined ? undefined : attributes(hook);
    const hookNum = base?.get(NFTA_HOOK_HOOKNUM)?.readUInt32BE(0);
    const priority = base?.get(NFTA_HOOK_PRIORITY)?.readInt32BE(0);
    const policy = a.get(NFTA_CHAIN_POLICY)?.readUInt32BE(0);
    const type = cString(a.get(NFTA_CHAIN_TYPE));
    chains.push({
      table: cString(a.get(NFTA_CHAIN_TABLE)) ?? '',
      name: cString(a.get(NFTA_CHAIN_NAME)) ?? '',
      ...(base && type !== undefined ? { type } : {}),
      ...(hookNum !== undefined ? { hook: HOOKS[hookNum] ?? String(hookNum) } : {}),
      ...(priority !== undefined ? { priority } : {}),
      ...(base && policy !== undefined ? { policy: POLICIES[policy] ?? String(policy) } : {}),
    });
  });
  if (walked.errno !== undefined) throw new EgressError('EGW_ERR_NFT', `nf_tables chain dump failed: errno ${walked.errno}`);
  if (walked.interrupted) throw new EgressError('EGW_ERR_NFT', 'nf_tables chain dump was interrupted by a change');
  return { chains, done: walked.done };
}
