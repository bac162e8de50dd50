import type { SelfReport } from '../../lib/liveness/liveness-types.js';
import type { FenceState } from './fence.js';

/**
 * What this node says of itself in its probe answers, and whether it plans itself as fit to carry
 * egress IPs: the same judgement its peers make from those answers (fitByProbes), so both reach
 * the same owners. Healthy means its last apply did not fail (before the first one it is healthy,
 * as it plans itself fit: two gateway nodes starting together, each counting only itself fit,
 * would each take the same EIP and find the other answering for it). It steps aside (draining) while it
 * stops, while it hands every EIP it holds to other nodes, while fenced or rejoining, for the hold-down after a failed apply, so a node whose
 * applies fail now and then does not pull EIPs back and forth, and for the hold-down after it
 * starts (`holdAtStart`): peers that saw it die count it alive only a hold-down after they hear
 * it again, and a node that took itself for fit meanwhile would hold EIPs they gave to another.
 */
export class SelfState {
  /** Undefined before the first apply: the node plans itself fit, and its peers count it so. */
  #lastApplyOk: boolean | undefined;
  #lastFailureAt: number | undefined;
  #holds: readonly string[] = [];
  #stopping = false;
  /** Handing every egress IP it holds to other nodes (Handoff's `leaving`). */
  #leaving = false;

  /** When the hold-down after the start ends (Date.now()); 0 without one, or once it was ended early. */
  #startHoldUntil: number;

  constructor(
    private readonly holdDownMs: number,
    options: { readonly startedAt?: number; readonly holdAtStart?: boolean } = {},
  ) {
    this.#startHoldUntil = options.holdAtStart ? (options.startedAt ?? 0) + holdDownMs : 0;
  }

  applied(ok: boolean, holds: readonly string[], now: number): void {
    this.#lastApplyOk = ok;
    if (!ok) this.#lastFailureAt = now;
    this.#holds = [...holds].sort();
  }

  stop(): void {
    this.#stopping = true;
  }

  /** While it hands every egress IP it holds over (it left every nodeSelector, say): draining, as when it stops. Returns whether that changed. */
  leaving(on: boolean): boolean {
    if (this.#leaving === on) return false;
    this.#leaving = on;
    return true;
  }

  /** Whether the hold-down after the start is still running. */
  holdingAtStart(now: number): boolean {
    return now < this.#startHoldUntil;
  }

  /** Ends the hold-down after the start for good (no other node could carry what this one would). */
  endStartHold(): void {
    this.#startHoldUntil = 0;
  }

  get holds(): readonly string[] {
    return this.#holds;
  }

  #recovering(now: number): boolean {
    return now < this.#startHoldUntil || (this.#lastFailureAt !== undefined && now - this.#lastFailureAt < this.holdDownMs);
  }

  report(fence: FenceState, now: number): SelfReport {
    return { healthy: this.#lastApplyOk !== false, draining: this.#stopping || this.#leaving || fence !== 'open' || this.#recovering(now), holds: this.#holds };
  }

  /** Whether this node plans itself as one that may carry egress IPs. */
  fit(fence: FenceState, now: number): boolean {
    return this.#lastApplyOk !== false && !this.report(fence, now).draining;
  }

  /** When the hold-down (after the start or a failure) ends (the node must look again then), if one is running. */
  nextChangeAt(now: number): number | undefined {
    if (!this.#recovering(now)) return undefined;
    return Math.max(this.#startHoldUntil, this.#lastFailureAt === undefined ? 0 : this.#lastFailureAt + this.holdDownMs);
  }
}
