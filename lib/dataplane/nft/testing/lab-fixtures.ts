/** Plans and small helpers shared by the netns cases and the benchmark. */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadDocuments } from '../../../input/load-documents.js';
import { parseSources } from '../../../input/parse-sources.js';
import { DEFAULT_CONFIG } from '../../../planner/config.js';
import { snapshotFromObjects } from '../../../planner/from-objects.js';
import type { NftSet, NftTablePlan } from '../../../planner/node-plan.js';
import { plan } from '../../../planner/plan.js';
import { everyRuleCluster, snapshotOf } from '../../../planner/testing/cluster.js';
import type { NftLogger } from '../nft-types.js';

export const SEED_NODES = ['gateway-1', 'gateway-2', 'worker-1'] as const;

/** The repository root, found from this module whether it runs from lib/ or dist/lib/. */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('package.json not found above this module');
    dir = parent;
  }
  return dir;
}

/** The planner's nft table for one node of lib/planner/testdata/seed-002.yaml. */
export async function seedTable(node: string): Promise<NftTablePlan> {
  const docs = await loadDocuments(join(repoRoot(), 'lib/planner/testdata/seed-002.yaml'));
  return plan(snapshotFromObjects(parseSources(docs).objects, DEFAULT_CONFIG), node).nft;
}

/** The nft tables of every node of the planner's every-rule cluster (all rule shapes, dual-stack). */
export function everyRuleTables(): NftTablePlan[] {
  const snapshot = snapshotOf(everyRuleCluster());
  return SEED_NODES.map((node) => plan(snapshot, node).nft);
}

/** A copy of `table` with the elements of the sets named by `edit` replaced. */
export function withElements(table: NftTablePlan, edit: (set: NftSet) => readonly string[] | undefined): NftTablePlan {
  return { ...table, sets: table.sets.map((s) => ({ ...s, elements: edit(s) ?? s.elements })) };
}

/** `count` distinct pod-like IPv4 addresses from 10.64.0.0/10, sorted as the planner sorts. */
export function podAddresses(count: number, offset = 0): string[] {
  const out: string[] = [];
  for (let i = offset; i < offset + count; i++) out.push(`10.${64 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`);
  return out.sort();
}

export function allSetName(table: NftTablePlan): string {
  const set = table.sets.find((s) => s.name.endsWith('_all4'));
  if (!set) throw new Error('the plan has no policy _all4 set');
  return set.name;
}

export const quietLog: NftLogger = { debug() {}, info() {}, warn() {} };
