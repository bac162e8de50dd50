/**
 * Neighbours and bridge FDB entries from rtnetlink, as `ip neigh show` and `bridge fdb show`
 * print them. Layouts from linux/neighbour.h; which entries `ip neigh show` leaves out follows
 * iproute2 6.x (ipneigh.c).
 */
import { attr, attributes } from '../netlink/netlink-message.js';
import type { FdbRow, NeighRow } from '../iproute/rows.js';
import { AF_BRIDGE, AF_INET, AF_INET6, ipText, macText } from './rtnetlink-bytes.js';
import type { Rtnetlink } from './rtnetlink-dump.js';

const RTM_NEWNEIGH = 28;
const RTM_GETNEIGH = 30;
const NDMSG_LEN = 12;
const IFINFOMSG_LEN = 16;
const NDA_DST = 1;
const NDA_LLADDR = 2;
const NDA_IFINDEX = 8;
const NUD_NOARP = 0x40;
const NTF_PROXY = 0x08;
const NTF_EXT_LEARNED = 0x10;
/** The states `ip neigh show` lists without a `nud` argument: all but NOARP (and NONE, 0). */
const SHOWN_STATES = 0xff & ~NUD_NOARP;

const STATES: readonly [string, number][] = [
  ['INCOMPLETE', 0x01],
  ['REACHABLE', 0x02],
  ['STALE', 0x04],
  ['DELAY', 0x08],
  ['PROBE', 0x10],
  ['FAILED', 0x20],
  ['NOARP', 0x40],
  ['PERMANENT', 0x80],
];

function stateNames(state: number): string[] {
  const names = STATES.filter(([, bit]) => state & bit).map(([name]) => name);
  return names.length ? names : ['NONE'];
}

/** IPv4 and IPv6 neighbours of link `index`, as `ip neigh show dev D` lists them. */
export function dumpNeighbours(dumps: Rtnetlink, index: number): NeighRow[] {
  let rows: NeighRow[] = [];
  // NDA_IFINDEX has the kernel dump that link's neighbours only (`ip neigh show dev D` asks the same way).
  const ifindex = Buffer.alloc(4);
  ifindex.writeUInt32LE(index);
  dumps.dump(
    RTM_GETNEIGH,
    Buffer.alloc(NDMSG_LEN),
    (type, body) => {
      if (type !== RTM_NEWNEIGH || body.length < NDMSG_LEN || body.readInt32LE(4) !== index) return;
      const family = body.readUInt8(0);
      const state = body.readUInt16LE(8);
      const flags = body.readUInt8(10);
      if (family !== AF_INET && family !== AF_INET6) return;
      if (!(state & SHOWN_STATES) && !(flags & (NTF_PROXY | NTF_EXT_LEARNED))) return;
      const a = attributes(body.subarray(NDMSG_LEN));
      const dst = a.get(NDA_DST);
      const lladdr = a.get(NDA_LLADDR);
      if (!dst) return;
      rows.push({ dst: ipText(dst)!, ...(lladdr ? { lladdr: macText(lladdr) } : {}), state: stateNames(state) });
    },
    () => (rows = []),
    [attr(NDA_IFINDEX, ifindex)],
  );
  return rows;
}

/** FDB entries of bridge port or VXLAN device `index`, as `bridge fdb show dev D` lists them. */
export function dumpFdb(dumps: Rtnetlink, index: number): FdbRow[] {
  let rows: FdbRow[] = [];
  // An ifinfomsg header asks the kernel for one port's entries (an ndmsg would dump every device's).
  const header = Buffer.alloc(IFINFOMSG_LEN);
  header.writeUInt8(AF_BRIDGE, 0);
  header.writeInt32LE(index, 4);
  dumps.dump(
    RTM_GETNEIGH,
    header,
    (type, body) => {
      if (type !== RTM_NEWNEIGH || body.length < NDMSG_LEN || body.readInt32LE(4) !== index) return;
      const a = attributes(body.subarray(NDMSG_LEN));
      const mac = a.get(NDA_LLADDR);
      const dst = a.get(NDA_DST);
      if (!mac) return;
      rows.push({ mac: macText(mac), ...(dst ? { dst: ipText(dst)! } : {}) });
    },
    () => (rows = []),
  );
  return rows;
}
