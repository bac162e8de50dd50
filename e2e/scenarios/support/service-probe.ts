/** A request to a Service address, answered by the echo server in its backend pod. */
import { parseEchoReply } from '../../labkit/echo-client.js';
import type { EchoReply } from '../../labkit/echo-reply.js';
import type { ExecTarget, Lab } from '../../labkit/lab.js';
import { waitFor } from './wait.js';

export type ServiceReply = EchoReply;

const REQUEST_TIMEOUT_SEC = 2;
const WINDOW_MS = 5_000;

/** What the backend saw, from `curl URL` in the target; retried for a few seconds, then throws with curl's error. */
export async function serviceReply(lab: Lab, from: ExecTarget, url: string): Promise<ServiceReply> {
  return waitFor(`${JSON.stringify(from)} to get an answer from ${url}`, WINDOW_MS, async () => {
    const r = await lab.exec(from, ['curl', '-sS', '--max-time', String(REQUEST_TIMEOUT_SEC), url], { allowFailure: true, timeoutMs: (REQUEST_TIMEOUT_SEC + 3) * 1000 });
    if (r.exitCode !== 0) throw new Error(`curl exit ${r.exitCode}: ${r.stderr.trim()}`);
    return parseEchoReply(r.stdout, 'http');
  });
}
