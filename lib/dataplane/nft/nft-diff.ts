import type { NftTablePlan } from '../../planner/node-plan.js';
import type { DiffLine } from '../diff-line.js';
import { diffObservedElements } from './element-diff.js';
import { structureFingerprint } from './fingerprint.js';
import type { ObservedNft } from './nft-types.js';

const SHOWN_ELEMENTS = 5;

/** Human-readable differences between our planned table and the one the kernel holds. */
export function diffNft(plan: NftTablePlan, observed: ObservedNft): DiffLine[] {
  if (!observed.present) return [{ subsystem: 'nft', change: 'missing', text: `missing nft table ${plan.family} ${plan.name}` }];
  const lines: DiffLine[] = [];
  if (observed.fingerprint !== structureFingerprint(plan)) {
    lines.push({
      subsystem: 'nft',
      change: 'changed',
      text: `changed nft table ${plan.family} ${plan.name}: chains, rules or sets differ from the plan (the next apply replaces it)`,
    });
  }
  lines.push(...diffShape(plan, observed));
  for (const change of diffObservedElements(observed.sets, plan)) {
    const show = (items: readonly string[]) => items.slice(0, SHOWN_ELEMENTS).join(', ') + (items.length > SHOWN_ELEMENTS ? `, … (${items.length} in all)` : '');
    if (change.add.length) lines.push({ subsystem: 'nft', change: 'missing', text: `missing in set ${change.set}: ${show(change.add)}` });
    if (change.remove.length) lines.push({ subsystem: 'nft', change: 'extra', text: `extra in set ${change.set}: ${show(change.remove)}` });
  }
  return lines;
}

/**
 * Hand edits that keep our fingerprint rule: the fingerprint then still matches, so compare what
 * can be compared without nft's rule normalization — chains, their rule counts, and sets.
 */
function diffShape(plan: NftTablePlan, observed: ObservedNft): DiffLine[] {
  const lines: DiffLine[] = [];
  const chains = new Map(observed.chains.map((c) => [c.name, c]));
  for (const c of plan.chains) {
    const o = chains.get(c.name);
    if (!o) lines.push({ subsystem: 'nft', change: 'missing', text: `missing nft chain ${c.name}` });
    else if (o.rules.length !== c.rules.length) {
      lines.push({ subsystem: 'nft', change: 'changed', text: `changed nft chain ${c.name}: ${o.rules.length} rule(s), the plan has ${c.rules.length}` });
    }
  }
  const planned = new Set([...plan.chains.map((c) => `chain ${c.name}`), ...plan.sets.map((s) => `set ${s.name}`)]);
  for (const o of observed.chains) if (!planned.has(`chain ${o.name}`)) lines.push({ subsystem: 'nft', change: 'extra', text: `extra nft chain ${o.name}` });
  const sets = new Set(observed.sets.map((s) => s.name));
  for (const s of plan.sets) if (!sets.has(s.name)) lines.push({ subsystem: 'nft', change: 'missing', text: `missing nft set ${s.name}` });
  for (const o of observed.sets) if (!planned.has(`set ${o.name}`)) lines.push({ subsystem: 'nft', change: 'extra', text: `extra nft set ${o.name}` });
  return lines;
}
