import type { Logger } from 'pino';
import type { NodePlan } from '../../lib/planner/node-plan.js';
import { flushTargets } from '../../lib/dataplane/conntrack/flush-targets.js';
import { flushConntrack } from '../../lib/dataplane/conntrack/conntrack-flush.js';
import { execFile, type Exec } from '../../lib/dataplane/iproute/exec.js';

/**
 * After each successful apply, deletes the conntrack entries that would keep a path the apply
 * took away (flush-targets.ts): a deactivated policy's pods' external flows, and flows SNATed to an
 * egress IP this node let go. One flush at a time, in apply order, off the reconcile's path: an
 * entry lives on for the moment the flush takes, never for the entry's whole timeout.
 */
export class ConntrackCleanup {
  #queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly log: Logger,
    private readonly exec: Exec = execFile,
  ) {}

  afterApply(previous: NodePlan | undefined, next: NodePlan): void {
    const targets = flushTargets(previous, next);
    if (targets.pods.length === 0 && targets.eips.length === 0) return;
    this.#queue = this.#queue
      .then(async () => {
        const result = await flushConntrack(this.exec, targets);
        const fields = { op: 'conntrack', pods: targets.pods.map((p) => p.ip), eips: targets.eips.map((e) => e.ip), deleted: result.deleted };
        if (result.errors.length) this.log.warn({ ...fields, errors: result.errors }, 'conntrack entries of a removed path not all deleted');
        else this.log.info(fields, 'conntrack entries of a removed path deleted');
      })
      .catch((err: unknown) => this.log.warn({ op: 'conntrack', err: String(err) }, 'conntrack cleanup failed'));
  }

  /** Resolves once the flushes asked for so far are done. */
  idle(): Promise<void> {
    return this.#queue;
  }
}
