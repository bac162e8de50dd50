import type { NftSet, NftTablePlan } from '../../planner/node-plan.js';
import type { RegularChain } from '../../planner/nft-render.js';
import { chainPriority, ruleToJson, type JsonObject, type JsonValue } from './rule-json.js';

/** An element in libnftables JSON: `a`, `{prefix}` for `a/n`, `{range}` for `a-b`. */
function elementJson(element: string): JsonValue {
  const slash = element.indexOf('/');
  if (slash > 0) return { prefix: { addr: element.slice(0, slash), len: Number(element.slice(slash + 1)) } };
  const dash = element.indexOf('-'); // IPv6 addresses have no '-', so this is a range
  if (dash > 0) return { range: [element.slice(0, dash), element.slice(dash + 1)] };
  return element;
}

function setJson(table: NftTablePlan, set: NftSet, size: number | undefined): JsonObject {
  const out: JsonObject = { family: table.family, table: table.name, name: set.name, type: set.type };
  if (set.interval) out.flags = ['interval'];
  if (size !== undefined) out.size = size;
  if (set.elements.length > 0) out.elem = set.interval ? set.elements.map(elementJson) : [...set.elements];
  return out;
}

/**
 * The same transaction as the nft text of a replace (`add table`, `delete table`, then every
 * set, chain and rule), as libnftables JSON; undefined when a rule or priority has no JSON form
 * here (see rule-json.ts), and the text is then used instead.
 */
export function replaceJson(table: NftTablePlan, sizes: ReadonlyMap<string, number>, regularChains: readonly RegularChain[]): string | undefined {
  const ids = { family: table.family, table: table.name };
  const tableId = { family: table.family, name: table.name };
  const commands: JsonObject[] = [{ add: { table: tableId } }, { delete: { table: tableId } }, { add: { table: tableId } }];
  for (const set of table.sets) commands.push({ add: { set: setJson(table, set, sizes.get(set.name)) } });
  const rules: JsonObject[] = [];
  const addRules = (chain: string, texts: readonly string[]): boolean => {
    for (const text of texts) {
      const rule = ruleToJson(text);
      if (!rule) return false;
      rules.push({ add: { rule: { ...ids, chain, expr: rule.expr, ...(rule.comment !== undefined ? { comment: rule.comment } : {}) } } });
    }
    return true;
  };
  for (const chain of table.chains) {
    const prio = chainPriority(chain.priority);
    if (prio === undefined) return undefined;
    commands.push({ add: { chain: { ...ids, name: chain.name, type: chain.type, hook: chain.hook, prio, policy: 'accept' } } });
    if (!addRules(chain.name, chain.rules)) return undefined;
  }
  for (const chain of regularChains) {
    commands.push({ add: { chain: { ...ids, name: chain.name } } });
    if (!addRules(chain.name, chain.rules)) return undefined;
  }
  return JSON.stringify({ nftables: [...commands, ...rules] });
}
