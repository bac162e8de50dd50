import type { ApplyReport } from '../../lib/dataplane/dataplane-types.js';
import { probeNftStructure, type NftProbe } from '../../lib/dataplane/nft-structure-probe.js';
import type { NftTablePlan } from '../../lib/planner/node-plan.js';
import type { Metrics } from '../../lib/metrics/metrics.js';
import { RESYNC_REASON } from './apply-gate.js';
import type { KernelChangeCounter } from './kernel-changes.js';

/** The reason the periodic resync triggers a reconcile with (the apply gate lets an unchanged plan through on it). */
export { RESYNC_REASON };

/**
 * Every this many resyncs, everything is read and diffed in full (nft set elements too) even when
 * the cheap probes found nothing changed: every 5 minutes at the default interval of 60 s.
 */
export const FULL_NFT_CHECK_EVERY = 5;

export interface NftMemory {
  /** Makes the next apply diff against the kernel instead of what the driver last applied. */
  forget(): void;
}

/** One resync in progress: count it (and what it repaired) once the apply reports. */
export interface ResyncRun {
  readonly nft: NftProbe | 'full';
  /**
   * Whether the apply reads links, routes, addresses and sysctls again (ApplyOptions.full). False
   * only when the kernel reported no change to them since the last full read that applied cleanly:
   * a resync of an idle node then starts no process at all.
   */
  readonly full: boolean;
  done(report: ApplyReport | undefined, metrics: Metrics): void;
}

/**
 * The periodic resync: every interval the node agent re-applies its current plan, which repairs
 * whatever was changed behind its back (a deleted rule, route or table, a device changed by hand).
 * Links, routes, rules, addresses and sysctls are read from the kernel on every apply anyway; nft
 * keeps what it applied in memory, so a resync first probes the table over netlink and makes the
 * driver diff against the kernel only when the probe saw drift, or in full every
 * FULL_NFT_CHECK_EVERY resyncs (set elements are only seen by a full listing). Likewise the
 * iproute2 subsystems are read again only when `kernel` (an rtnetlink monitor) counted a change
 * since the last clean full read, when a repair was asked for, or every FULL_NFT_CHECK_EVERY resyncs
 * (neighbour and FDB entries, which the monitor leaves out).
 */
export class Resync {
  readonly #timer: NodeJS.Timeout | undefined;
  #count = 0;
  /** The kernel's change count when the last full read that applied cleanly began. */
  #cleanAt: number | undefined;
  #repair = false;

  constructor(
    intervalMs: number,
    trigger: () => void,
    private readonly probe: (table: NftTablePlan) => NftProbe = probeNftStructure,
    private readonly kernel?: KernelChangeCounter,
  ) {
    if (intervalMs > 0) {
      this.#timer = setInterval(trigger, intervalMs);
      this.#timer.unref();
    }
  }

  /** Before an apply: undefined unless `reasons` holds a resync; then prepares nft for it. */
  begin(reasons: ReadonlySet<string>, table: NftTablePlan, nft: NftMemory): ResyncRun | undefined {
    if (!reasons.has(RESYNC_REASON)) return undefined;
    this.#count++;
    const periodic = this.#count % FULL_NFT_CHECK_EVERY === 0;
    const probe: NftProbe | 'full' = periodic ? 'full' : this.probe(table);
    if (probe === 'full' || !probe.intact) nft.forget();
    const generation = this.kernel?.generation();
    const full = periodic || this.#repair || generation === undefined || generation !== this.#cleanAt;
    this.#repair = false;
    if (full) this.#cleanAt = undefined;
    // Writes of a resync that coincided with a cluster change may be the change's, not drift.
    const alone = reasons.size === 1;
    const settle = (ok: boolean) => {
      if (!ok) this.#cleanAt = undefined;
      else if (full && generation !== undefined) this.#cleanAt = generation;
    };
    return {
      nft: probe,
      full,
      done(report, metrics) {
        settle(report?.ok ?? false);
        const writes = report && alone ? Object.fromEntries(Object.entries(report.subsystems).map(([name, r]) => [name, r.writes])) : {};
        metrics.resynced(report?.ok ? 'ok' : 'error', writes);
      },
    };
  }

  /** The next resync reads everything (a change was seen that the kernel counter may not have counted yet). */
  repairNext(): void {
    this.#repair = true;
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
