/** Lookups of a name in a pod, each followed at once by a connection to its answer (one process for all). */
import { fileURLToPath } from 'node:url';
import type { Lab } from '../../labkit/lab.js';
import type { CallOutcomeWord } from './lookup-and-call-program.js';

const PROGRAM = fileURLToPath(new URL('./lookup-and-call-program.js', import.meta.url));
const CALL_TIMEOUT_MS = 3000;

export interface LookupAndCall {
  /** The address the lookup gave ('-' when it failed). */
  ip: string;
  outcome: CallOutcomeWord;
}

/**
 * `count` lookups of `name` through the pod's resolver (getaddrinfo, as an application), each
 * followed at once by an HTTP call on a new connection to the echo at the address it gave.
 */
export async function lookupAndCall(lab: Lab, pod: string, name: string, count: number): Promise<LookupAndCall[]> {
  const { echo } = await lab.info();
  const r = await lab.exec({ pod }, [process.execPath, PROGRAM, name, String(echo.httpPort), String(count), String(CALL_TIMEOUT_MS)], {
    timeoutMs: 60_000 + count * 100,
  });
  return r.stdout
    .trim()
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const [ip = '', outcome = ''] = line.split(' ');
      return { ip, outcome: outcome as CallOutcomeWord };
    });
}

/** `ok: 998, refused: 2`. */
export function outcomeSummary(calls: readonly LookupAndCall[]): string {
  const counts = new Map<CallOutcomeWord, number>();
  for (const c of calls) counts.set(c.outcome, (counts.get(c.outcome) ?? 0) + 1);
  return [...counts].map(([o, n]) => `${o}: ${n}`).join(', ');
}
