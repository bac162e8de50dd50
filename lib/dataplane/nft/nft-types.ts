/** Public shapes of the nftables driver. */
import type { ElementKeys } from './element-keys.js';

/** pino-compatible subset, so the agent can pass its logger. */
export interface NftLogger {
  debug(obj: Record<string, unknown>, msg: string): void;
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
}

export interface NftCounter {
  readonly packets: number;
  readonly bytes: number;
}

export interface ObservedSet {
  readonly name: string;
  /** `ipv4_addr`, `ipv6_addr`, or a concatenation joined with ` . `. */
  readonly type: string;
  readonly flags: readonly string[];
  readonly interval: boolean;
  /** As nft prints them: `a`, `a/n` or `a-b`. */
  readonly elements: readonly string[];
  /**
   * The same elements as compact keys, when the set has no intervals and was read over netlink
   * (`elements` is then formatted on first use). The element diff compares these.
   */
  readonly keys?: ElementKeys;
  /** The set's `size`: most elements it takes; absent when unbounded. */
  readonly size?: number;
  /** Elements that carry options (a timeout, a comment), as a set with `flags timeout` holds them. */
  readonly timed?: readonly ObservedTimedElement[];
}

export interface ObservedTimedElement {
  readonly element: string;
  /** Seconds left before the kernel removes it. */
  readonly expiresSeconds?: number;
  readonly comment?: string;
}

export interface ObservedRule {
  readonly handle: number;
  readonly comment?: string;
  /** The first anonymous counter of the rule, if it has one. */
  readonly counter?: NftCounter;
}

export interface ObservedChain {
  readonly name: string;
  readonly type?: string;
  readonly hook?: string;
  /** Numeric, as the kernel holds it (mangle = -150, filter = 0, srcnat = 100). */
  readonly priority?: number;
  readonly policy?: string;
  readonly rules: readonly ObservedRule[];
}

/** Our table as the kernel holds it. An absent table has `present: false` and nothing else. */
export interface ObservedNft {
  readonly family: 'inet';
  readonly name: string;
  readonly present: boolean;
  /** Structure fingerprint of the plan that built the table (from the structure chain), if any. */
  readonly fingerprint?: string;
  readonly sets: readonly ObservedSet[];
  /** The plan's chains as the kernel holds them; the structure chain is left out. */
  readonly chains: readonly ObservedChain[];
}

/** Why a whole-table replace was chosen. `set-full`: churn would take a set past its `size`. */
export type ReplaceReason = 'absent' | 'structure-changed' | 'foreign-or-old' | 'drifted' | 'set-full' | 'forced';

export interface NftApplyResult {
  /**
   * `none`: nothing sent; `elements`: only set elements changed; `restructure`: chains and rules
   * rewritten in place, the sets that stayed kept their elements; `replace`: whole table reloaded.
   */
  readonly mode: 'none' | 'elements' | 'restructure' | 'replace';
  /** nft commands in the one transaction sent (0 when nothing was sent). */
  readonly writes: number;
  readonly durationMs: number;
  /** What the plan was diffed against: the last plan this instance applied, the kernel, or nothing (forced). */
  readonly basis: 'memory' | 'kernel' | 'none';
  readonly reason?: ReplaceReason;
  readonly elementsAdded: number;
  readonly elementsRemoved: number;
}

export interface NftRemoveResult {
  /** False when the table was already gone. */
  readonly removed: boolean;
  readonly durationMs: number;
}

export interface NftApplyOptions {
  /** Reload the whole table even when only elements differ (repair, benchmarks). */
  readonly replace?: boolean;
}
