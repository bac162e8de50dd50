import { formatInterval, parseIpSpec } from '../../api/ip.js';
import type { NftTablePlan } from '../../planner/node-plan.js';
import { keyText, plannedKey, sortedKeys, type ElementKey, type ElementKeys } from './element-keys.js';
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
  const live = new Map(observed.map((s) => [s.name, s]));
  const changes: SetElementChange[] = [];
  for (const set of to.sets) {
    if (set.learned) continue; // the DNS forwarder's elements
    const have = live.get(set.name);
    const keys = have?.keys;
    const { add, remove } = (keys && !set.interval ? diffKeys(keys, set.elements) : undefined) ?? diffTexts(have?.elements ?? [], set.elements);
    if (add.length > 0 || remove.length > 0) changes.push({ set: set.name, add, remove });
  }
  return changes;
}

/** Both sides as canonical text: any notation, intervals too. */
function diffTexts(have: readonly string[], want: readonly string[]): { add: string[]; remove: string[] } {
  const haveKeys = have.map(canonicalOrSelf);
  const wantKeys = want.map(canonicalOrSelf);
  const haveSet = new Set(haveKeys);
  const wantSet = new Set(wantKeys);
  return { add: want.filter((_, i) => !haveSet.has(wantKeys[i]!)), remove: have.filter((_, i) => !wantSet.has(haveKeys[i]!)) };
}

/**
 * The same as diffTexts for a set without intervals read as compact keys: kernel elements are
 * compared as keys, not formatted, and only removals are formatted (in address order, as the
 * kernel lists them). Undefined when a planned element is not a single address of the set's
 * family (then the text diff decides).
 */
function diffKeys(have: ElementKeys, want: readonly string[]): { add: string[]; remove: string[] } | undefined {
  return have.family === 4 ? diffIpv4Keys(have.keys as readonly number[], want) : diffKeysBySet(have, want);
}

/** IPv4: both sides as sorted 32-bit arrays (sorted natively), walked side by side. */
function diffIpv4Keys(have: readonly number[], want: readonly string[]): { add: string[]; remove: string[] } | undefined {
  const planned = new Uint32Array(want.length);
  for (let i = 0; i < want.length; i++) {
    const key = plannedKey(want[i]!, 4);
    if (key === undefined) return undefined;
    planned[i] = key as number;
  }
  const held = Uint32Array.from(have).sort();
  const wanted = planned.slice().sort();
  const missing = new Set<number>();
  const extra: number[] = [];
  for (let h = 0, w = 0; h < held.length || w < wanted.length;) {
    if (w > 0 && w < wanted.length && wanted[w] === wanted[w - 1])
      w++; // listed twice in the plan
    else if (w === wanted.length || (h < held.length && held[h]! < wanted[w]!)) extra.push(held[h++]!);
    else if (h === held.length || wanted[w]! < held[h]!) missing.add(wanted[w++]!);
    else {
      h++;
      w++;
    }
  }
  return { add: missing.size === 0 ? [] : want.filter((_, i) => missing.has(planned[i]!)), remove: extra.map(keyText) };
}

/** IPv6: kernel keys in a Set, each planned key takes its match out; what is left is extra. */
function diffKeysBySet(have: ElementKeys, want: readonly string[]): { add: string[]; remove: string[] } | undefined {
  const unmatched = new Set<ElementKey>(have.keys);
  const missing: { text: string; key: ElementKey }[] = [];
  for (const text of want) {
    const key = plannedKey(text, have.family);
    if (key === undefined) return undefined;
    if (!unmatched.delete(key)) missing.push({ text, key });
  }
  // A planned element listed twice matched its key the first time; it is not missing.
  const held = missing.length > 0 ? new Set<ElementKey>(have.keys) : undefined;
  return {
    add: missing.filter((m) => !held!.has(m.key)).map((m) => m.text),
    remove: sortedKeys([...unmatched], have.family).map(keyText),
  };
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
