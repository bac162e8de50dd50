/**
 * Whether the gateways are fit again by the liveness probes, from the agents' logs (their
 * `/status` and metrics do not carry the probe view yet): a scenario or a benchmark trial breaks a
 * gateway only once every node counts the other gateways alive and no gateway agent is still in
 * its own hold-down after a start. Otherwise a node healed a moment ago is not eligible yet, and
 * breaking the other gateway would be a double failure.
 */
import { readFile } from 'node:fs/promises';
import type { Lab } from '../../labkit/lab.js';
import { agentRole } from '../../labkit/plugins.js';
import { waitFor } from './wait.js';

interface LogLine {
  time?: string;
  msg?: string;
  peer?: unknown;
  alive?: unknown;
  holdAtStartMs?: unknown;
}

/** What one agent's log says now: the last verdict per peer, and when its own start hold-down ends. */
export interface ProbeView {
  readonly probes: boolean;
  readonly alive: ReadonlyMap<string, boolean>;
  readonly holdEndsAt: number;
}

export function probeView(log: string): ProbeView {
  const alive = new Map<string, boolean>();
  let probes = false;
  let holdEndsAt = 0;
  for (const text of log.split('\n')) {
    if (!text.includes('by the probes') && !text.includes('liveness probes running')) continue;
    let l: LogLine;
    try {
      l = JSON.parse(text) as LogLine;
    } catch {
      continue;
    }
    if (l.msg === 'liveness probes running') {
      // A new process: its view starts afresh.
      probes = true;
      alive.clear();
      holdEndsAt = Date.parse(l.time ?? '') + (typeof l.holdAtStartMs === 'number' ? l.holdAtStartMs : 0);
    } else if (typeof l.peer === 'string' && typeof l.alive === 'boolean') alive.set(l.peer, l.alive);
  }
  return { probes, alive, holdEndsAt };
}

/**
 * Waits until no node's agent last called one of `gateways` dead and no gateway's agent is in its
 * start hold-down. At once when the agents do not probe.
 */
export async function waitPeersAlive(lab: Lab, gateways: readonly string[], timeoutMs = 30_000): Promise<void> {
  const s = await lab.state();
  const logs = s.nodes.map((n) => ({ node: n.name, log: s.daemons.find((d) => d.role === agentRole(n.name))?.log }));
  await waitFor(`every node to count ${gateways.join(', ')} alive by the probes`, timeoutMs, async () => {
    for (const { node, log } of logs) {
      if (!log) continue;
      const view = probeView(await readFile(log, 'utf8').catch(() => ''));
      if (!view.probes) continue;
      const dead = gateways.filter((g) => g !== node && view.alive.get(g) === false);
      if (dead.length) throw new Error(`${node} last called ${dead.join(', ')} dead`);
      if (gateways.includes(node) && Date.now() < view.holdEndsAt) throw new Error(`${node} is in its start hold-down`);
    }
    return true;
  });
}
