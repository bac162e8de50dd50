/** One `sluice agent` per node, in the node's namespace, talking to the API server over the LAN. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DaemonSpec } from '../daemons.js';
import { agentRole } from '../plugins.js';
import { run } from '../run.js';
import type { AgentRunSpec, LabState, NodeState } from '../state.js';
import { agentKubeconfigPath } from './api-gate-daemon.js';

/** This build's CLI; `up --agent-main` runs another tree's (e.g. the image's runtime tree). */
export const AGENT_MAIN = fileURLToPath(new URL('../../../agent/main.js', import.meta.url));
export const AGENT_READY_LINE = '"msg":"agent ready"';
/** Logged before the first apply: the line to wait for when an agent is not expected to get ready. */
export const AGENT_STARTING_LINE = '"msg":"agent starting"';
/** The Lease the controller replicas (or agents with --controller) elect with: manifests/' namespace. */
export const AGENT_LEASE_NAMESPACE = 'sluice-system';
/** As the DaemonSet runs it: metrics on the node IP, /status and /plan on loopback (the default). */
export const AGENT_METRICS_PORT = 9465;
export const AGENT_STATUS_URL = 'http://127.0.0.1:9466';
export const TUNNEL_CIDR_V4 = '198.19.0.0/16';
export const TUNNEL_CIDR_V6 = 'fd00:198:19::/112';

export function agentMain(spec: AgentRunSpec | undefined): string {
  return spec?.main ?? AGENT_MAIN;
}

/** Where a containerProcSys agent finds the node's /proc/sys/net (the DaemonSet's hostPath mount, under --sysctl-root). */
export function hostProcSysDir(s: Pick<LabState, 'stateDir'>, node: NodeState): string {
  return join(s.stateDir, 'host-proc-sys', node.name);
}

/** The node's host directory the DaemonSet mounts at /var/lib/sluice (the agent's --state-dir). */
export function nodeStateDir(s: Pick<LabState, 'stateDir'>, node: NodeState): string {
  return join(s.stateDir, 'node-state', node.name);
}

/**
 * A sluice command line in a node as a container runs it, wrapped as `spec` asks:
 * - containerProcSys: in the agent's own mount namespace (ip netns exec makes one), /proc/sys is
 *   read-only as container runtimes mount it, and the node's /proc/sys/net is bound writable
 *   under a directory passed as --sysctl-root, as the DaemonSet's hostPath volume does;
 * - capabilities: setpriv leaves uid 0 exactly these capabilities (bounding set, no inheritable
 *   or ambient ones) and sets no_new_privs, as `capabilities: {drop: [ALL], add: …}` with
 *   `allowPrivilegeEscalation: false` does. The child processes (iproute2) get the same set.
 */
export function containerArgv(s: Pick<LabState, 'stateDir'>, node: NodeState, spec: Pick<AgentRunSpec, 'capabilities' | 'containerProcSys'>, argv: readonly string[]): string[] {
  const procSys = spec.containerProcSys ? hostProcSysDir(s, node) : undefined;
  const capabilities = spec.capabilities
    ? ['setpriv', '--inh-caps=-all', '--ambient-caps=-all', `--bounding-set=-all${spec.capabilities.map((c) => `,+${c}`).join('')}`, '--no-new-privs', '--']
    : [];
  const mounts = procSys
    ? [
        'sh',
        '-c',
        'mkdir -p "$1/net" && mount --bind /proc/sys/net "$1/net" && mount --bind /proc/sys /proc/sys && mount -o remount,bind,ro /proc/sys && shift && exec "$@"',
        'container-proc-sys',
        procSys,
      ]
    : [];
  return [...mounts, ...capabilities, ...(procSys ? [...argv, '--sysctl-root', procSys] : argv)];
}

/** The agent's daemon: `sluice agent` as the DaemonSet runs it, wrapped as containerArgv says. */
export function agentDaemon(s: Pick<LabState, 'stateDir'>, node: NodeState, spec: AgentRunSpec = {}, readyLogLine = AGENT_READY_LINE): DaemonSpec {
  const agent = [
    process.execPath,
    agentMain(spec),
    'agent',
    '--node',
    node.name,
    // as the DaemonSet's ServiceAccount, through the lab's RBAC gate
    '--kubeconfig',
    agentKubeconfigPath(s),
    '--lease-namespace',
    AGENT_LEASE_NAMESPACE,
    '--metrics-address',
    `${node.ips[0]}:${AGENT_METRICS_PORT}`,
    '--tunnel-cidr-v4',
    TUNNEL_CIDR_V4,
    '--tunnel-cidr-v6',
    TUNNEL_CIDR_V6,
    // the node's own /var/lib/sluice: lab nodes share the host's file system
    '--state-dir',
    nodeStateDir(s, node),
    ...(spec.inProcessController ? ['--controller'] : []),
    ...(spec.args ?? []),
  ];
  return {
    role: agentRole(node.name),
    netns: node.netns,
    argv: containerArgv(s, node, spec, agent),
    readyLogLine,
    // Under a load of 20-30 on two cores Node takes ~20 s to load the agent, and its first apply
    // (which creates the tunnel device on every node) several more.
    readyTimeoutMs: 60_000,
  };
}

/** One answer per tree and process: labs that come up together ask once, not once each. */
const commandChecks = new Map<string, Promise<string | undefined>>();

/**
 * Why agents cannot run from this tree (no main.js, or it has no `agent` command), or undefined.
 * A `--help` that is merely slow (a loaded machine) is not taken for a missing command.
 */
export async function agentCommandMissing(spec?: AgentRunSpec): Promise<string | undefined> {
  const main = agentMain(spec);
  if (!existsSync(main)) return `${main} does not exist (build first)`;
  let check = commandChecks.get(main);
  if (!check) {
    check = run([process.execPath, main, 'agent', '--help'], { allowFailure: true, timeoutMs: 60_000 }).then((r) =>
      r.exitCode === 0 ? undefined : `${main} has no \`agent\` command yet`,
    );
    commandChecks.set(main, check);
  }
  return check;
}
