/** Shared bits of the lab's own tests. */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
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
