import type { NftSet, NftTablePlan } from '../../planner/node-plan.js';

// A hash set loaded without a size starts as a small resizable table: the kernel then grows it
// again and again during one big load, and at 100k elements that alone took half of the
// kernel's share of a full replace here (rhashtable_insert_slow). With `size` the kernel
// allocates the buckets once. But `size` is also a hard limit (an add beyond it fails with
// ENFILE), so only big sets get one, with headroom, and the driver reloads the table when churn
// would go past it.
const SIZED_FROM = 1024;
const HEADROOM = 1.5;

/** `size` for a set loaded with these elements; undefined leaves the set unbounded. */
export function setCapacity(set: Pick<NftSet, 'interval' | 'elements'>): number | undefined {
  if (set.interval || set.elements.length < SIZED_FROM) return undefined;
  return 2 ** Math.ceil(Math.log2(set.elements.length * HEADROOM));
}

/** Capacities of the sets of `table` that get one, by set name. */
export function tableCapacities(table: NftTablePlan): ReadonlyMap<string, number> {
  const out = new Map<string, number>();
  for (const set of table.sets) {
    const capacity = setCapacity(set);
    if (capacity !== undefined) out.set(set.name, capacity);
  }
  return out;
}

/** The first set of `table` holding more elements than its live capacity allows, if any. */
export function overfullSet(table: NftTablePlan, capacities: ReadonlyMap<string, number>): string | undefined {
  return table.sets.find((s) => s.elements.length > (capacities.get(s.name) ?? Infinity))?.name;
}
