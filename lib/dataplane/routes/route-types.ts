import type { Family } from '../../api/ip.js';

export interface IdRange {
  readonly min: number;
  readonly max: number;
}

/** Rules at these priorities and routes in these tables are sluice's; everything else is never touched. */
export interface OwnedRanges {
  readonly tables: IdRange;
  readonly rulePriorities: IdRange;
}

export interface ObservedRule {
  readonly family: Family;
  readonly priority: number;
  readonly fwmark?: number;
  readonly mask?: number;
  readonly iif?: string;
  readonly table?: number;
  /** Selectors or actions sluice never sets (`from`, `oif`, `goto`, …); such a rule is never ours as-is. */
  readonly foreign: readonly string[];
  /** Arguments after `rule del` that select exactly this rule. */
  readonly selector: string;
}

export interface ObservedRoute {
  readonly family: Family;
  readonly table: number;
  /** `unicast`, `blackhole`, `unreachable`, … */
  readonly type: string;
  /** `default` or canonical `addr/len`. */
  readonly dst: string;
  readonly via?: string;
  readonly dev?: string;
  readonly onlink: boolean;
  readonly metric: number;
  /** Attributes sluice never sets (`tos`, `nexthops`, `prefsrc`, …). */
  readonly foreign: readonly string[];
  /** Arguments after `route del` that select exactly this route. */
  readonly selector: string;
}

export interface ObservedRouting {
  readonly owned: OwnedRanges;
  readonly rules: readonly ObservedRule[];
  readonly routes: readonly ObservedRoute[];
}
