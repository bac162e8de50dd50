import type { Family } from '../../api/ip.js';
import type { KernelReads } from '../iproute/rows.js';
import { inRange, parseRoute, parseRule, routeTable, rulePriority } from './route-parse.js';
import type { ObservedRouting, OwnedRanges } from './route-types.js';

const FAMILIES: readonly Family[] = [4, 6];

/** Rules and routes of both families, keeping only those inside our ranges (the others are not parsed). */
export async function observeRouting(reads: KernelReads, owned: OwnedRanges): Promise<ObservedRouting> {
  const perFamily = await Promise.all(
    FAMILIES.map(async (family) => {
      const { rules, routes } = await reads.routing(family, owned);
      return {
        rules: rules.filter((r) => inRange(rulePriority(r), owned.rulePriorities)).map((r) => parseRule(r, family)),
        routes: routes.filter((r) => inRange(routeTable(r), owned.tables)).map((r) => parseRoute(r, family)),
      };
    }),
  );
  return { owned, rules: perFamily.flatMap((f) => f.rules), routes: perFamily.flatMap((f) => f.routes) };
}
