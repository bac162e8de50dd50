import { canonicalIp } from '../api/ip.js';
import type { EipPlan } from '../planner/node-plan.js';
import type { HeldAddress } from './addresses/address-types.js';

/**
 * How long a node keeps the EIPs it already holds while its applies fail. New EIPs are never
 * added by a failed apply; held ones are kept so that a transient failure (a busy netlink socket,
 * a device renamed under us) costs no outage, and withdrawn once the failure has lasted both this
 * many consecutive applies and this long, so that a node that cannot serve its EIPs lets go of
 * them and another node can take over. Both bounds must pass: a burst of quick retries alone does
 * not withdraw, and neither does a single failure after a long quiet spell.
 */
export interface EipHoldLimit {
  readonly failedApplies: number;
  readonly ms: number;
}

/** With the agent's retry backoff (1 s, 2 s, 4 s, … 60 s) this withdraws about 31 s after the first failure. */
export const EIP_HOLD_LIMIT: EipHoldLimit = Object.freeze({ failedApplies: 3, ms: 30_000 });

export interface StreakState {
  /** Consecutive applies, the current one included, that left the dataplane incomplete; 0 after a complete one. */
  readonly failedApplies: number;
  /** How long the streak has lasted, from its first failed apply. */
  readonly failingForMs: number;
  /** The streak has passed the limit: held EIPs go. */
  readonly expired: boolean;
}

/** Counts consecutive incomplete applies; one per Dataplane, so it lives as long as the agent. */
export class FailureStreak {
  #count = 0;
  #since = 0;

  constructor(private readonly limit: EipHoldLimit) {}

  record(complete: boolean, now: number): StreakState {
    if (complete) {
      this.#count = 0;
      return { failedApplies: 0, failingForMs: 0, expired: false };
    }
    if (this.#count === 0) this.#since = now;
    this.#count += 1;
    const failingForMs = now - this.#since;
    return { failedApplies: this.#count, failingForMs, expired: this.#count >= this.limit.failedApplies && failingForMs >= this.limit.ms };
  }
}

/** The planned EIPs this node already holds (as the address driver reports them present). */
export function alreadyHeld(eips: readonly EipPlan[], present: readonly HeldAddress[]): EipPlan[] {
  const held = new Set(present.map((p) => `${p.ip}|${p.ifname}`));
  return eips.filter((e) => {
    try {
      return held.has(`${canonicalIp(e.ip)}|${e.interface}`);
    } catch {
      return false; // not an address: the address driver reports it
    }
  });
}
