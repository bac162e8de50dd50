import type { NftChain, NftSet, NftTablePlan } from '../../planner/node-plan.js';
import type { Restructure } from '../../planner/nft/render.js';
import { diffPlanElements } from './element-diff.js';
import { STRUCTURE_CHAIN } from './fingerprint.js';

const sameSetHead = (a: NftSet, b: NftSet) => a.type === b.type && a.interval === b.interval && (a.learned === true) === (b.learned === true);

const sameChainHead = (a: NftChain, b: NftChain) => a.type === b.type && a.hook === b.hook && a.priority.base === b.priority.base && a.priority.offset === b.priority.offset;

/**
 * How the applied table `from` becomes `to` in place (see Restructure): the sets both have with
 * the same head stay with their elements, everything else is rebuilt. Undefined when `to` is
 * another table.
 */
export function restructure(from: NftTablePlan, to: NftTablePlan): Restructure | undefined {
  if (from.family !== to.family || from.name !== to.name) return undefined;
  const oldSets = new Map(from.sets.map((s) => [s.name, s]));
  const oldChains = new Map(from.chains.map((c) => [c.name, c]));
  const newSets = new Map(to.sets.map((s) => [s.name, s]));
  const newChains = new Map(to.chains.map((c) => [c.name, c]));
  const keptSet = (s: NftSet, other: NftSet | undefined) => other !== undefined && sameSetHead(s, other);
  const keptChain = (c: NftChain, other: NftChain | undefined) => other !== undefined && sameChainHead(c, other);
  const kept = new Set(to.sets.filter((s) => keptSet(s, oldSets.get(s.name))).map((s) => s.name));
  return {
    to,
    flushChains: [...from.chains.map((c) => c.name), STRUCTURE_CHAIN],
    deleteChains: from.chains.filter((c) => !keptChain(c, newChains.get(c.name))).map((c) => c.name),
    deleteSets: from.sets.filter((s) => !keptSet(s, newSets.get(s.name))).map((s) => s.name),
    addSets: to.sets.filter((s) => !kept.has(s.name)),
    addChains: to.chains.filter((c) => !keptChain(c, oldChains.get(c.name))),
    changes: diffPlanElements({ ...from, sets: from.sets.filter((s) => kept.has(s.name)) }, to),
  };
}
