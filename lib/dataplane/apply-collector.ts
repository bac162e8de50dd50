import { performance } from 'node:perf_hooks';
import type { ErrorCode } from '../errors.js';
import type { Subsystem, SubsystemReport } from './dataplane-types.js';
import { fromThrown, type ApplyError, type StepResult } from './report.js';

/** Code for a thrown value that is not already an EgressError. */
const FALLBACK_CODE: Readonly<Record<Subsystem, ErrorCode>> = {
  sysctls: 'EGW_ERR_SYSCTL',
  links: 'EGW_ERR_NETLINK',
  routes: 'EGW_ERR_NETLINK',
  nft: 'EGW_ERR_NFT',
  addresses: 'EGW_ERR_NETLINK',
  announcer: 'EGW_ERR_ANNOUNCE_SEND',
};

/** Accumulates one apply's writes, errors, skipped steps and time spent per subsystem. */
export class Collector {
  readonly #reports = new Map<Subsystem, { writes: number; errors: ApplyError[]; skipped: string[]; durationMs: number }>();

  add(subsystem: Subsystem, step: StepResult): void {
    const r = this.#get(subsystem);
    r.writes += step.writes;
    r.errors.push(...step.errors);
  }

  skip(subsystem: Subsystem, why: string): void {
    this.#get(subsystem).skipped.push(why);
  }

  failed(...subsystems: readonly Subsystem[]): boolean {
    return subsystems.some((s) => this.#get(s).errors.length > 0);
  }

  /** Runs one step; a throw becomes that subsystem's error and the caller carries on. */
  async run<T>(subsystem: Subsystem, op: string, fn: () => Promise<T>): Promise<T | undefined> {
    const started = performance.now();
    try {
      return await fn();
    } catch (err) {
      this.add(subsystem, { writes: 0, errors: [fromThrown(op, err, FALLBACK_CODE[subsystem])] });
      return undefined;
    } finally {
      this.#get(subsystem).durationMs += performance.now() - started;
    }
  }

  /** Runs one write step and records its writes and errors; a throw is recorded too. */
  async step(subsystem: Subsystem, op: string, fn: () => Promise<StepResult>): Promise<void> {
    const result = await this.run(subsystem, op, fn);
    if (result) this.add(subsystem, result);
  }

  reports(): Record<Subsystem, SubsystemReport> {
    return {
      sysctls: this.#get('sysctls'),
      links: this.#get('links'),
      routes: this.#get('routes'),
      nft: this.#get('nft'),
      addresses: this.#get('addresses'),
      announcer: this.#get('announcer'),
    };
  }

  #get(subsystem: Subsystem) {
    let r = this.#reports.get(subsystem);
    if (!r) this.#reports.set(subsystem, (r = { writes: 0, errors: [], skipped: [], durationMs: 0 }));
    return r;
  }
}
