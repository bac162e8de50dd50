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
    lines.push({ subsystem: 'nft', change: 'changed', text: `changed nft table ${plan.family} ${plan.name}: chains, rules or sets differ from the plan (the next apply replaces it)` });
  }
  for (const change of diffObservedElements(observed.sets, plan)) {
    const show = (items: readonly string[]) => items.slice(0, SHOWN_ELEMENTS).join(', ') + (items.length > SHOWN_ELEMENTS ? `, … (${items.length} in all)` : '');
    if (change.add.length) lines.push({ subsystem: 'nft', change: 'missing', text: `missing in set ${change.set}: ${show(change.add)}` });
    if (change.remove.length) lines.push({ subsystem: 'nft', change: 'extra', text: `extra in set ${change.set}: ${show(change.remove)}` });
  }
  return lines;
}
