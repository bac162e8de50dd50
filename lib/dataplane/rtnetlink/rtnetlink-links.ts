/**
 * Links and addresses from rtnetlink, as the rows `ip -details address show` prints. Layouts from
 * linux/rtnetlink.h, linux/if_link.h and linux/if_addr.h; names and conditions as iproute2 6.x
 * prints them (ipaddress.c, iplink_vxlan.c).
 */
import { EgressError } from '../../errors.js';
import { attr, attribute, attributes, cString, stringPayload } from '../netlink/netlink-message.js';
import type { AddrRow, LinkRow, VxlanInfoRow } from '../iproute/rows.js';
import { AF_INET, AF_INET6, ipText, macText, u32, u8 } from './rtnetlink-bytes.js';
import type { Rtnetlink } from './rtnetlink-dump.js';

const RTM_NEWLINK = 16;
const RTM_GETLINK = 18;
export const RTM_NEWADDR = 20;
const RTM_GETADDR = 22;
const IFINFOMSG_LEN = 16;
export const IFADDRMSG_LEN = 8;
export const IFA_ADDRESS = 1;
export const IFA_LOCAL = 2;
export const IFA_RT_PRIORITY = 9;
const IFLA_ADDRESS = 1;
const IFLA_IFNAME = 3;
const IFLA_MTU = 4;
const IFLA_LINKINFO = 18;
const IFLA_EXT_MASK = 29;
const RTEXT_FILTER_SKIP_STATS = 1 << 3;
const IFLA_INFO_KIND = 1;
const IFLA_INFO_DATA = 2;
const IFLA_VXLAN_ID = 1;
const IFLA_VXLAN_LINK = 3;
const IFLA_VXLAN_LOCAL = 4;
const IFLA_VXLAN_LEARNING = 7;
const IFLA_VXLAN_PORT = 15;
const IFLA_VXLAN_LOCAL6 = 17;
const IFF_UP = 0x1;
const IFF_RUNNING = 0x40;
const ENODEV = 19;

/** ifi_flags in the order iproute2 prints them. */
const LINK_FLAGS: readonly [string, number][] = [
  ['LOOPBACK', 0x8],
  ['BROADCAST', 0x2],
  ['POINTOPOINT', 0x10],
  ['MULTICAST', 0x1000],
  ['NOARP', 0x80],
  ['ALLMULTI', 0x200],
  ['PROMISC', 0x100],
  ['MASTER', 0x400],
  ['SLAVE', 0x800],
  ['DEBUG', 0x4],
  ['DYNAMIC', 0x8000],
  ['AUTOMEDIA', 0x4000],
  ['PORTSEL', 0x2000],
  ['NOTRAILERS', 0x20],
  ['UP', IFF_UP],
  ['LOWER_UP', 0x10000],
  ['DORMANT', 0x20000],
  ['ECHO', 0x40000],
];

const RT_SCOPE_LINK = 253;
const RT_SCOPE_HOST = 254;
const SCOPES: Readonly<Record<number, string>> = { 0: 'global', 200: 'site', [RT_SCOPE_LINK]: 'link', [RT_SCOPE_HOST]: 'host', 255: 'nowhere' };

/** A link as dumped, before its parent's index is turned into a name and its addresses are attached. */
interface DumpedLink {
  readonly index: number;
  readonly row: LinkRow;
  readonly vxlanParent?: number;
}

function linkFlags(flags: number): string[] {
  const out = flags & IFF_UP && !(flags & IFF_RUNNING) ? ['NO-CARRIER'] : [];
  for (const [name, bit] of LINK_FLAGS) if (flags & bit) out.push(name);
  return out;
}

function vxlanInfo(data: Buffer): { info: VxlanInfoRow; parent?: number } {
  const a = attributes(data);
  const id = u32(a.get(IFLA_VXLAN_ID));
  const port = a.get(IFLA_VXLAN_PORT);
  const learning = u8(a.get(IFLA_VXLAN_LEARNING));
  const local4 = a.get(IFLA_VXLAN_LOCAL);
  const local6 = a.get(IFLA_VXLAN_LOCAL6);
  const parent = u32(a.get(IFLA_VXLAN_LINK));
  // iproute2 prints no local for the unspecified address, and local6 only without a local.
  const local = local4 ? (local4.readUInt32BE(0) !== 0 ? { local: ipText(local4) } : {}) : local6 && local6.some((b) => b !== 0) ? { local6: ipText(local6) } : {};
  const info: VxlanInfoRow = {
    ...(id !== undefined ? { id } : {}),
    ...local,
    ...(port && port.length >= 2 ? { port: port.readUInt16BE(0) } : {}),
    ...(learning !== undefined ? { learning: learning !== 0 } : {}),
  };
  return { info, ...(parent ? { parent } : {}) };
}

function parseLink(body: Buffer): DumpedLink | undefined {
  if (body.length < IFINFOMSG_LEN) return undefined;
  const index = body.readInt32LE(4);
  const a = attributes(body.subarray(IFINFOMSG_LEN));
  const ifname = cString(a.get(IFLA_IFNAME));
  if (ifname === undefined) return undefined;
  const linkinfo = a.get(IFLA_LINKINFO);
  const info = linkinfo ? attributes(linkinfo) : undefined;
  const kind = cString(info?.get(IFLA_INFO_KIND));
  const data = info?.get(IFLA_INFO_DATA);
  const vxlan = kind === 'vxlan' && data ? vxlanInfo(data) : undefined;
  const mac = a.get(IFLA_ADDRESS);
  const row: LinkRow = {
    ifname,
    flags: linkFlags(body.readUInt32LE(8)),
    ...(u32(a.get(IFLA_MTU)) !== undefined ? { mtu: u32(a.get(IFLA_MTU))! } : {}),
    ...(mac ? { address: macText(mac) } : {}),
    ...(kind !== undefined ? { linkinfo: { info_kind: kind, ...(vxlan ? { info_data: vxlan.info } : {}) } } : {}),
  };
  return { index, row, ...(vxlan?.parent ? { vxlanParent: vxlan.parent } : {}) };
}

function parseAddress(body: Buffer): { index: number; row: AddrRow } | undefined {
  if (body.length < IFADDRMSG_LEN) return undefined;
  const af = body.readUInt8(0);
  if (af !== AF_INET && af !== AF_INET6) return undefined;
  const a = attributes(body.subarray(IFADDRMSG_LEN));
  const local = a.get(IFA_LOCAL) ?? a.get(IFA_ADDRESS);
  const scope = body.readUInt8(3);
  const metric = u32(a.get(IFA_RT_PRIORITY));
  const row: AddrRow = {
    family: af === AF_INET ? 'inet' : 'inet6',
    ...(local ? { local: ipText(local)! } : {}),
    prefixlen: body.readUInt8(1),
    scope: SCOPES[scope] ?? String(scope),
    ...(metric !== undefined ? { metric } : {}),
  };
  return { index: body.readUInt32LE(4), row };
}

/** A link and its ifindex, by which addresses, routes and neighbours name it. */
export interface IndexedLink {
  readonly index: number;
  readonly row: LinkRow;
}

/** The row with its VXLAN parent's index turned into the parent's name (`ifN` when no link here has that index). */
function withParentName({ index, row, vxlanParent }: DumpedLink, parentName: string | undefined): IndexedLink {
  if (vxlanParent === undefined || !row.linkinfo) return { index, row };
  const link = parentName ?? `if${vxlanParent}`;
  return { index, row: { ...row, linkinfo: { ...row.linkinfo, info_data: { ...row.linkinfo.info_data, link } } } };
}

const skipStats = () => {
  const mask = Buffer.alloc(4);
  mask.writeUInt32LE(RTEXT_FILTER_SKIP_STATS);
  return attr(IFLA_EXT_MASK, mask);
};

/** The name of every link, by ifindex: a dump that reads nothing else of each link. */
export function dumpLinkNames(dumps: Rtnetlink): Map<number, string> {
  let names = new Map<number, string>();
  dumps.dump(
    RTM_GETLINK,
    Buffer.alloc(IFINFOMSG_LEN),
    (type, body) => {
      const name = type === RTM_NEWLINK && body.length >= IFINFOMSG_LEN ? cString(attribute(body.subarray(IFINFOMSG_LEN), IFLA_IFNAME)) : undefined;
      if (name !== undefined) names.set(body.readInt32LE(4), name);
    },
    () => (names = new Map()),
    [skipStats()],
  );
  return names;
}

/** The name of link `index`: a lookup by the kernel that reads nothing else of the link; undefined when there is none. */
export function linkName(dumps: Rtnetlink, index: number): string | undefined {
  const header = Buffer.alloc(IFINFOMSG_LEN);
  header.writeInt32LE(index, 4);
  let name: string | undefined;
  getLinkMessage(dumps, header, [skipStats()], `index ${index}`, (body) => {
    name = cString(attribute(body.subarray(IFINFOMSG_LEN), IFLA_IFNAME));
  });
  return name;
}

/**
 * Link `name` as `ip -details address show dev NAME` lists it (without its addresses), its VXLAN
 * parent named; undefined when there is none. The kernel looks the link up, so this costs the same
 * on a node with hundreds of links (a veth per pod).
 */
export function getLink(dumps: Rtnetlink, name: string): IndexedLink | undefined {
  let link: DumpedLink | undefined;
  getLinkMessage(dumps, Buffer.alloc(IFINFOMSG_LEN), [skipStats(), attr(IFLA_IFNAME, stringPayload(name))], name, (body) => (link = parseLink(body)));
  // The kernel finds a link by an alternative name too; `ip address show dev NAME` lists the link of that name only.
  if (link?.row.ifname !== name) return undefined;
  return withParentName(link, link.vxlanParent === undefined ? undefined : linkName(dumps, link.vxlanParent));
}

/** Sends RTM_GETLINK for one link; `onLink` sees its message, if there is such a link. */
function getLinkMessage(dumps: Rtnetlink, header: Buffer, attrs: readonly Buffer[], what: string, onLink: (body: Buffer) => void): void {
  const errno = dumps.get(
    RTM_GETLINK,
    header,
    (type, body) => {
      if (type === RTM_NEWLINK && body.length >= IFINFOMSG_LEN) onLink(body);
    },
    attrs,
  );
  if (errno !== undefined && errno !== ENODEV) throw new EgressError('EGW_ERR_NETLINK', `rtnetlink get of link ${what} failed: errno ${errno}`);
}

/**
 * The addresses of every link, by ifindex, each link's in the kernel's order (IPv4, then IPv6);
 * only those `wanted` (by ifindex and ifa_scope) are parsed. The kernel dumps them all (it filters
 * by link only on a socket set for strict checking, which this one is not).
 */
export function dumpAddresses(dumps: Rtnetlink, wanted: (index: number, scope: number) => boolean = () => true): Map<number, AddrRow[]> {
  let addresses = new Map<number, AddrRow[]>();
  dumps.dump(
    RTM_GETADDR,
    Buffer.alloc(IFADDRMSG_LEN),
    (type, body) => {
      if (type !== RTM_NEWADDR || body.length < IFADDRMSG_LEN || !wanted(body.readUInt32LE(4), body.readUInt8(3))) return;
      const address = parseAddress(body);
      if (!address) return;
      const list = addresses.get(address.index);
      if (list) list.push(address.row);
      else addresses.set(address.index, [address.row]);
    },
    () => (addresses = new Map()),
  );
  return addresses;
}

/** ifa_scope of addresses no one but the host itself (or the link) answers for: never an EIP or a tunnel address. */
export const LOCAL_SCOPES: ReadonlySet<number> = new Set([RT_SCOPE_LINK, RT_SCOPE_HOST]);
