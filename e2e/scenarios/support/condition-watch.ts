/**
 * When a policy's conditions change, seen from next to the API server: a watch (curl in the lab's
 * control namespace, where the API server listens) whose events are stamped as they arrive. The
 * server pushes each change the moment it stores it, so the stamps measure the server's own
 * timeline to within a few milliseconds, finer than the 1 s of creationTimestamp and
 * lastTransitionTime.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { EgressPolicyWire } from '../../../lib/api/wire.js';
import { LOCAL_API_SERVER_URL } from '../../labkit/cluster/control-plane-daemons.js';
import type { Lab } from '../../labkit/lab.js';
import { waitFor } from './wait.js';

export interface StampedEvent {
  readonly type: string;
  readonly at: number;
  readonly object: EgressPolicyWire;
}

export interface PolicyWatch {
  readonly events: readonly StampedEvent[];
  /** The first event at or after `since` for which `match` holds. */
  first(match: (e: StampedEvent) => boolean, since?: number): StampedEvent | undefined;
  stop(): void;
}

const WATCH_SECONDS = 600;

/** Watches one EgressPolicy (by namespace and name) from now on; stop() ends the curl process. */
export async function watchPolicy(lab: Lab, namespace: string, name: string): Promise<PolicyWatch> {
  const s = await lab.state();
  const query = new URLSearchParams({ watch: 'true', fieldSelector: `metadata.name=${name}`, timeoutSeconds: String(WATCH_SECONDS) });
  const url = `${LOCAL_API_SERVER_URL}/apis/egress.sluice.dev/v1alpha1/namespaces/${namespace}/egresspolicies?${query}`;
  // -v: curl says on stderr when the server's answer began, i.e. when the watch is open
  const child: ChildProcess = spawn('ip', ['netns', 'exec', s.netns.control, 'curl', '-sSNv', '--max-time', String(WATCH_SECONDS + 5), url], { stdio: ['ignore', 'pipe', 'pipe'] });
  let open = false;
  createInterface({ input: child.stderr! }).on('line', (line) => {
    if (/^< HTTP\/[\d.]+ 200/.test(line)) open = true;
  });
  const events: StampedEvent[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const at = Date.now();
    try {
      const e = JSON.parse(line) as { type: string; object: EgressPolicyWire };
      events.push({ type: e.type, at, object: e.object });
    } catch {
      // not an event (an error text from curl): the waits below time out and say so
    }
  });
  try {
    await waitFor('the policy watch to open', 10_000, async () => {
      if (child.exitCode !== null) throw new Error(`curl exited ${child.exitCode}`);
      return open ? true : undefined;
    });
  } catch (err) {
    child.kill('SIGTERM');
    throw err;
  }
  return {
    events,
    first: (match, since = 0) => events.find((e) => e.at >= since && match(e)),
    stop: () => void child.kill('SIGTERM'),
  };
}

export function conditionOf(e: StampedEvent, type: string): { status: string; reason: string; message: string } | undefined {
  return e.object.status?.conditions?.find((c) => c.type === type);
}
