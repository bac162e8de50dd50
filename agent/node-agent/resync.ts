import type { ApplyReport } from '../../lib/dataplane/dataplane-types.js';
import { probeNftStructure, type NftProbe } from '../../lib/dataplane/nft-structure-probe.js';
import type { NftTablePlan } from '../../lib/planner/node-plan.js';
import type { Metrics } from '../../lib/metrics/metrics.js';
import { RESYNC_REASON } from './apply-gate.js';

/** The reason the periodic resync triggers a reconcile with (the apply gate lets an unchanged plan through on it). */
export { RESYNC_REASON };

/**
 * Every this many resyncs, nft is diffed in full (set elements too) even when the cheap probe found
 * the structure intact: every 5 minutes at the default interval of 60 s.
 */
export const FULL_NFT_CHECK_EVERY = 5;

export interface NftMemory {
  /** Makes the next apply diff against the kernel instead of what the driver last applied. */
  forget(): void;
}

/** One resync in progress: count it (and what it repaired) once the apply reports. */
export interface ResyncRun {
  readonly nft: NftProbe | 'full';
  done(report: ApplyReport | undefined, metrics: Metrics): void;
}

/**
 * The periodic resync: every interval the node agent re-applies its current plan, which repairs
 * whatever was changed behind its back (a deleted rule, route or table, a device changed by hand).
 * Links, routes, rules, addresses and sysctls are read from the kernel on every apply anyway; nft
 * keeps what it applied in memory, so a resync first probes the table over netlink and makes the
 * driver diff against the kernel only when the probe saw drift, or in full every
 * FULL_NFT_CHECK_EVERY resyncs (set elements are only seen by a full listing).
 */
export class Resync {
  readonly #timer: NodeJS.Timeout | undefined;
  #count = 0;

  constructor(
    intervalMs: number,
    trigger: () => void,
    private readonly probe: (table: NftTablePlan) => NftProbe = probeNftStructure,
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
    const probe: NftProbe | 'full' = this.#count % FULL_NFT_CHECK_EVERY === 0 ? 'full' : this.probe(table);
    if (probe === 'full' || !probe.intact) nft.forget();
    // Writes of a resync that coincided with a cluster change may be the change's, not drift.
    const alone = reasons.size === 1;
    return {
      nft: probe,
      done(report, metrics) {
        const writes = report && alone ? Object.fromEntries(Object.entries(report.subsystems).map(([name, r]) => [name, r.writes])) : {};
        metrics.resynced(report?.ok ? 'ok' : 'error', writes);
      },
    };
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
