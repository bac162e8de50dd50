import { mkdir, open, readdir, readFile, rename, rm, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { assertLabName } from './names.js';
import type { LabState } from './state.js';

/** Where labs keep state: $SLUICE_LAB_DIR or /run/sluice-lab (tmpfs: stale state dies with the machine). */
export function labBaseDir(): string {
  return process.env['SLUICE_LAB_DIR'] || '/run/sluice-lab';
}

export function labDir(name: string, baseDir = labBaseDir()): string {
  assertLabName(name);
  return join(baseDir, name);
}

const stateFile = (dir: string) => join(dir, 'state.json');

export async function loadState(dir: string): Promise<LabState | undefined> {
  try {
    return JSON.parse(await readFile(stateFile(dir), 'utf8')) as LabState;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Atomic replace, so a reader never sees half a file. */
export async function saveState(state: LabState): Promise<void> {
  await mkdir(state.stateDir, { recursive: true });
  const tmp = `${stateFile(state.stateDir)}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(state, null, 2) + '\n');
  await rename(tmp, stateFile(state.stateDir));
}

export async function removeStateDir(dir: string, keepLogs: boolean): Promise<void> {
  if (!keepLogs) {
    await rm(dir, { recursive: true, force: true });
    return;
  }
  for (const f of await readdir(dir).catch(() => [] as string[])) {
    if (f !== 'logs') await rm(join(dir, f), { recursive: true, force: true });
  }
}

/** Other labs' prefixes under the same base dir, to refuse a hash collision instead of sharing names. */
export async function prefixesInUse(baseDir: string, exceptName: string): Promise<Map<string, string>> {
  const used = new Map<string, string>();
  for (const entry of await readdir(baseDir).catch(() => [] as string[])) {
    if (entry === exceptName) continue;
    const s = await loadState(join(baseDir, entry)).catch(() => undefined);
    if (s) used.set(s.prefix, s.name);
  }
  return used;
}

const LOCK_WAIT_MS = 60_000;

export class LabLockedError extends Error {
  constructor(dir: string, owner: number, waitMs: number) {
    super(`lab state ${dir} is locked by pid ${owner} for over ${waitMs} ms`);
    this.name = 'LabLockedError';
  }
}

export class LabGoneError extends Error {
  constructor(dir: string) {
    super(`lab state ${dir} was removed while waiting for its lock`);
    this.name = 'LabGoneError';
  }
}

/**
 * Serialises CLI invocations and in-process calls on one lab (pod IP allocation, daemon records).
 * A lock whose owner process is gone is taken over. Not re-entrant: never nest.
 */
export async function withLock<T>(dir: string, fn: () => Promise<T>, waitMs = LOCK_WAIT_MS): Promise<T> {
  await mkdir(dir, { recursive: true });
  const lock = join(dir, 'lock');
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const fh = await open(lock, 'wx');
      await fh.writeFile(String(process.pid));
      await fh.close();
      break;
    } catch (err) {
      // Its holder took the lab down meanwhile (the directory with it): nothing is left to lock.
      // Not made again: the holder may still be removing it.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new LabGoneError(dir);
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(await readFile(lock, 'utf8').catch(() => ''));
      // An empty file is a lock being written right now, unless it has been empty for a while.
      const stale = owner > 0 ? !isAlive(owner) : await olderThan(lock, 2_000);
      if (stale) {
        await unlink(lock).catch(() => undefined);
        continue;
      }
      if (Date.now() > deadline) throw new LabLockedError(dir, owner, waitMs);
      await sleep(25);
    }
  }
  try {
    return await fn();
  } finally {
    await unlink(lock).catch(() => undefined);
    // Empty once the lock is gone: the lab was taken down (also a second time, or by two downs at
    // once) or never made. Fails harmlessly while anything is left, logs or another caller's lock.
    await rmdir(dir).catch(() => undefined);
  }
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function olderThan(path: string, ms: number): Promise<boolean> {
  const st = await stat(path).catch(() => undefined);
  return st === undefined || Date.now() - st.mtimeMs > ms;
}
