/** What a node's agent says of its peers' liveness (its /status, read inside the node). */
import type { AgentStatus } from '../../../agent/node-agent/agent-state.js';
import { AGENT_STATUS_URL } from '../../labkit/cluster/agent-daemon.js';
import type { Lab } from '../../labkit/lab.js';
import { waitFor } from './wait.js';

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
      const r = await lab.exec({ node: observer }, ['curl', '-s', '--max-time', '2', `${AGENT_STATUS_URL}/status`], { allowFailure: true });
      let status: AgentStatus;
      try {
        status = JSON.parse(r.stdout) as AgentStatus;
      } catch {
        return undefined;
      }
      const peers = status.liveness?.peers ?? [];
      return nodes.every((n) => peers.some((p) => p.node === n && p.alive && p.healthy && !p.draining)) ? true : undefined;
    },
    200,
  );
}
