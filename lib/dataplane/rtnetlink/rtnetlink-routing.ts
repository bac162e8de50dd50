/**
 * Routes and rules from rtnetlink, as the rows `ip -N -json route show table all` and
 * `ip -N -json rule list` print (numbers for tables, types and protocols). Only what route-parse.ts
 * reads matters; every other attribute becomes a key of its own so that the route or rule reads
 * as foreign, under the name iproute2 6.x gives it (iproute.c, iprule.c). Layouts from
 * linux/rtnetlink.h and linux/fib_rules.h.
 */
import type { Family } from '../../api/ip.js';
import { attribute, attributes, cString } from '../netlink/netlink-message.js';
import type { RouteRow } from '../iproute/rows.js';
import { inRange } from '../routes/route-parse.js';
import type { IdRange } from '../routes/route-types.js';
import { AF_INET, AF_INET6, ipText, u32, u8 } from './rtnetlink-bytes.js';
import type { Rtnetlink } from './rtnetlink-dump.js';

const RTM_NEWROUTE = 24;
const RTM_GETROUTE = 26;
const RTM_NEWRULE = 32;
const RTM_GETRULE = 34;
const RTMSG_LEN = 12;
const FIB_RULE_HDR_LEN = 12;

const RTA_DST = 1;
const RTA_SRC = 2;
const RTA_OIF = 4;
const RTA_GATEWAY = 5;
const RTA_PRIORITY = 6;
const RTA_CACHEINFO = 12;
const RTA_TABLE = 15;
const RTA_PREF = 20;
const RTN_UNICAST = 1;
const RTPROT_BOOT = 3;
const RTPROT_KERNEL = 2;
const RT_TABLE_MAIN = 254;
const RTM_F_CLONED = 0x200;

/** Route attributes route-parse.ts treats as foreign, by the key iproute2 prints them under. */
const ROUTE_KEYS: Readonly<Record<number, string>> = {
  3: 'iif',
  7: 'prefsrc',
  8: 'metrics',
  9: 'nexthops',
  11: 'realms',
  16: 'mark',
  18: 'via',
  19: 'as',
  22: 'encap',
  23: 'expires',
  25: 'uid',
  26: 'ttl-propagate',
  30: 'nhid',
};

/** rtm_flags as iproute2 prints them in `flags`. */
const ROUTE_FLAGS: readonly [string, number][] = [
  ['dead', 0x1],
  ['pervasive', 0x2],
  ['onlink', 0x4],
  ['offload', 0x8],
  ['linkdown', 0x10],
  ['unresolved', 0x20],
  ['trap', 0x40],
  ['notify', 0x100],
  ['rt_offload', 0x2000],
  ['rt_trap', 0x4000],
  ['rt_offload_failed', 0x20000000],
];

const FRA_DST = 1;
const FRA_SRC = 2;
const FRA_IIFNAME = 3;
const FRA_GOTO = 4;
const FRA_PRIORITY = 6;
const FRA_FWMARK = 10;
const FRA_TABLE = 15;
const FRA_FWMASK = 16;
const FRA_OIFNAME = 17;
const FRA_UID_RANGE = 20;
const FRA_PROTOCOL = 21;
const FRA_IP_PROTO = 22;
const FRA_SPORT_RANGE = 23;
const FRA_DPORT_RANGE = 24;
const FIB_RULE_INVERT = 0x2;
const FIB_RULE_UNRESOLVED = 0x4;
const FR_ACT_TO_TBL = 1;
const FR_ACT_GOTO = 2;
const FR_ACT_NOP = 3;
const RTN_NAT = 10;

/** Rule attributes route-parse.ts treats as foreign, by the key iproute2 prints them under. */
const RULE_KEYS: Readonly<Record<number, string>> = {
  11: 'realms',
  12: 'tun_id',
  19: 'l3mdev',
  25: 'dscp',
  26: 'flowlabel',
};

const SUPPRESS: readonly [number, string][] = [
  [13, 'suppress_ifgroup'],
  [14, 'suppress_prefixlen'],
];

const afOf = (family: Family) => (family === 4 ? AF_INET : AF_INET6);
const hex = (n: number) => `0x${n.toString(16)}`;

/** A route row whose `dev` still holds the ifindex (`oif`): names are read once the dump is over. */
interface UnnamedRoute {
  readonly row: Record<string, unknown>;
  readonly oif?: number;
}

function routeRow(body: Buffer, tables: IdRange): UnnamedRoute | undefined {
  if (body.length < RTMSG_LEN || body.readUInt32LE(8) & RTM_F_CLONED) return undefined;
  // Found without reading the other attributes: most routes of a node are in tables not ours.
  const table = u32(attribute(body.subarray(RTMSG_LEN), RTA_TABLE)) ?? body.readUInt8(4);
  if (!inRange(table, tables)) return undefined;
  const [dstLen, srcLen, tos, protocol, scope, type] = [1, 2, 3, 5, 6, 7].map((at) => body.readUInt8(at)) as [number, number, number, number, number, number];
  const flags = body.readUInt32LE(8);
  const a = attributes(body.subarray(RTMSG_LEN));
  const dst = a.get(RTA_DST);
  const gateway = a.get(RTA_GATEWAY);
  const oif = u32(a.get(RTA_OIF));
  const metric = u32(a.get(RTA_PRIORITY));
  const row: Record<string, unknown> = {};
  if (type !== RTN_UNICAST) row.type = String(type);
  row.dst = dst ? `${ipText(dst)}/${dstLen}` : dstLen ? `0/${dstLen}` : 'default';
  if (a.has(RTA_SRC) || srcLen) row.from = a.has(RTA_SRC) ? `${ipText(a.get(RTA_SRC)!)}/${srcLen}` : `0/${srcLen}`;
  if (tos) row.tos = hex(tos);
  if (gateway) row.gateway = ipText(gateway);
  if (oif !== undefined) row.dev = oif;
  if (table !== RT_TABLE_MAIN) row.table = String(table);
  if (protocol !== RTPROT_BOOT) row.protocol = String(protocol);
  if (scope !== 0) row.scope = String(scope);
  if (metric !== undefined) row.metric = metric;
  row.flags = ROUTE_FLAGS.filter(([, bit]) => flags & bit).map(([name]) => name);
  if (a.has(RTA_PREF)) row.pref = String(u8(a.get(RTA_PREF)));
  for (const attrType of a.keys()) {
    const key = ROUTE_KEYS[attrType];
    if (key !== undefined) row[key] = true;
  }
  // IPv6 routes always carry cache info; iproute2 shows it only when the route expires (rta_expires).
  const cache = a.get(RTA_CACHEINFO);
  if (cache && cache.length >= 12 && cache.readInt32LE(8) !== 0) row.expires = true;
  return { row, ...(oif !== undefined ? { oif } : {}) };
}

/** A port range as iproute2 prints it: `sport` for one port, `sport_start` and `sport_end` for more. */
function portRange(row: Record<string, unknown>, key: 'sport' | 'dport', b: Buffer | undefined): void {
  if (!b || b.length < 4) return;
  const start = b.readUInt16LE(0);
  const end = b.readUInt16LE(2);
  if (start === end) row[key] = start;
  else [row[`${key}_start`], row[`${key}_end`]] = [start, end];
}

function ruleRow(body: Buffer, family: Family, priorities: IdRange): RouteRow | undefined {
  if (body.length < FIB_RULE_HDR_LEN) return undefined;
  const priority = u32(attribute(body.subarray(FIB_RULE_HDR_LEN), FRA_PRIORITY)) ?? 0;
  if (!inRange(priority, priorities)) return undefined;
  const a = attributes(body.subarray(FIB_RULE_HDR_LEN));
  const [dstLen, srcLen, tos, headerTable] = [1, 2, 3, 4].map((at) => body.readUInt8(at)) as [number, number, number, number];
  const action = body.readUInt8(7);
  const flags = body.readUInt32LE(8);
  const hostLen = family === 4 ? 32 : 128;
  const row: Record<string, unknown> = { priority };
  if (flags & FIB_RULE_INVERT) row.not = null;
  const src = a.get(FRA_SRC);
  if (src) {
    row.src = ipText(src);
    if (srcLen !== hostLen) row.srclen = srcLen;
  } else if (srcLen) {
    row.src = '0';
    row.srclen = srcLen;
  } else row.src = 'all';
  const dst = a.get(FRA_DST);
  if (dst) {
    row.dst = ipText(dst);
    if (dstLen !== hostLen) row.dstlen = dstLen;
  } else if (dstLen) {
    row.dst = '0';
    row.dstlen = dstLen;
  }
  if (tos) row.tos = hex(tos);
  if (a.has(FRA_FWMARK) || a.has(FRA_FWMASK)) {
    const mark = u32(a.get(FRA_FWMARK)) ?? 0;
    const mask = u32(a.get(FRA_FWMASK));
    row.fwmark = hex(mark);
    if (mask !== undefined && mask !== 0xffffffff) row.fwmask = hex(mask);
  }
  const iif = cString(a.get(FRA_IIFNAME));
  if (iif !== undefined) row.iif = iif;
  const oif = cString(a.get(FRA_OIFNAME));
  if (oif !== undefined) row.oif = oif;
  for (const attrType of a.keys()) {
    const key = RULE_KEYS[attrType];
    if (key !== undefined) row[key] = true;
  }
  const uids = a.get(FRA_UID_RANGE);
  if (uids && uids.length >= 8) [row.uid_start, row.uid_end] = [uids.readUInt32LE(0), uids.readUInt32LE(4)];
  // The kernel sends both always; -1 means unset, and iproute2 prints them only when set.
  for (const [attrType, key] of SUPPRESS) if (a.has(attrType) && a.get(attrType)!.readInt32LE(0) !== -1) row[key] = true;
  const table = u32(a.get(FRA_TABLE)) ?? headerTable;
  if (table) row.table = String(table);
  if (action === RTN_NAT) row.nat = true;
  else if (action === FR_ACT_GOTO) {
    row.goto = a.has(FRA_GOTO) ? u32(a.get(FRA_GOTO)) : 'none';
    if (flags & FIB_RULE_UNRESOLVED) row.unresolved = null;
  } else if (action === FR_ACT_NOP) row.action = null;
  else if (action !== FR_ACT_TO_TBL) row.action = String(action);
  const protocol = u8(a.get(FRA_PROTOCOL));
  if (protocol !== undefined && protocol !== 0 && protocol !== RTPROT_KERNEL) row.protocol = String(protocol);
  const ipproto = u8(a.get(FRA_IP_PROTO));
  if (ipproto !== undefined) row.ipproto = `ipproto-${ipproto}`;
  portRange(row, 'sport', a.get(FRA_SPORT_RANGE));
  portRange(row, 'dport', a.get(FRA_DPORT_RANGE));
  return row;
}

/**
 * The routes of one family in tables `tables`, as `ip -N -json route show table all` lists them.
 * The kernel dumps every table (it can filter by one table, not by a range): the others are
 * skipped before they become rows. Devices are named by `nameOf` once the dump is over, so only
 * those of the routes kept are looked up.
 */
export function dumpRoutes(dumps: Rtnetlink, family: Family, tables: IdRange, nameOf: (index: number) => string): RouteRow[] {
  let routes: UnnamedRoute[] = [];
  const header = Buffer.alloc(RTMSG_LEN);
  header.writeUInt8(afOf(family), 0);
  dumps.dump(
    RTM_GETROUTE,
    header,
    (type, body) => {
      const route = type === RTM_NEWROUTE && body.readUInt8(0) === afOf(family) ? routeRow(body, tables) : undefined;
      if (route) routes.push(route);
    },
    () => (routes = []),
  );
  for (const { row, oif } of routes) if (oif !== undefined) row.dev = nameOf(oif);
  return routes.map((r) => r.row);
}

/** The rules of one family at priorities `priorities`, as `ip -N -json rule list` lists them. */
export function dumpRules(dumps: Rtnetlink, family: Family, priorities: IdRange): RouteRow[] {
  let rows: RouteRow[] = [];
  const header = Buffer.alloc(FIB_RULE_HDR_LEN);
  header.writeUInt8(afOf(family), 0);
  dumps.dump(
    RTM_GETRULE,
    header,
    (type, body) => {
      const row = type === RTM_NEWRULE && body.readUInt8(0) === afOf(family) ? ruleRow(body, family, priorities) : undefined;
      if (row) rows.push(row);
    },
    () => (rows = []),
  );
  return rows;
}
