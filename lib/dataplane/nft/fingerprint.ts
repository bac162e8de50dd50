import { createHash } from 'node:crypto';
import type { NftTablePlan } from '../../planner/node-plan.js';
import { structureText } from '../../planner/nft/render.js';

// nft prints rules back normalized (`& 0xffff00ff | 0xff00` becomes `| 0xff00`, priorities become
// numbers), so live rules cannot be compared with planned ones. Instead the table carries a hash
// of the structure it was built from; elements are left out so that pod churn never changes it.
// The hash is taken over the rules as rendered (render.ts), so it is the same for the same typed
// table in every process, whatever the key order of a plan read from a file, and any change in
// how a statement is written changes it. It is the comment of the one rule of a regular chain that
// nothing jumps to: libnftables 1.0.6 drops table, chain and set comments given as JSON, rule
// comments it keeps. v2 hashed nft text; a table with a v2 comment is replaced once.
const VERSION = 'sluice-structure-v3';
const COMMENT = new RegExp(`^${VERSION} sha256:([0-9a-f]{64})$`);

/** The chain that holds the fingerprint rule and nothing else. */
export const STRUCTURE_CHAIN = 'structure';

/** sha256 (hex) of everything but set elements: set names/types/flags, chains and their rules. */
export function structureFingerprint(table: NftTablePlan): string {
  return createHash('sha256').update(structureText(table)).digest('hex');
}

/** The comment that records `fingerprint` (≤ 128 bytes, nft's comment limit). */
export function fingerprintComment(fingerprint: string): string {
  return `${VERSION} sha256:${fingerprint}`;
}

/** The fingerprint a comment records, or undefined for any other comment. */
export function fingerprintFromComment(comment: string | undefined): string | undefined {
  return comment === undefined ? undefined : COMMENT.exec(comment)?.[1];
}
