import type { NftTablePlan } from '../planner/node-plan.js';
import { fingerprintFromComment, STRUCTURE_CHAIN, structureFingerprint } from './nft/fingerprint.js';
import { dumpInetRules } from './nft/netlink-reads.js';

/** What a probe found; `intact` says the table still has the structure the plan loads. */
export type NftProbe = { readonly intact: true } | { readonly intact: false; readonly why: string };

/**
 * A cheap drift check of our nft table: one netlink rule dump (no set elements, so it costs the
 * same at 10 or 100k endpoints) compared with the plan: the table exists, its structure rule
 * records this plan's fingerprint, and every chain has the planned number of rules. Rules edited
 * in place and set elements are not compared; a full diff (NftDriver.forget() before an apply)
 * lists those, at the cost of fetching every element.
 */
export function probeNftStructure(
  table: NftTablePlan,
  dump: (table: string) => readonly { chain: string; comment?: string }[] = (name) => dumpInetRules(name, { counters: false }),
): NftProbe {
  let rules: readonly { chain: string; comment?: string }[];
  try {
    rules = dump(table.name);
  } catch (err) {
    return { intact: false, why: `rules could not be read: ${err instanceof Error ? err.message : String(err)}` };
  }
  if (rules.length === 0) return { intact: false, why: `table inet ${table.name} is missing or empty` };
  const comment = rules.find((r) => r.chain === STRUCTURE_CHAIN && r.comment !== undefined)?.comment;
  if (fingerprintFromComment(comment) !== structureFingerprint(table)) return { intact: false, why: 'the structure fingerprint differs' };
  const counts = new Map<string, number>();
  for (const r of rules) counts.set(r.chain, (counts.get(r.chain) ?? 0) + 1);
  for (const chain of table.chains) {
    const n = counts.get(chain.name) ?? 0;
    if (n !== chain.rules.length) return { intact: false, why: `chain ${chain.name} has ${n} rules, the plan ${chain.rules.length}` };
  }
  const extra = [...counts.keys()].filter((c) => c !== STRUCTURE_CHAIN && !table.chains.some((p) => p.name === c));
  if (extra.length > 0) return { intact: false, why: `chains not in the plan: ${extra.join(', ')}` };
  return { intact: true };
}
