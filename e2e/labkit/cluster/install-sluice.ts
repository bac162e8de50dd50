/**
 * sluice's life cycle in a lab brought up with `agents: false`, as an operator goes through it:
 * install (`kubectl apply -k manifests/`: the controller replicas, then an agent per node),
 * uninstall (`kubectl delete` of the DaemonSet and the Deployment: every process stops as its pod
 * would, with SIGTERM, and leaves its kernel state behind), and `sluice cleanup` in a node as the
 * cleanup DaemonSet (manifests/cleanup) runs it.
 */
import type { DaemonSpec } from '../daemons.js';
import { agentRole } from '../plugins.js';
import type { RunOptions, RunResult } from '../run.js';
import type { AgentRunSpec, LabState, NodeState } from '../state.js';
import { agentDaemon, agentMain, containerArgv, nodeStateDir } from './agent-daemon.js';
import { controllerDaemon, controllerRoles } from './controller-daemon.js';

export interface SluiceLab {
  state(): Promise<LabState>;
  addDaemon(spec: DaemonSpec): Promise<void>;
  stopDaemon(role: string): Promise<void>;
  exec(target: { node: string }, argv: readonly string[], opts?: Omit<RunOptions, 'netns'>): Promise<RunResult>;
}

export async function installSluice(lab: SluiceLab): Promise<void> {
  const s = await lab.state();
  const roles = new Set([...controllerRoles(), ...s.nodes.map((n) => agentRole(n.name))]);
  if (s.daemons.some((d) => roles.has(d.role))) throw new Error(`lab ${s.name} already runs sluice`);
  if (!s.agent?.inProcessController) await Promise.all(controllerRoles().map((_role, i) => lab.addDaemon(controllerDaemon(s, i + 1, s.agent))));
  await Promise.all(s.nodes.filter((n) => !n.failed).map((n) => lab.addDaemon(agentDaemon(s, n, s.agent))));
}

/** Stops every agent and controller replica; what they programmed stays in the kernel. */
export async function uninstallSluice(lab: SluiceLab): Promise<void> {
  const s = await lab.state();
  const roles = [
    ...controllerRoles().filter((r) => s.daemons.some((d) => d.role === r)),
    ...s.nodes.map((n) => agentRole(n.name)).filter((r) => s.daemons.some((d) => d.role === r)),
  ];
  await Promise.all(roles.map((r) => lab.stopDaemon(r)));
}

export interface CleanupRun {
  /** The cleanup container's capabilities (manifests/cleanup), as setpriv names them. */
  readonly capabilities: readonly string[];
  readonly args?: readonly string[];
  readonly spec?: AgentRunSpec;
}

/** `sluice cleanup` in a node: the node's --state-dir, and /proc/sys read-only with its /proc/sys/net under --sysctl-root. */
export async function cleanupNode(lab: SluiceLab, node: NodeState, run: CleanupRun): Promise<RunResult> {
  const s = await lab.state();
  const argv = [process.execPath, agentMain(run.spec), 'cleanup', '--state-dir', nodeStateDir(s, node), ...(run.args ?? [])];
  return lab.exec({ node: node.name }, containerArgv(s, node, { capabilities: [...run.capabilities], containerProcSys: true }, argv), { allowFailure: true, timeoutMs: 60_000 });
}
