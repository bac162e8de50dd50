/**
 * Whether a freshly computed plan must go to the kernel. Most API changes (a policy of another
 * node, a status write, a rejected object) leave this node's plan as it was; applying it anyway
 * would re-read every kernel subsystem (several `ip` processes) on every change, which under a
 * burst of changes starves the agent's event loop, and with it the controller's Lease renewals.
 * So an unchanged plan is applied only on a periodic resync, which is also what repairs drift
 * made behind sluice's back.
 */
import { createHash } from 'node:crypto';

export const RESYNC_REASON = 'resync';

export class ApplyGate {
  /** The plan last applied without errors (its fingerprint). */
  #applied: string | undefined;

  /**
   * A digest of the plan's canonical form: the planner is deterministic, so equal plans give equal
   * text. Not the text itself: at 20k endpoints that is megabytes, held by the memo and the gate.
   */
  static fingerprint(plan: unknown): string {
    return createHash('sha256').update(JSON.stringify(plan)).digest('base64');
  }

  shouldApply(fingerprint: string, reasons: ReadonlySet<string>): boolean {
    return fingerprint !== this.#applied || reasons.has(RESYNC_REASON);
  }

  /** Records the outcome: only a clean apply may be skipped next time. */
  applied(fingerprint: string, ok: boolean): void {
    this.#applied = ok ? fingerprint : undefined;
  }
}
