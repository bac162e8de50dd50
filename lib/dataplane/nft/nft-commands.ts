import type { NftTablePlan } from '../../planner/node-plan.js';
import { renderNftReplace } from '../../planner/nft-render.js';
import { EgressError } from '../../errors.js';
import { fingerprintComment } from './fingerprint.js';
import type { SetElementChange } from './element-diff.js';

/** A batch for one transaction and how many nft commands it holds. */
export interface NftBatch {
  readonly text: string;
  readonly commands: number;
}

/**
 * Add + delete + define, with the structure fingerprint as the table comment. Loading it
 * replaces the table atomically whether or not it exists.
 */
export function replaceBatch(table: NftTablePlan, fingerprint: string): NftBatch {
  const header = `\ntable ${table.family} ${table.name} {\n`;
  const text = renderNftReplace(table);
  const at = text.indexOf(header);
  if (at < 0) throw new EgressError('EGW_ERR_NFT', `renderNftReplace output has no "${header.trim()}" line`);
  const cut = at + header.length;
  return { text: `${text.slice(0, cut)}\tcomment "${fingerprintComment(fingerprint)}"\n${text.slice(cut)}`, commands: 3 };
}

/** Deletes before adds, so an interval can be swapped for an overlapping one in the same batch. */
export function elementBatch(table: Pick<NftTablePlan, 'family' | 'name'>, changes: readonly SetElementChange[]): NftBatch {
  const lines: string[] = [];
  const target = (set: string) => `${table.family} ${table.name} ${set}`;
  for (const c of changes) if (c.remove.length > 0) lines.push(`delete element ${target(c.set)} { ${c.remove.join(', ')} }`);
  for (const c of changes) if (c.add.length > 0) lines.push(`add element ${target(c.set)} { ${c.add.join(', ')} }`);
  return { text: `${lines.join('\n')}\n`, commands: lines.length };
}

/** Listing of our table only; never `list ruleset`, which would read other owners' tables too. */
export function listTableCommand(family: string, name: string): string {
  return `list table ${family} ${name}\n`;
}

export function deleteTableCommand(family: string, name: string): string {
  return `delete table ${family} ${name}\n`;
}
