import type { NftTablePlan } from '../../planner/node-plan.js';
import type { NftRule } from '../../planner/nft/vocabulary.js';
import {
  deleteTableJson,
  deleteTableText,
  elementsBatchJson,
  elementsBatchText,
  replaceJson,
  replaceText,
  restructureJson,
  restructureText,
  type Restructure,
  type LearnedElementWrite,
  type RegularChain,
} from '../../planner/nft/render.js';
import { rule, ret } from '../../planner/nft/statements.js';
import { fingerprintComment, STRUCTURE_CHAIN } from './fingerprint.js';
import type { SetElementChange } from './element-diff.js';

/**
 * A batch for one transaction: the libnftables JSON that is sent, how many nft commands it
 * holds, and the same transaction as nft text, rendered only when an error needs quoting.
 */
export interface NftBatch {
  readonly json: string;
  readonly commands: number;
  text(): string;
}

/** The regular chain whose one rule carries the structure fingerprint. */
function structureChain(fingerprint: string): RegularChain {
  const fingerprintRule: NftRule = rule([ret], fingerprintComment(fingerprint));
  return { name: STRUCTURE_CHAIN, rules: [fingerprintRule] };
}

/**
 * Add + delete + define, with set sizes and the structure fingerprint, then the learned elements
 * (one add per set). Loading it replaces the table atomically whether or not it exists.
 */
export function replaceBatch(table: NftTablePlan, fingerprint: string, setSizes: ReadonlyMap<string, number>, learned: readonly LearnedElementWrite[] = []): NftBatch {
  const options = { setSizes, regularChains: [structureChain(fingerprint)], learned };
  return { json: replaceJson(table, options), commands: 3 + new Set(learned.map((e) => e.set)).size, text: () => replaceText(table, options) };
}

/** A restructure in place (see Restructure), with the structure fingerprint; `setSizes` and `learned` for the sets it adds. */
export function restructureBatch(r: Restructure, fingerprint: string, setSizes: ReadonlyMap<string, number>, learned: readonly LearnedElementWrite[] = []): NftBatch {
  const options = { setSizes, regularChains: [structureChain(fingerprint)], learned };
  return { ...restructureJson(r, options), text: () => restructureText(r, options) };
}

/**
 * Element commands, deletes before adds (so an interval can be swapped for an overlapping one in
 * the same batch). JSON like every other write: one path for every batch, and measured no
 * slower than nft text for one element (bench/dataplane).
 */
export function elementBatch(table: NftTablePlan, changes: readonly SetElementChange[]): NftBatch {
  return { ...elementsBatchJson(table, changes), text: () => elementsBatchText(table, changes) };
}

export function deleteTableBatch(table: Pick<NftTablePlan, 'family' | 'name'>): NftBatch {
  return { json: deleteTableJson(table), commands: 1, text: () => deleteTableText(table) };
}

/** Listing of our table only; never `list ruleset`, which would read other owners' tables too. */
export function listTableCommand(family: string, name: string): string {
  return `list table ${family} ${name}\n`;
}
