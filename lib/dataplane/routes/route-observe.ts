import type { Family } from '../../api/ip.js';
import type { KernelReads } from '../iproute/rows.js';
import { inRange, parseRoute, parseRule } from './route-parse.js';
import type { ObservedRouting, OwnedRanges } from './route-types.js';

const FAMILIES: readonly Family[] = [4, 6];

/** Rules and routes of both families, keeping only those inside our ranges. */
export async function observeRouting(reads: KernelReads, owned: OwnedRanges): Promise<ObservedRouting> {
  const perFamily = await Promise.all(
    FAMILIES.map(async (family) => {
      const { rules, routes } = await reads.routing(family);
      return {
        rules: rules.map((r) => parseRule(r, family)).filter((r) => inRange(r.priority, owned.rulePriorities)),
        routes: routes.map((r) => parseRoute(r, family)).filter((r) => inRange(r.table, owned.tables)),
      };
    }),
  );
  return { owned, rules: perFamily.flatMap((f) => f.rules), routes: perFamily.flatMap((f) => f.routes) };
}
