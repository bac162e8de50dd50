import type { Family } from '../../api/ip.js';
import { EgressError } from '../../errors.js';
import { readBatch } from '../iproute/batch-read.js';
import type { Exec } from '../iproute/exec.js';
import { inRange, parseRoute, parseRule, type JsonRow } from './route-parse.js';
import type { ObservedRouting, OwnedRanges } from './route-types.js';

const FAMILIES: readonly Family[] = [4, 6];

/** Rules and routes of both families, keeping only those inside our ranges. One `ip` process per family, run together. */
export async function observeRouting(exec: Exec, owned: OwnedRanges): Promise<ObservedRouting> {
  const perFamily = await Promise.all(
    FAMILIES.map(async (family) => {
      const read = await readBatch<JsonRow>(exec, 'ip', ['rule list', 'route show table all'], [`-${family}`, '-N']);
      const [rules, routes] = read.rows;
      if (!rules || !routes) {
        throw new EgressError('EGW_ERR_NETLINK', `ip -${family} rule/route list: ${[...read.failures.values()].join('; ')}`);
      }
      return {
        rules: rules.map((r) => parseRule(r, family)).filter((r) => inRange(r.priority, owned.rulePriorities)),
        routes: routes.map((r) => parseRoute(r, family)).filter((r) => inRange(r.table, owned.tables)),
      };
    }),
  );
  return { owned, rules: perFamily.flatMap((f) => f.rules), routes: perFamily.flatMap((f) => f.routes) };
}
