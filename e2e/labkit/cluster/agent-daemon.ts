/** One `sluice agent` per node, in the node's namespace, talking to the API server over the LAN. */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { DaemonSpec } from '../daemons.js';
import { agentRole } from '../plugins.js';
import { run } from '../run.js';
import type { NodeState } from '../state.js';

export const AGENT_MAIN = fileURLToPath(new URL('../../../agent/main.js', import.meta.url));
export const AGENT_READY_LINE = '"msg":"agent ready"';
export const AGENT_LEASE_NAMESPACE = 'default';
export const AGENT_METRICS_ADDRESS = '127.0.0.1:9465';
export const TUNNEL_CIDR_V4 = '198.19.0.0/16';
export const TUNNEL_CIDR_V6 = 'fd00:198:19::/112';

export function agentDaemon(node: NodeState, kubeconfig: string): DaemonSpec {
  return {
    role: agentRole(node.name),
    netns: node.netns,
    argv: [
      process.execPath,
      AGENT_MAIN,
      'agent',
      '--node', node.name,
      '--kubeconfig', kubeconfig,
      '--lease-namespace', AGENT_LEASE_NAMESPACE,
      '--metrics-address', AGENT_METRICS_ADDRESS,
      '--tunnel-cidr-v4', TUNNEL_CIDR_V4,
      '--tunnel-cidr-v6', TUNNEL_CIDR_V6,
    ],
    readyLogLine: AGENT_READY_LINE,
    readyTimeoutMs: 30_000,
  };
}

/** Why agents cannot run from this build (no dist/agent/main.js, or it has no `agent` command), or undefined. */
export async function agentCommandMissing(): Promise<string | undefined> {
  if (!existsSync(AGENT_MAIN)) return `${AGENT_MAIN} does not exist (build first)`;
  const r = await run([process.execPath, AGENT_MAIN, 'agent', '--help'], { allowFailure: true, timeoutMs: 15_000 });
  return r.exitCode === 0 ? undefined : `${AGENT_MAIN} has no \`agent\` command yet`;
}
