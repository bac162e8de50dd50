/**
 * Extension points for what runs on top of the network: the test API server (control namespace) and
 * one sluice agent per node (see cluster/cluster-plugin.ts). A plugin is named so separate CLI invocations can load the same set
 * (recorded in the lab state at `up`); register the factory in builtin-plugins.ts.
 *
 * Order: afterNetwork → nodeAdded (every node at once; for each node in plugin order) → ready, while
 * the echo service starts alongside. Hooks run in plugin order, under the lab's lock; a failing hook fails the command (and `up` then tears the lab down). beforeDown is best
 * effort: down continues, and kills every process in the lab's namespaces anyway.
 */
import type { DaemonSpec, StopOptions } from './daemons.js';
import type { PodInfo } from './info.js';
import type { RunOptions, RunResult } from './run.js';
import type { LabState, NodeState, PodRef, PodState } from './state.js';

/** Daemon roles the CLI knows: `apiserver-down/up` and `restart-agent` act on these. */
export const API_SERVER_ROLE = 'apiserver';
export const agentRole = (node: string) => `agent:${node}`;

export interface PodSpec {
  namespace: string;
  name: string;
  labels?: Record<string, string>;
  /** Default: the worker with fewest pods (any node when there are no workers). */
  node?: string;
}

/** What a pod-owning plugin gets: the lab without its lock (the plugin's own daemons may need the lock). */
export interface LabHandle {
  readonly name: string;
  readonly dir: string;
  state(): Promise<LabState>;
}

export interface LabContext {
  /** Live state; read it, change it only through the methods below. */
  readonly state: Readonly<LabState>;
  /** Directory for logs and files such as a kubeconfig. */
  readonly logDir: string;
  /** Published in `info` as apiServer / kubeconfig. */
  setControlPlane(endpoint: { apiServer: string | null; kubeconfig: string | null }): void;
  /** Starts a background process in a lab namespace and records it (restartable by role). */
  startDaemon(spec: DaemonSpec): Promise<void>;
  /** Starts a recorded daemon that is not running (e.g. after stopDaemon); waits for its ready line. */
  startRecordedDaemon(role: string): Promise<void>;
  stopDaemon(role: string, opts?: StopOptions): Promise<void>;
  /** Signals a running daemon's process, optionally waiting until its log shows it acted. */
  signalDaemon(role: string, signal: NodeJS.Signals, opts?: { waitForLogLine?: string; timeoutMs?: number }): Promise<void>;
  /** Runs a command to completion, optionally inside a namespace. */
  run(argv: readonly string[], opts?: RunOptions): Promise<RunResult>;
}

export interface LabPlugin {
  readonly name: string;
  /** The LAN and nodes exist (the echo service may still be starting); e.g. start the API server in `state.netns.control`. */
  afterNetwork?(ctx: LabContext): Promise<void>;
  /** e.g. register the Node object, start the node's agent (role agentRole(node.name)). */
  nodeAdded?(ctx: LabContext, node: NodeState): Promise<void>;
  /** The pod's namespace is wired and has its addresses (made by the lab, or by a pod-owning plugin's kubelet). */
  podAdded?(ctx: LabContext, pod: PodState): Promise<void>;
  podDeleted?(ctx: LabContext, pod: PodState): Promise<void>;
  /**
   * A plugin that owns pods (the cluster plugin: Pod objects that its kubelet turns into namespaces) takes
   * over Lab.addPod / deletePod. Called without the lab's lock; resolves once the pod is up (gone).
   */
  addPod?(lab: LabHandle, spec: PodSpec): Promise<PodInfo>;
  deletePod?(lab: LabHandle, ref: PodRef): Promise<void>;
  /** Fault hooks behind `apiserver-down` / `apiserver-up`; without them the lab stops/starts role `apiserver`. */
  apiServerDown?(ctx: LabContext): Promise<void>;
  apiServerUp?(ctx: LabContext): Promise<void>;
  /** The node's LAN link was cut at the bridge (the node itself is not told). */
  nodeFailed?(ctx: LabContext, node: NodeState): Promise<void>;
  nodeHealed?(ctx: LabContext, node: NodeState): Promise<void>;
  beforeDown?(ctx: LabContext): Promise<void>;
}

export type LabPluginFactory = () => LabPlugin;
