/**
 * Before a scenario or a benchmark trial breaks a gateway: every node's probes find the other
 * gateways fit (see probe-state.ts), so a node healed or restarted a moment ago is past its hold-down
 * and breaking the other gateway is not a double failure. Agents that do not probe are not waited for.
 */
import { allSettledOrThrow, type Lab } from '../../labkit/lab.js';
import { agentStatus, fitByProbes, STATUS_POLL_MS } from './probe-state.js';
import { waitFor } from './wait.js';

export async function waitGatewaysFit(lab: Lab, gateways: readonly string[], timeoutMs = 30_000): Promise<void> {
  // Every node at once, one read of its /status per look: the nodes do not wait for each other.
  await allSettledOrThrow(
    (await lab.info()).nodes.map(({ name }) => {
      const others = gateways.filter((g) => g !== name);
      return waitFor(
        `${others.join(', ')} fit by ${name}'s probes`,
        timeoutMs,
        async () => {
          const status = await agentStatus(lab, name);
          // no answer yet: wait for it like for any other; an answer without liveness: an agent that does not probe
          return status && (status.liveness === undefined || fitByProbes(status, others)) ? true : undefined;
        },
        STATUS_POLL_MS,
      );
    }),
  );
}
