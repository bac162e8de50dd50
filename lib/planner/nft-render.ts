import type { NftSet, NftTablePlan } from './node-plan.js';

function renderSet(set: NftSet): string {
  const lines = [`\tset ${set.name} {`, `\t\ttype ${set.type}`];
  if (set.interval) lines.push('\t\tflags interval');
  if (set.elements.length > 0) lines.push(`\t\telements = { ${set.elements.join(',\n\t\t\t')} }`);
  lines.push('\t}');
  return lines.join('\n');
}

/** The table as `nft -f` text. Loading it after `add table` + `delete table` replaces it atomically. */
export function renderNftTable(table: NftTablePlan): string {
  const parts = [`table ${table.family} ${table.name} {`];
  for (const set of table.sets) parts.push(renderSet(set));
  for (const chain of table.chains) {
    parts.push(`\tchain ${chain.name} {`);
    parts.push(`\t\ttype ${chain.type} hook ${chain.hook} priority ${chain.priority}; policy accept;`);
    for (const rule of chain.rules) parts.push(`\t\t${rule}`);
    parts.push('\t}');
  }
  parts.push('}');
  return `${parts.join('\n')}\n`;
}

/** One transaction that replaces the whole table, for `nft -f` or libnftables. */
export function renderNftReplace(table: NftTablePlan): string {
  return `add table ${table.family} ${table.name}\ndelete table ${table.family} ${table.name}\n${renderNftTable(table)}`;
}
