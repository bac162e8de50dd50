import type { NftSet, NftTablePlan } from './node-plan.js';

/** A chain without a hook: nothing runs it unless a rule jumps to it. */
export interface RegularChain {
  readonly name: string;
  readonly rules: readonly string[];
}

export interface RenderOptions {
  /** `size` of the named sets (nft's preallocation hint, and a hard limit). */
  readonly setSizes?: ReadonlyMap<string, number>;
  /** Chains to add after the plan's own. */
  readonly regularChains?: readonly RegularChain[];
}

function renderSet(set: NftSet, size: number | undefined): string {
  const lines = [`\tset ${set.name} {`, `\t\ttype ${set.type}`];
  if (set.interval) lines.push('\t\tflags interval');
  if (size !== undefined) lines.push(`\t\tsize ${size}`);
  if (set.elements.length > 0) lines.push(`\t\telements = { ${set.elements.join(',\n\t\t\t')} }`);
  lines.push('\t}');
  return lines.join('\n');
}

/** The table as `nft -f` text. Loading it after `add table` + `delete table` replaces it atomically. */
export function renderNftTable(table: NftTablePlan, options: RenderOptions = {}): string {
  const parts = [`table ${table.family} ${table.name} {`];
  for (const set of table.sets) parts.push(renderSet(set, options.setSizes?.get(set.name)));
  for (const chain of table.chains) {
    parts.push(`\tchain ${chain.name} {`);
    parts.push(`\t\ttype ${chain.type} hook ${chain.hook} priority ${chain.priority}; policy accept;`);
    for (const rule of chain.rules) parts.push(`\t\t${rule}`);
    parts.push('\t}');
  }
  for (const chain of options.regularChains ?? []) {
    parts.push(`\tchain ${chain.name} {`, ...chain.rules.map((rule) => `\t\t${rule}`), '\t}');
  }
  parts.push('}');
  return `${parts.join('\n')}\n`;
}

/** One transaction that replaces the whole table, for `nft -f` or libnftables. */
export function renderNftReplace(table: NftTablePlan, options: RenderOptions = {}): string {
  return `add table ${table.family} ${table.name}\ndelete table ${table.family} ${table.name}\n${renderNftTable(table, options)}`;
}
