import { canonicalIp, isIp, type Family } from '../../api/ip.js';
import type { RouteEntry, RoutingPlan, RuleEntry } from '../../planner/node-plan.js';
import { EgressError, errorMessage } from '../../errors.js';
import { ifnameToken, intToken, prefixToken } from '../iproute/tokens.js';
import { DEFAULT_METRIC, inRange } from './route-parse.js';
import type { ObservedRoute, ObservedRouting, ObservedRule, OwnedRanges } from './route-types.js';

export type RouteOp =
  | { readonly kind: 'route-replace'; readonly route: RouteEntry; readonly was?: ObservedRoute }
  | { readonly kind: 'route-del'; readonly route: ObservedRoute }
  | { readonly kind: 'rule-add'; readonly rule: RuleEntry }
  | { readonly kind: 'rule-del'; readonly rule: ObservedRule };

export interface RouteOpPlan {
  /** Routes first, then the rules that lead into them. */
  readonly adds: readonly RouteOp[];
  /** Rules first, then the routes nothing leads into any more. */
  readonly deletes: readonly RouteOp[];
  /** Plan entries outside the owned ranges: never written, because they could never be collected. */
  readonly rejected: readonly string[];
}

export function ownedRangesOf(routing: RoutingPlan): OwnedRanges {
  return { tables: routing.ownedTables, rulePriorities: routing.ownedRulePriorities };
}

const routeKey = (family: Family, table: number, dst: string, metric: number) => `${family}|${table}|${dst}|${metric}`;
const ruleKey = (family: Family, priority: number, fwmark: number, mask: number, iifLo: boolean, table: number) => `${family}|${priority}|${fwmark}|${mask}|${iifLo}|${table}`;

/** Canonical form of a planned route; throws EGW_ERR_PLAN when a value is unusable. */
function canonicalRoute(r: RouteEntry): RouteEntry {
  ifnameToken(r.dev, 'route device');
  if (!isIp(r.via, r.family)) throw new EgressError('EGW_ERR_PLAN', `gateway "${r.via}" is not an IPv${r.family} address`);
  return { ...r, dst: prefixToken(r.dst, r.family, 'route destination'), via: canonicalIp(r.via) };
}

function checkRule(r: RuleEntry): RuleEntry {
  intToken(r.fwmark, 0, 0xffffffff, 'fwmark');
  intToken(r.mask, 1, 0xffffffff, 'fwmark mask');
  intToken(r.table, 1, 0xffffffff, 'table');
  return r;
}

/** Keeps the entries `check` accepts; each refused one becomes a line in `rejected`. */
function accepted<T>(items: readonly T[], check: (t: T) => T, label: (t: T) => string, rejected: string[]): T[] {
  const out: T[] = [];
  for (const item of items) {
    try {
      out.push(check(item));
    } catch (err) {
      rejected.push(`${label(item)}: ${errorMessage(err)}`);
    }
  }
  return out;
}

function satisfies(have: ObservedRoute, want: RouteEntry): boolean {
  return have.type === 'unicast' && have.via === want.via && have.dev === want.dev && have.onlink === want.onlink && have.foreign.length === 0;
}

function observedRuleKey(r: ObservedRule): string | undefined {
  if (r.foreign.length > 0 || r.fwmark === undefined || r.table === undefined) return undefined;
  if (r.iif !== undefined && r.iif !== 'lo') return undefined;
  return ruleKey(r.family, r.priority, r.fwmark, r.mask!, r.iif === 'lo', r.table);
}

/**
 * Pure: the writes that turn `observed` (already filtered to our ranges) into `routing`.
 * A route whose (table, dst, metric) exists with other attributes is replaced in place, which
 * the kernel does atomically; only routes and rules with no counterpart in the plan are deleted.
 */
export function planRouteOps(routing: RoutingPlan, observed: ObservedRouting): RouteOpPlan {
  const owned = ownedRangesOf(routing);
  const rejected: string[] = [];
  const routes = accepted(
    routing.routes.filter((r) => inRange(r.table, owned.tables) || !rejected.push(`route table ${r.table} ${r.dst}: table outside ${owned.tables.min}-${owned.tables.max}`)),
    canonicalRoute,
    (r) => `route table ${r.table} ${r.dst}`,
    rejected,
  );
  const rules = accepted(
    routing.rules.filter(
      (r) => inRange(r.priority, owned.rulePriorities) || !rejected.push(`rule pref ${r.priority}: priority outside ${owned.rulePriorities.min}-${owned.rulePriorities.max}`),
    ),
    checkRule,
    (r) => `rule pref ${r.priority}`,
    rejected,
  );

  const haveRoutes = new Map<string, ObservedRoute[]>();
  for (const r of observed.routes) {
    const k = routeKey(r.family, r.table, r.dst, r.metric);
    haveRoutes.set(k, [...(haveRoutes.get(k) ?? []), r]);
  }
  const wantRouteKeys = new Set<string>();
  const adds: RouteOp[] = [];
  for (const want of routes) {
    const k = routeKey(want.family, want.table, want.dst, DEFAULT_METRIC[want.family]);
    wantRouteKeys.add(k);
    const have = haveRoutes.get(k) ?? [];
    if (have.length === 1 && satisfies(have[0]!, want)) continue;
    adds.push({ kind: 'route-replace', route: want, ...(have[0] ? { was: have[0] } : {}) });
  }

  const wantRules = new Set(rules.map((r) => ruleKey(r.family, r.priority, r.fwmark, r.mask, r.iifLo, r.table)));
  const seenRules = new Set<string>();
  const deletes: RouteOp[] = [];
  for (const have of observed.rules) {
    const k = observedRuleKey(have);
    if (k !== undefined && wantRules.has(k) && !seenRules.has(k)) {
      seenRules.add(k);
      continue;
    }
    deletes.push({ kind: 'rule-del', rule: have });
  }
  for (const want of rules) {
    if (!seenRules.has(ruleKey(want.family, want.priority, want.fwmark, want.mask, want.iifLo, want.table))) adds.push({ kind: 'rule-add', rule: want });
  }
  for (const have of observed.routes) {
    if (!wantRouteKeys.has(routeKey(have.family, have.table, have.dst, have.metric))) deletes.push({ kind: 'route-del', route: have });
  }
  return { adds, deletes, rejected };
}

export function opFamily(op: RouteOp): Family {
  return op.kind === 'route-replace' || op.kind === 'route-del' ? op.route.family : op.rule.family;
}
