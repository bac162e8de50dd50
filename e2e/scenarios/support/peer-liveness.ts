/**
 * Before a scenario or a benchmark trial breaks a gateway: every node's probes find the other
 * gateways fit (waitFitByProbes), so a node healed or restarted a moment ago is past its hold-down
 * and breaking the other gateway is not a double failure. Agents that do not probe are not waited for.
 */
import type { AgentStatus } from '../../../agent/node-agent/agent-state.js';
import { AGENT_STATUS_URL } from '../../labkit/cluster/agent-daemon.js';
import type { Lab } from '../../labkit/lab.js';
import { waitFitByProbes } from './probe-state.js';

async function probes(lab: Lab, node: string): Promise<boolean> {
  const r = await lab.exec({ node }, ['curl', '-s', '--max-time', '2', `${AGENT_STATUS_URL}/status`], { allowFailure: true });
  try {
    return (JSON.parse(r.stdout) as AgentStatus).liveness !== undefined;
  } catch {
    return true; // no answer yet: wait for it like for any other
  }
}

export async function waitGatewaysFit(lab: Lab, gateways: readonly string[], timeoutMs = 30_000): Promise<void> {
  for (const n of (await lab.info()).nodes.map((x) => x.name)) {
    if (await probes(lab, n))
      await waitFitByProbes(
        lab,
        n,
        gateways.filter((g) => g !== n),
        timeoutMs,
      );
  }
}
