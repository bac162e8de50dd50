/**
 * EIP addresses written over rtnetlink: the messages `ip addr add|del` sends for the commands of
 * address-commands.ts, without starting a process. An EIP's add is on a failover's path (the
 * successor's address and its announcement), where an `ip` start-up on a loaded node costs tens
 * to hundreds of milliseconds. Layouts from linux/if_addr.h and linux/rtnetlink.h.
 */
import type { Family } from '../../api/ip.js';
import { ipBytes } from '../../api/ip.js';
import { attr } from '../netlink/netlink-message.js';
import { AF_INET, AF_INET6 } from './rtnetlink-bytes.js';
import type { Rtnetlink } from './rtnetlink-dump.js';
import { getLink, IFA_ADDRESS, IFA_LOCAL, IFA_RT_PRIORITY, IFADDRMSG_LEN, RTM_NEWADDR } from './rtnetlink-links.js';

const RTM_DELADDR = 21;
const IFA_CACHEINFO = 6;
const IFA_FLAGS = 8;
const IFA_F_NODAD = 0x02;
const IFA_F_NOPREFIXROUTE = 0x200;
const NLM_F_EXCL = 0x200;
const NLM_F_CREATE = 0x400;
const INFINITY_LIFE_TIME = 0xffffffff;
const ENODEV = 19;

/** One address to add (a host prefix, tagged) or delete (as the kernel lists it). */
export interface AddressChange {
  readonly kind: 'add' | 'del';
  readonly ip: string;
  readonly family: Family;
  readonly prefixlen: number;
  readonly ifname: string;
}

/**
 * The request for one change on link `ifindex`. An add is exclusive (an address already there is
 * refused with EEXIST, as `ip addr add` is) and carries the tag as IFA_RT_PRIORITY; an IPv6 add is
 * `nodad noprefixroute preferred_lft 0`, for the reasons in address-commands.ts.
 */
export function addressRequest(change: AddressChange, ifindex: number, tag: number): { msgType: number; flags: number; header: Buffer; attrs: Buffer[] } {
  const v6 = change.family === 6;
  const flags = change.kind === 'add' && v6 ? IFA_F_NODAD | IFA_F_NOPREFIXROUTE : 0;
  const header = Buffer.alloc(IFADDRMSG_LEN);
  header.writeUInt8(v6 ? AF_INET6 : AF_INET, 0);
  header.writeUInt8(change.prefixlen, 1);
  header.writeUInt8(flags & 0xff, 2);
  header.writeUInt8(0, 3); // RT_SCOPE_UNIVERSE
  header.writeUInt32LE(ifindex, 4);
  const address = ipBytes(change.ip);
  const attrs = [attr(IFA_LOCAL, address), attr(IFA_ADDRESS, address)];
  if (change.kind === 'del') return { msgType: RTM_DELADDR, flags: 0, header, attrs };
  attrs.push(attr(IFA_FLAGS, u32(flags)), attr(IFA_RT_PRIORITY, u32(tag)));
  if (v6) {
    const cacheinfo = Buffer.alloc(16); // struct ifa_cacheinfo: preferred, valid, cstamp, tstamp
    cacheinfo.writeUInt32LE(0, 0);
    cacheinfo.writeUInt32LE(INFINITY_LIFE_TIME, 4);
    attrs.push(attr(IFA_CACHEINFO, cacheinfo));
  }
  return { msgType: RTM_NEWADDR, flags: NLM_F_CREATE | NLM_F_EXCL, header, attrs };
}

/** Makes one change; returns the errno the kernel refused it with (ENODEV: no such link), undefined when made. */
export function writeAddress(rtnetlink: Rtnetlink, change: AddressChange, tag: number): number | undefined {
  const link = getLink(rtnetlink, change.ifname);
  if (!link) return ENODEV;
  const r = addressRequest(change, link.index, tag);
  return rtnetlink.write(r.msgType, r.flags, r.header, r.attrs);
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0, 0);
  return b;
}
