/**
 * What sluice changed in the node's sysctls, so `sluice cleanup` can put back what it found. The
 * agent records a key before its first write (the value it found, and the value it sets); cleanup
 * restores a key only while it still holds sluice's value, so a later change by anyone else wins.
 * A JSON file on the host (the DaemonSet's /var/lib/sluice): it must outlive the agent's
 * container. Without it, cleanup leaves sysctls as they are and says so.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { EgressError, errorMessage } from '../errors.js';
import { sameSysctlValue } from './sysctl/sysctl-path.js';
import type { SysctlChange } from './sysctl/sysctl-driver.js';

export const SYSCTL_JOURNAL_FILE = 'sysctls.json';
export const DEFAULT_STATE_DIR = '/var/lib/sluice';

interface JournalEntry {
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
   * Called before `changes` are written: records each key with the value it holds now (kept from
   * the first time sluice changed the key) and the value sluice is about to write. Writes the
   * file only when that adds or changes an entry.
   */
  async record(changes: readonly SysctlChange[]): Promise<void> {
    this.#known ??= await this.read();
    const known = this.#known;
    const at = new Date().toISOString();
    const next: Record<string, JournalEntry> = { ...known };
    let changed = false;
    for (const { key, from, to } of changes) {
      const prior = known[key];
      if (prior && sameSysctlValue(prior.set, to)) continue;
      next[key] = { before: prior?.before ?? from.trim(), set: to, at };
      changed = true;
    }
    if (changed) await this.write(next);
  }

  /** Replaces the journal (atomically: a new file renamed over the old one). */
  async write(journal: Journal): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.tmp`;
    await writeFile(tmp, `${JSON.stringify({ version: 1, sysctls: journal } satisfies JournalFile, null, 2)}\n`);
    await rename(tmp, this.path);
    this.#known = journal;
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
      // every key sluice writes is under net. and holds integers; anything else was not written by sluice
      if (!/^net(\.[A-Za-z0-9_-][A-Za-z0-9_/-]*)+$/.test(key) || !NUMERIC.test(String(e?.before)) || !NUMERIC.test(String(e?.set))) return undefined;
      out[key] = { before: String(e.before), set: String(e.set), at: String(e.at ?? '') };
    }
    return out;
  } catch {
    return undefined;
  }
}
