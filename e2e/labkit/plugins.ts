/**
 * Extension points for what runs on top of the network: the test API server (control namespace) and
 * one sluice agent per node. A plugin is named so separate CLI invocations can load the same set
 * (recorded in the lab state at `up`); register the factory in builtin-plugins.ts.
 *
 * Order: afterNetwork → nodeAdded (each node) → ready. Hooks run in plugin order, under the lab's
 * lock; a failing hook fails the command (and `up` then tears the lab down). beforeDown is best
 * effort: down continues, and kills every process in the lab's namespaces anyway.
 */
import type { DaemonSpec } from './daemons.js';
import type { RunOptions, RunResult } from './run.js';
import type { LabState, NodeState, PodState } from './state.js';

/** Daemon roles the CLI knows: `apiserver-down/up` and `restart-agent` act on these. */
export const API_SERVER_ROLE = 'apiserver';
export const agentRole = (node: string) => `agent:${node}`;

export interface LabContext {
  /** Live state; read it, change it only through the methods below. */
  readonly state: Readonly<LabState>;
  /** Directory for logs and files such as a kubeconfig. */
  readonly logDir: string;
  /** Published in `info` as apiServer / kubeconfig. */
  setControlPlane(endpoint: { apiServer: string | null; kubeconfig: string | null }): void;
  /** Starts a background process in a lab namespace and records it (restartable by role). */
  startDaemon(spec: DaemonSpec): Promise<void>;
  stopDaemon(role: string): Promise<void>;
  /** Runs a command to completion, optionally inside a namespace. */
  run(argv: readonly string[], opts?: RunOptions): Promise<RunResult>;
}

export interface LabPlugin {
  readonly name: string;
  /** The LAN, nodes, echo service exist; e.g. start the API server in `state.netns.control`. */
  afterNetwork?(ctx: LabContext): Promise<void>;
  /** e.g. register the Node object, start the node's agent (role agentRole(node.name)). */
  nodeAdded?(ctx: LabContext, node: NodeState): Promise<void>;
  /** The pod has its addresses; e.g. create the Pod object with podIPs and labels. */
  podAdded?(ctx: LabContext, pod: PodState): Promise<void>;
  podDeleted?(ctx: LabContext, pod: PodState): Promise<void>;
  /** The node's LAN link was cut at the bridge (the node itself is not told). */
  nodeFailed?(ctx: LabContext, node: NodeState): Promise<void>;
  nodeHealed?(ctx: LabContext, node: NodeState): Promise<void>;
  beforeDown?(ctx: LabContext): Promise<void>;
}

export type LabPluginFactory = () => LabPlugin;
