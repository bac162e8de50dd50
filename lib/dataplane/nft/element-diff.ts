import { formatInterval, parseIpSpec } from '../../api/ip.js';
import type { NftTablePlan } from '../../planner/node-plan.js';
import type { ObservedSet } from './nft-types.js';

/** Elements to take out of and put into one set. */
export interface SetElementChange {
  readonly set: string;
  readonly add: readonly string[];
  readonly remove: readonly string[];
}

/**
 * What turns `from` into `to`, both lists of unique elements in the same notation. Plans list
 * elements sorted, so pod churn leaves long equal runs at both ends: those are skipped with
 * plain comparisons and only the differing middle goes through Sets. That keeps a one-pod change
 * in a 100k set well under a millisecond.
 */
export function diffElements(from: readonly string[], to: readonly string[]): { add: string[]; remove: string[] } {
  if (from === to) return { add: [], remove: [] };
  const limit = Math.min(from.length, to.length);
  let head = 0;
  while (head < limit && from[head] === to[head]) head++;
  let tail = 0;
  while (tail < limit - head && from[from.length - 1 - tail] === to[to.length - 1 - tail]) tail++;
  // With unique elements, nothing in one middle can equal an element in the other list's equal runs.
  const oldMiddle = from.slice(head, from.length - tail);
  const newMiddle = to.slice(head, to.length - tail);
  if (oldMiddle.length === 0 || newMiddle.length === 0) return { add: newMiddle, remove: oldMiddle };
  const oldSet = new Set(oldMiddle);
  const newSet = new Set(newMiddle);
  return { add: newMiddle.filter((e) => !oldSet.has(e)), remove: oldMiddle.filter((e) => !newSet.has(e)) };
}

/** Element changes between two plans of the same structure (same sets, same order). */
export function diffPlanElements(from: NftTablePlan, to: NftTablePlan): SetElementChange[] {
  const before = new Map(from.sets.map((s) => [s.name, s.elements]));
  const changes: SetElementChange[] = [];
  for (const set of to.sets) {
    if (set.learned) continue; // the DNS forwarder's elements
    const { add, remove } = diffElements(before.get(set.name) ?? [], set.elements);
    if (add.length > 0 || remove.length > 0) changes.push({ set: set.name, add, remove });
  }
  return changes;
}

const PLAIN_IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/**
 * One notation per element, so the kernel's `10.0.0.0-10.0.0.255` equals a plan's `10.0.0.0/24`
 * and `fd00::01` equals `fd00::1`. Throws EGW_ERR_INVALID_IP for anything that is not an address,
 * CIDR or range.
 */
export function canonicalElement(element: string): string {
  if (PLAIN_IPV4.test(element)) return element; // the common case, already canonical
  return formatInterval(parseIpSpec(element));
}

// An element that does not parse is kept as written, so nft (not this diff) rejects it with its own message.
function canonicalOrSelf(element: string): string {
  try {
    return canonicalElement(element);
  } catch {
    return element;
  }
}

/**
 * Element changes from the kernel's sets to a plan with the same structure. Removals use the
 * kernel's notation (what it will match on delete); additions use the plan's.
 */
export function diffObservedElements(observed: readonly ObservedSet[], to: NftTablePlan): SetElementChange[] {
  const live = new Map(observed.map((s) => [s.name, s.elements]));
  const changes: SetElementChange[] = [];
  for (const set of to.sets) {
    if (set.learned) continue; // the DNS forwarder's elements
    const have = live.get(set.name) ?? [];
    const haveKeys = have.map(canonicalOrSelf);
    const wantKeys = set.elements.map(canonicalOrSelf);
    const haveSet = new Set(haveKeys);
    const wantSet = new Set(wantKeys);
    const add = set.elements.filter((_, i) => !haveSet.has(wantKeys[i]!));
    const remove = have.filter((_, i) => !wantSet.has(haveKeys[i]!));
    if (add.length > 0 || remove.length > 0) changes.push({ set: set.name, add, remove });
  }
  return changes;
}

export function countElements(changes: readonly SetElementChange[]): { added: number; removed: number } {
  let added = 0;
  let removed = 0;
  for (const c of changes) {
    added += c.add.length;
    removed += c.remove.length;
  }
  return { added, removed };
}
