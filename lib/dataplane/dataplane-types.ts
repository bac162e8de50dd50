import type { NftTablePlan } from '../planner/node-plan.js';
import type { ObservedAddresses } from './addresses/address-types.js';
import type { ObservedLinks } from './links/link-types.js';
import type { ApplyError } from './report.js';
import type { EipConflict } from './eip-claims.js';
import type { ObservedRouting } from './routes/route-types.js';
import type { ObservedSysctl } from './sysctl/sysctl-driver.js';

/** What the Dataplane needs from the nftables driver (lib/dataplane/nft/). */
export interface NftDriverLike {
  observe(): Promise<unknown>;
  /** Loads the whole table atomically. Rejects, or returns errors, when the kernel refused it. */
  apply(table: NftTablePlan): Promise<NftApplyOutcome | void>;
}

interface NftApplyOutcome {
  readonly writes?: number;
  readonly errors?: readonly unknown[];
}

/** What the Dataplane needs from the GARP/NA announcer (lib/dataplane/announcer/). */
export interface AnnouncerHook {
  announce(ip: string, ifname: string): unknown;
  withdraw(ip: string, ifname?: string): unknown;
}

export type Subsystem = 'sysctls' | 'links' | 'routes' | 'nft' | 'addresses' | 'announcer';

export interface SubsystemReport {
  readonly writes: number;
  readonly errors: readonly ApplyError[];
  /** Steps not run, and why (e.g. everything after a failed nft load, EIPs of an incomplete apply). */
  readonly skipped: readonly string[];
  /** Time spent in this subsystem's own steps; steps that ran in parallel with others overlap. */
  readonly durationMs: number;
}

export interface ApplyReport {
  readonly subsystems: Readonly<Record<Subsystem, SubsystemReport>>;
  /** Planned sysctl keys this kernel does not have (after the tunnel device was created). */
  readonly missingSysctls: readonly string[];
  /**
   * The guards (nft), the tunnel, the sysctls and the routes all applied without an error. Only
   * then are EIPs added and announced; see EIP_HOLD_LIMIT for the EIPs held when this is false.
   */
  readonly complete: boolean;
  /** Consecutive applies, this one included, that were not complete; 0 when this one was. */
  readonly failedApplies: number;
  readonly announced: readonly string[];
  readonly withdrawn: readonly string[];
  /**
   * The egress IPs on their interfaces after this apply, sorted: what this node may tell its peers
   * it holds. Planned EIPs another LAN host answers for (eipConflicts) are not among them.
   */
  readonly held: readonly string[];
  /** With duplicate address detection: planned EIPs another host on the LAN answers for, not added (EipClaims). */
  readonly eipConflicts?: readonly EipConflict[];
  readonly writes: number;
  readonly ok: boolean;
  readonly durationMs: number;
}

export interface ObservedDataplane {
  readonly sysctls: readonly ObservedSysctl[];
  readonly links: ObservedLinks;
  readonly routes: ObservedRouting;
  readonly addresses: ObservedAddresses;
  /** Whatever the nft driver's observe() returned; diffPlan does not read it. */
  readonly nft?: unknown;
}
