/** What a node's agent says of its peers' liveness (its /status, read inside the node). */
import type { AgentStatus } from '../../../agent/node-agent/agent-state.js';
import { AGENT_STATUS_URL } from '../../labkit/cluster/agent-daemon.js';
import type { Lab } from '../../labkit/lab.js';
import { waitFor } from './wait.js';

/** How often a node's /status is read while waiting: one read is a process in the node, about as long. */
export const STATUS_POLL_MS = 200;

/** The agent's /status on `node`, or undefined while it does not answer (starting, restarting). */
export async function agentStatus(lab: Lab, node: string): Promise<AgentStatus | undefined> {
  const r = await lab.exec({ node }, ['curl', '-s', '--max-time', '2', `${AGENT_STATUS_URL}/status`], { allowFailure: true });
  try {
    return JSON.parse(r.stdout) as AgentStatus;
  } catch {
    return undefined;
  }
}

/** Whether the status's probes find every node of `nodes` fit to carry egress IPs (alive, healthy, not draining). */
export function fitByProbes(status: AgentStatus, nodes: readonly string[]): boolean {
  const peers = status.liveness?.peers ?? [];
  return nodes.every((n) => peers.some((p) => p.node === n && p.alive && p.healthy && !p.draining));
}

/**
 * Until `observer`'s probes find every node of `nodes` fit to carry egress IPs (alive, healthy,
 * not draining). A restarted agent stays aside for the probes' hold-down (5 s): a scenario that
 * follows a restart and expects nothing to move waits for this first.
 */
export async function waitFitByProbes(lab: Lab, observer: string, nodes: readonly string[], timeoutMs = 30_000): Promise<void> {
  await waitFor(
    `${nodes.join(', ')} fit by ${observer}'s probes`,
    timeoutMs,
    async () => {
      const status = await agentStatus(lab, observer);
      return status && fitByProbes(status, nodes) ? true : undefined;
    },
    STATUS_POLL_MS,
  );
}
