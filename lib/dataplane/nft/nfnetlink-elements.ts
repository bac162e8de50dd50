/**
 * Learned elements written straight over nfnetlink, without libnftables: one batch (begin,
 * one NEWSETELEM per set, end) whose elements carry a timeout and an expiry, so an element the
 * set holds is renewed in place (kernels with element timeout updates; the driver only comes
 * here once it probed that). libnftables spends most of a one-element transaction parsing JSON
 * and reading its cache; the kernel's part is small. Every value is checked by the same
 * renderer as the JSON path (learnedBySet) before it is encoded. Layouts from
 * linux/netfilter/nf_tables.h and linux/netfilter/nfnetlink.h.
 */
import { ipBytes } from '../../api/ip.js';
import { EgressError } from '../../errors.js';
import { learnedBySet, type LearnedElementWrite } from '../../planner/nft/render.js';
import { attr, errnoName, NLA_F_NESTED, NLM_F_ACK, NLM_F_REQUEST, NLMSG_HDRLEN, stringPayload } from '../netlink/netlink-message.js';
import { NFNL_SUBSYS_NFTABLES, NFPROTO_INET, nftablesRequest } from './nfnetlink.js';
import { netfilterRequest } from './netfilter-socket.js';

const NFNL_MSG_BATCH_BEGIN = 0x10;
const NFNL_MSG_BATCH_END = 0x11;
const NFT_MSG_NEWSETELEM = 12;
const NLM_F_CREATE = 0x400;
const NFTA_SET_ELEM_LIST_TABLE = 1;
const NFTA_SET_ELEM_LIST_SET = 2;
const NFTA_SET_ELEM_LIST_ELEMENTS = 3;
const NFTA_LIST_ELEM = 1;
const NFTA_SET_ELEM_KEY = 1;
const NFTA_SET_ELEM_TIMEOUT = 4;
const NFTA_SET_ELEM_EXPIRATION = 5;
const NFTA_SET_ELEM_USERDATA = 6;
const NFTA_DATA_VALUE = 1;
/** libnftnl's user-data type of an element comment (NFTNL_UDATA_SET_ELEM_COMMENT), NUL-terminated. */
const UDATA_COMMENT = 0;
const NLMSG_ERROR = 2;

const nested = (type: number, parts: readonly Buffer[]) => attr(type | NLA_F_NESTED, Buffer.concat(parts));
/** A 64-bit big-endian number (nf_tables' timeouts and expiries, in ms). */
export const be64 = (n: number) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
};

/** A batch message (begin/end): nlmsghdr + nfgenmsg whose res_id names the subsystem. */
function batchMessage(type: number, seq: number): Buffer {
  const b = Buffer.alloc(NLMSG_HDRLEN + 4);
  b.writeUInt32LE(b.length, 0);
  b.writeUInt16LE(type, 4);
  b.writeUInt16LE(NLM_F_REQUEST, 6);
  b.writeUInt32LE(seq, 8);
  b.writeUInt16BE(NFNL_SUBSYS_NFTABLES, NLMSG_HDRLEN + 2);
  return b;
}

/**
 * The batch that adds `elements` to their sets in `inet <table>`, each for its timeout and
 * expiring then; one NEWSETELEM per set, each acknowledged. Throws EGW_ERR_NFT_VALUE for a
 * value the renderer refuses.
 */
export function learnedElementsBatch(table: string, elements: readonly LearnedElementWrite[], firstSeq: number): { batch: Buffer; acked: readonly number[] } {
  let seq = firstSeq;
  const messages = [batchMessage(NFNL_MSG_BATCH_BEGIN, seq++)];
  const acked: number[] = [];
  for (const [set, list] of learnedBySet(elements)) {
    const elems = list.map((e) => {
      const ms = be64(e.timeout * 1000);
      const parts = [nested(NFTA_SET_ELEM_KEY, [attr(NFTA_DATA_VALUE, ipBytes(e.value))]), attr(NFTA_SET_ELEM_TIMEOUT, ms), attr(NFTA_SET_ELEM_EXPIRATION, ms)];
      if (e.comment) {
        const text = Buffer.from(`${e.comment}\0`, 'ascii');
        parts.push(attr(NFTA_SET_ELEM_USERDATA, Buffer.concat([Buffer.from([UDATA_COMMENT, text.length]), text])));
      }
      return nested(NFTA_LIST_ELEM, parts);
    });
    acked.push(seq);
    messages.push(
      nftablesRequest(NFT_MSG_NEWSETELEM, NLM_F_REQUEST | NLM_F_CREATE | NLM_F_ACK, NFPROTO_INET, seq++, [
        attr(NFTA_SET_ELEM_LIST_TABLE, stringPayload(table)),
        attr(NFTA_SET_ELEM_LIST_SET, stringPayload(set)),
        nested(NFTA_SET_ELEM_LIST_ELEMENTS, elems),
      ]),
    );
  }
  messages.push(batchMessage(NFNL_MSG_BATCH_END, seq));
  return { batch: Buffer.concat(messages), acked };
}

/** What the kernel said to each acknowledged message: 0, or the errno of the one it refused. */
export function batchAnswers(datagram: Buffer, waiting: Set<number>): number | undefined {
  for (let at = 0; at + NLMSG_HDRLEN <= datagram.length;) {
    const len = datagram.readUInt32LE(at);
    if (len < NLMSG_HDRLEN || at + len > datagram.length) throw new EgressError('EGW_ERR_NFT', `truncated netlink message (${len} bytes at ${at})`);
    const seq = datagram.readUInt32LE(at + 8);
    if (datagram.readUInt16LE(at + 4) === NLMSG_ERROR && len >= NLMSG_HDRLEN + 4) {
      const errno = -datagram.readInt32LE(at + NLMSG_HDRLEN);
      if (errno !== 0) return errno;
      waiting.delete(seq);
    }
    at += (len + 3) & ~3;
  }
  return undefined;
}

/** The kernel answered and refused the batch (a set it does not have, for one): the elements are at fault, not the path. */
export class ElementsRefused extends EgressError {
  readonly errno: number;
  constructor(errno: number) {
    super('EGW_ERR_NFT', `the kernel refused the learned elements: ${errnoName(errno)}`);
    this.errno = errno;
  }
}
let nextSeq = 1;

/**
 * Writes learned elements into `inet <table>` of this process's network namespace in one
 * transaction. Blocking, like the inline libnftables calls: the kernel commits while sendto
 * runs. Throws ElementsRefused (EGW_ERR_NFT) with the errno when the kernel refuses the batch
 * (nothing commits), and EGW_ERR_NFT when the socket fails.
 */
export function writeLearnedElements(table: string, elements: readonly LearnedElementWrite[]): void {
  const { batch, acked } = learnedElementsBatch(table, elements, nextSeq);
  nextSeq = (nextSeq + acked.length + 2) % 0x7fffffff || 1;
  const waiting = new Set(acked);
  let refused: number | undefined;
  // An acknowledgement is 36 bytes; an error quotes the refused message, at most the batch.
  netfilterRequest(
    batch,
    (datagram) => {
      refused = batchAnswers(datagram, waiting);
      return refused !== undefined || waiting.size === 0;
    },
    batch.length + 4096,
  );
  if (refused !== undefined) throw new ElementsRefused(refused);
}
