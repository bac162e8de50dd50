import { createHash } from 'node:crypto';
import { deepFreeze, memoByObject } from '../../api/freeze.js';
import type { NftTablePlan } from '../../planner/node-plan.js';

// nft prints rules back normalized (`& 0xffff00ff | 0xff00` becomes `| 0xff00`, priorities become
// numbers), so live rules cannot be compared with planned ones. Instead the table carries a hash
// of the typed structure it was built from (set names, types and flags; chains and their typed
// rules); elements are left out so that pod churn never changes it. The statement constructors
// build every rule with the same keys in the same order, so equal plans hash equally in every
// process; a plan edited by hand with its keys reordered only costs one replace. The hash is the
// comment of the one rule of a regular chain that nothing jumps to: libnftables 1.0.6 drops
// table, chain and set comments given as JSON, rule comments it keeps. Bump the version when
// render.ts changes what a statement means to the kernel. v2 hashed rules as nft text: a table
// with a v2 comment is replaced once.
const STRUCTURE_VERSION = 'sluice-structure-v3';
const COMMENT = new RegExp(`^${STRUCTURE_VERSION} sha256:([0-9a-f]{64})$`);

/** The chain that holds the fingerprint rule and nothing else. */
export const STRUCTURE_CHAIN = 'structure';

/**
 * sha256 (hex) of everything but set elements. Asked for on every apply, so it hashes the typed
 * table as JSON.stringify writes it rather than rendering it (rendering, with its checks, happens
 * only when a batch is sent), once per plan object: a resync applies the same plan again, and
 * probes it first.
 */
export const structureFingerprint = memoByObject(hashStructure);

function hashStructure(table: NftTablePlan): string {
  // What is hashed stays as hashed; the elements, left out, are not frozen (100k of them at scale).
  Object.freeze(table);
  Object.freeze(table.sets);
  for (const set of table.sets) Object.freeze(set);
  deepFreeze(table.chains);
  const structure = {
    family: table.family,
    name: table.name,
    sets: table.sets.map((s) => (s.learned ? [s.name, s.type, s.interval, 'learned'] : [s.name, s.type, s.interval])),
    chains: table.chains.map((c) => [c.name, c.type, c.hook, c.priority, c.rules]),
  };
  return createHash('sha256').update(JSON.stringify(structure)).digest('hex');
}

/** The comment that records `fingerprint` (≤ 128 bytes, nft's comment limit). */
export function fingerprintComment(fingerprint: string): string {
  return `${STRUCTURE_VERSION} sha256:${fingerprint}`;
}

/** The fingerprint a comment records, or undefined for any other comment. */
export function fingerprintFromComment(comment: string | undefined): string | undefined {
  return comment === undefined ? undefined : COMMENT.exec(comment)?.[1];
}
