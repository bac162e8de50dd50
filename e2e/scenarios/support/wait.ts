import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls probe until it returns a value. A probe that throws or returns undefined is tried again;
 * after timeoutMs the error names what was awaited and what the last attempt saw.
 */
export async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() + intervalMs > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what} (last: ${last})`);
    await sleep(intervalMs);
  }
}
