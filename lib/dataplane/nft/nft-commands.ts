import type { NftTablePlan } from '../../planner/node-plan.js';
import { renderNftReplace, type RegularChain } from '../../planner/nft-render.js';
import { fingerprintComment, STRUCTURE_CHAIN } from './fingerprint.js';
import type { SetElementChange } from './element-diff.js';
import { replaceJson } from './replace-json.js';

/** A batch for one transaction and how many nft commands it holds. */
export interface NftBatch {
  readonly text: string;
  readonly commands: number;
}

/** A whole-table replace, as nft text and, when every rule has a JSON form, as JSON too. */
export interface ReplaceBatch extends NftBatch {
  readonly json?: string;
}

/** The regular chain whose one rule carries the structure fingerprint. */
function structureChain(fingerprint: string): RegularChain {
  return { name: STRUCTURE_CHAIN, rules: [`return comment "${fingerprintComment(fingerprint)}"`] };
}

/**
 * Add + delete + define, with set sizes and the structure fingerprint. Loading either form
 * replaces the table atomically whether or not it exists, and both give the same kernel state.
 */
export function replaceBatch(table: NftTablePlan, fingerprint: string, setSizes: ReadonlyMap<string, number>): ReplaceBatch {
  const regularChains = [structureChain(fingerprint)];
  const text = renderNftReplace(table, { setSizes, regularChains });
  const json = replaceJson(table, setSizes, regularChains);
  return { text, ...(json !== undefined ? { json } : {}), commands: 3 };
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
