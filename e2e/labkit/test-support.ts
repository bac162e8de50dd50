/** Shared bits of the lab's own tests. */
import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { inspect } from 'node:util';
import type { Lab } from './lab.js';
import { listNetns } from './netns.js';

/** node:test `skip` value for tests that create namespaces. */
export const needsRoot: string | false = process.getuid?.() === 0 ? false : 'skipped: needs root (creates network namespaces; run the suite as root)';

/** A state dir of the tests' own, so they never meet labs started by hand; lab names keep tests apart. */
export async function tempLabBase(): Promise<string> {
  const dir = join(tmpdir(), 'sluice-lab-tests');
  await mkdir(dir, { recursive: true });
  return dir;
}

/** Retries fn until it resolves or timeoutMs passes; rethrows the last error. */
export async function eventually<T>(fn: () => Promise<T>, timeoutMs: number, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() + intervalMs > deadline) throw err;
      await sleep(intervalMs);
    }
  }
}

export async function assertNoNetns(prefix: string): Promise<void> {
  assert.deepEqual(await listNetns(prefix), [], `namespaces with prefix ${prefix} left behind`);
}

/**
 * Runs fn; when it throws, the error that propagates ends with the last lines of the lab's daemon
 * logs, so a failure in a run nobody can repeat (a CI machine) says what the daemons saw.
 */
export async function withDaemonLogsOnFailure<T>(lab: () => Promise<Lab | undefined>, fn: () => Promise<T>, lines = 15): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const opened = await lab().catch(() => undefined);
    const daemons = opened ? (await opened.info().catch(() => undefined))?.daemons : undefined;
    if (!daemons) throw err;
    const tails = await Promise.all(
      daemons.map(async (d) => {
        const text = await readFile(d.log, 'utf8').catch((e: unknown) => `(no log: ${String(e)})`);
        return `--- ${d.role} (${d.running ? 'running' : 'stopped'}) ---\n${text.trimEnd().split('\n').slice(-lines).join('\n')}`;
      }),
    );
    const wrapped = new Error(err instanceof Error ? err.message : String(err));
    wrapped.stack = `${inspect(err)}\nthe lab's daemon logs, last ${lines} lines each:\n${tails.join('\n')}`;
    throw wrapped;
  }
}
