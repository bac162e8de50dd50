import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import type { SysctlEntry } from '../../planner/node-plan.js';
import { fromThrown, type ApplyError } from '../report.js';
import { PROC_SYS, sameSysctlValue, sysctlPath } from './sysctl-path.js';

/** A key as the kernel has it now; `value` is undefined when the file does not exist. */
export interface ObservedSysctl {
  readonly key: string;
  readonly value?: string;
}

export interface SysctlChange {
  readonly key: string;
  readonly from: string;
  readonly to: string;
}

export interface SysctlResult {
  readonly writes: number;
  readonly errors: readonly ApplyError[];
  /** Keys the kernel does not have (yet): module not loaded, device not created. Not an error. */
  readonly missing: readonly string[];
  readonly changed: readonly SysctlChange[];
}

/** Told what is about to change before it is written (the journal `sluice cleanup` restores from). */
export interface SysctlWriteJournal {
  record(changes: readonly SysctlChange[]): Promise<void>;
}

export interface SysctlDriverOptions {
  /** Where /proc/sys is; tests point it at a temporary folder. */
  readonly root?: string;
  readonly journal?: SysctlWriteJournal;
}

/** Reads and writes only the keys it is given; with a journal, each change is recorded before it is written. */
export class SysctlDriver {
  readonly #root: string;
  readonly #journal: SysctlWriteJournal | undefined;

  constructor(options: SysctlDriverOptions = {}) {
    this.#root = options.root ?? PROC_SYS;
    this.#journal = options.journal;
  }

  async observe(keys: readonly string[]): Promise<ObservedSysctl[]> {
    return Promise.all(
      keys.map(async (key): Promise<ObservedSysctl> => {
        const value = await this.#read(key);
        return value === undefined ? { key } : { key, value };
      }),
    );
  }

  /**
   * Writes each entry whose value differs. Idempotent: a second call writes nothing. A journal
   * that cannot be written is reported, and the values are written all the same: forwarding
   * matters more than restoring it one day.
   */
  async apply(entries: readonly SysctlEntry[]): Promise<SysctlResult> {
    const errors: ApplyError[] = [];
    const missing: string[] = [];
    const pending: SysctlChange[] = [];
    for (const { key, value } of entries) {
      try {
        const current = await this.#read(key);
        if (current === undefined) missing.push(key);
        else if (!sameSysctlValue(current, value)) pending.push({ key, from: current.trim(), to: value });
      } catch (err) {
        errors.push(fromThrown(`sysctl ${key}=${value}`, err, 'EGW_ERR_SYSCTL'));
      }
    }
    if (pending.length > 0 && this.#journal) {
      try {
        await this.#journal.record(pending);
      } catch (err) {
        errors.push(fromThrown(`record ${pending.map((c) => c.key).join(', ')} in the sysctl journal (sluice cleanup will not restore them)`, err, 'EGW_ERR_SYSCTL'));
      }
    }
    const changed: SysctlChange[] = [];
    for (const change of pending) {
      try {
        await writeFile(sysctlPath(change.key, this.#root), `${change.to}\n`);
        changed.push(change);
      } catch (err) {
        errors.push(fromThrown(`sysctl ${change.key}=${change.to}`, err, 'EGW_ERR_SYSCTL'));
      }
    }
    return { writes: changed.length, errors, missing, changed };
  }

  /**
   * A sysctl read never waits on a device; read at once, it costs a few system calls, where a
   * promise read takes four thread-pool round trips, each waiting for a CPU on a loaded node.
   */
  async #read(key: string): Promise<string | undefined> {
    try {
      return readFileSync(sysctlPath(key, this.#root), 'utf8');
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }
}

function isMissing(err: unknown): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && (err.code === 'ENOENT' || err.code === 'ENOTDIR');
}
