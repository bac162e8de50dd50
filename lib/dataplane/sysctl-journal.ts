/**
 * What sluice changed in the node's sysctls, so `sluice cleanup` can put back what it found. The
 * agent records a key before its first write (the value it found, and the value it sets); cleanup
 * restores a key only while it still holds sluice's value, so a later change by anyone else wins.
 * A JSON file on the host (the DaemonSet's /var/lib/sluice): it must outlive the agent's
 * container. Without it, cleanup leaves sysctls as they are and says so.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { SysctlEntry } from '../planner/node-plan.js';
import { EgressError, errorMessage } from '../errors.js';
import { sameSysctlValue } from './sysctl/sysctl-path.js';
import type { ObservedSysctl } from './sysctl/sysctl-driver.js';

export const SYSCTL_JOURNAL_FILE = 'sysctls.json';
export const DEFAULT_STATE_DIR = '/var/lib/sluice';

export interface JournalEntry {
  /** The value before sluice first wrote the key. */
  readonly before: string;
  /** What sluice wrote last. */
  readonly set: string;
  readonly at: string;
}

export type Journal = Readonly<Record<string, JournalEntry>>;

interface JournalFile {
  readonly version: 1;
  readonly sysctls: Journal;
}

/**
 * Packet forwarding: the node's pod network needs it on (kubelet, kube-proxy and every CNI do), so
 * cleanup turns it back off only when asked to.
 */
export function isForwardingKey(key: string): boolean {
  return key === 'net.ipv4.ip_forward' || /^net\.ipv[46]\.conf\.[^.]+\.forwarding$/.test(key);
}

export class SysctlJournal {
  readonly path: string;
  #known: Journal | undefined;

  constructor(stateDir: string) {
    this.path = join(stateDir, SYSCTL_JOURNAL_FILE);
  }

  /** Empty when there is no journal; throws EGW_ERR_INPUT when it cannot be read or parsed. */
  async read(): Promise<Journal> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw new EgressError('EGW_ERR_INPUT', `${this.path}: ${errorMessage(err)}`, { cause: err });
    }
    const parsed = parseJournal(text);
    if (!parsed) throw new EgressError('EGW_ERR_INPUT', `${this.path}: not a sluice sysctl journal`);
    return parsed;
  }

  /**
   * Before an apply writes `entries`: records each key whose current value differs from the
   * planned one (sluice is about to change it). A key already recorded keeps its first `before`.
   * Writes the file only when something new is recorded.
   */
  async recordBefore(entries: readonly SysctlEntry[], observe: (keys: string[]) => Promise<readonly ObservedSysctl[]>): Promise<void> {
    this.#known ??= await this.read();
    const known = this.#known;
    const current = new Map((await observe(entries.map((e) => e.key))).map((o) => [o.key, o.value]));
    const at = new Date().toISOString();
    const next: Record<string, JournalEntry> = { ...known };
    let changed = false;
    for (const { key, value } of entries) {
      const now = current.get(key);
      if (now === undefined || sameSysctlValue(now, value)) continue;
      const prior = known[key];
      if (prior && sameSysctlValue(prior.set, value)) continue;
      next[key] = { before: prior?.before ?? now.trim(), set: value, at };
      changed = true;
    }
    if (!changed) return;
    await mkdir(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.tmp`;
    await writeFile(tmp, `${JSON.stringify({ version: 1, sysctls: next } satisfies JournalFile, null, 2)}\n`);
    await rename(tmp, this.path);
    this.#known = next;
  }

  async remove(): Promise<void> {
    await rm(this.path, { force: true });
    this.#known = {};
  }
}

const NUMERIC = /^-?\d+([ \t]+-?\d+)*$/;

function parseJournal(text: string): Journal | undefined {
  try {
    const v = JSON.parse(text) as Partial<JournalFile>;
    if (v.version !== 1 || typeof v.sysctls !== 'object' || v.sysctls === null) return undefined;
    const out: Record<string, JournalEntry> = {};
    for (const [key, e] of Object.entries(v.sysctls)) {
      // every key sluice writes holds integers; anything else was not written by sluice
      if (!/^[a-z0-9_./-]+$/i.test(key) || !NUMERIC.test(String(e?.before)) || !NUMERIC.test(String(e?.set))) return undefined;
      out[key] = { before: String(e.before), set: String(e.set), at: String(e.at ?? '') };
    }
    return out;
  } catch {
    return undefined;
  }
}
