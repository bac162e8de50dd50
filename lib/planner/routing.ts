import type { Family } from '../api/ip.js';
import type { RouteEntry, RoutingPlan, RuleEntry } from './node-plan.js';
import type { AgentConfig } from './config.js';
import { hereMark, markValue, ownedRanges } from './config.js';
import type { NativePath } from './native.js';

const MAIN_TABLE = 254;

export interface GatewayPeerRoute {
  readonly markIndex: number;
  readonly tunnelIp: Partial<Record<Family, string>>;
}

export interface ReplyRoute {
  readonly family: Family;
  readonly dst: string;
  readonly via: string;
  /** The LAN NIC for native routing; absent: the tunnel. */
  readonly dev?: string;
}

/** Gateway nodes reached natively, and the LAN NIC their next hops are on. */
export interface NativeRoutes {
  readonly paths: readonly NativePath[];
  readonly dev: string;
}

/**
 * Worker: one table per gateway node (default route into the tunnel towards it), chosen by the
 * gateway's mark; the tunnel's own outer packets inherit that mark, so `iif lo` goes to main first.
 * A gateway node reached natively has the same table with its LAN address as next hop instead.
 * Gateway: replies to SNATed flows (restored mark "here") find pod CIDRs via the worker's tunnel IP
 * (native: its LAN address); anything else falls through that table to main.
 */
export function buildRouting(
  config: AgentConfig,
  gateways: readonly GatewayPeerRoute[],
  replies: readonly ReplyRoute[],
  native: NativeRoutes = { paths: [], dev: '' },
): RoutingPlan {
  const dev = config.vxlan.device;
  const routes: RouteEntry[] = [];
  const rules: RuleEntry[] = [];
  const base = config.rulePriorityBase;
  for (const gw of gateways) {
    const table = config.tableBase + gw.markIndex;
    const fwmark = markValue(config, gw.markIndex);
    for (const family of [4, 6] as const) {
      const via = gw.tunnelIp[family];
      if (!via) continue;
      routes.push({ family, table, dst: 'default', via, dev, onlink: true });
      rules.push({ family, priority: base, fwmark, mask: config.markMask, iifLo: true, table: MAIN_TABLE });
      rules.push({ family, priority: base + 1, fwmark, mask: config.markMask, iifLo: false, table });
    }
  }
  for (const gw of native.paths) {
    const table = config.tableBase + gw.markIndex;
    const fwmark = markValue(config, gw.markIndex);
    for (const family of [4, 6] as const) {
      const via = gw.nextHop[family];
      if (!via) continue;
      routes.push({ family, table, dst: 'default', via, dev: native.dev, onlink: true });
      rules.push({ family, priority: base + 1, fwmark, mask: config.markMask, iifLo: false, table });
    }
  }
  for (const r of replies) {
    routes.push({ family: r.family, table: config.tableBase, dst: r.dst, via: r.via, dev: r.dev ?? dev, onlink: true });
  }
  for (const family of [4, 6] as const) {
    if (replies.some((r) => r.family === family)) {
      rules.push({ family, priority: base + 2, fwmark: hereMark(config), mask: config.markMask, iifLo: false, table: config.tableBase });
    }
  }
  const routeKey = (r: RouteEntry) => `${r.family}|${String(r.table).padStart(10, '0')}|${r.dst}`;
  const ruleKey = (r: RuleEntry) => `${r.family}|${String(r.priority).padStart(6, '0')}|${String(r.fwmark).padStart(10, '0')}|${r.iifLo}`;
  // one key per item: a gateway's reply routes number one per remote pod outside its node's pod CIDRs
  const uniq = <T>(items: readonly T[], key: (t: T) => string): T[] => {
    const byKey = new Map<string, T>();
    for (const item of items) byKey.set(key(item), item);
    return [...byKey.keys()].sort().map((k) => byKey.get(k)!);
  };
  const sortedRoutes = uniq(routes, routeKey);
  return {
    tables: [...new Set(sortedRoutes.map((r) => r.table))].sort((a, b) => a - b),
    routes: sortedRoutes,
    rules: uniq(rules, ruleKey),
    ownedTables: ownedRanges(config).tables,
    ownedRulePriorities: ownedRanges(config).rulePriorities,
  };
}
