/** The lab's persisted state: everything a later CLI invocation needs. JSON-serialisable. */
import type { ServiceState } from './kube-proxy/services.js';
import type { NetworkOptions } from './network-options.js';
import type { ProcessIdentity } from './reaper/process-identity.js';

export type NodeRole = 'worker' | 'gateway';

export interface NodeState {
  name: string;
  role: NodeRole;
  /** 1-based over all nodes; numbers the LAN address and the podCIDR. */
  index: number;
  netns: string;
  /** The node's veth end on the bridge, in the LAN namespace (what fail-node takes down). */
  lanPort: string;
  /** LAN IPv4 first, then LAN IPv6 when the lab has IPv6. */
  ips: string[];
  podCIDRs: string[];
  failed: boolean;
}

export interface PodState {
  namespace: string;
  name: string;
  node: string;
  netns: string;
  /** The pod veth's end in the node namespace. */
  hostVeth: string;
  /** Host part within the node's podCIDR (2..254). */
  host: number;
  ips: string[];
  labels: Record<string, string>;
  /** The Pod object's uid when a kubelet (the cluster plugin) made this pod from the API. */
  uid?: string;
}

/** A background process started in a lab namespace; restartable from this record alone. */
export interface DaemonState {
  /** Unique key, e.g. "echo", "apiserver", "agent:worker-1". */
  role: string;
  netns: string;
  argv: string[];
  env: Record<string, string>;
  /** start() waits until the log contains this text (written after start). */
  readyLogLine: string | null;
  readyTimeoutMs: number;
  /** Started with nsenter --net (shares the caller's mount namespace); absent in older states. */
  netnsOnly?: boolean;
  log: string;
  pid: number | null;
  /** /proc/PID/stat starttime, so a recycled PID is never signalled. */
  startTicks: string | null;
}

/** How an agent runs: which tree, with which capabilities, under which /proc/sys. */
export interface AgentRunSpec {
  /** The CLI's main.js (`up --agent-main`), e.g. the image's runtime tree; default: this build's dist/agent/main.js. */
  main?: string;
  /** Exactly these capabilities (setpriv names, e.g. `net_admin`), as a container's securityContext grants them; default: all. */
  capabilities?: string[];
  /** /proc/sys read-only as in a container, the node's /proc/sys/net writable under --sysctl-root (the DaemonSet's hostPath). */
  containerProcSys?: boolean;
  /** Agents run the controller in-process (`sluice agent --controller`) instead of the two `sluice controller` replicas. */
  inProcessController?: boolean;
  /** More `sluice agent` flags, after the lab's own (e.g. `--mark-mask`, `--resync-interval 2`). */
  args?: string[];
}

export interface LabState {
  version: 1;
  name: string;
  prefix: string;
  stateDir: string;
  /**
   * The process whose end takes the lab down (its reaper checks this before acting); absent in older
   * states. Still set after the CLI's `up` hands the lab on: its reaper is disarmed then.
   */
  owner?: ProcessIdentity;
  /** "building" until up finished; down handles both. */
  phase: 'building' | 'ready';
  ipv6: boolean;
  nodeGraceSeconds: number;
  /** Whether the cluster plugin runs a sluice agent per node (`up --no-agents`); absent in older states = true. */
  agents?: boolean;
  /** How the cluster plugin runs those agents; absent = this build's CLI with all of root's capabilities. */
  agent?: AgentRunSpec;
  /** The RBAC gate answers the first update of each of sluice's resources with 409 Conflict (a second writer). */
  apiConflicts?: boolean;
  netns: { lan: string; ext: string; control: string };
  /** CNI masquerade, kube-proxy, second NIC (network-options.ts); absent in older states = the defaults. */
  network?: NetworkOptions;
  /** What the lab's kube-proxy serves (`service` verb); absent = none. */
  services?: ServiceState[];
  nodes: NodeState[];
  pods: PodState[];
  /** Last pod sequence number used in pod netns names; never reused within a lab. */
  podSeq: number;
  /** httpsPort and httpDefaultPort are absent in older states. */
  echo: { httpPort: number; tcpPort: number; udpPort: number; streamPort: number; httpsPort?: number; httpDefaultPort?: number };
  /** The cluster DNS pod (`up --kube-dns`) once it runs; absent or null: pods ask the external DNS server. */
  dns?: { kubeDns: PodRef | null };
  apiServer: string | null;
  kubeconfig: string | null;
  /** Names of plugins active for this lab; later invocations load the same ones. */
  plugins: string[];
  daemons: DaemonState[];
}

export function findNode(state: LabState, name: string): NodeState {
  const node = state.nodes.find((n) => n.name === name);
  if (!node) throw new Error(`lab ${state.name} has no node ${name} (nodes: ${state.nodes.map((n) => n.name).join(', ')})`);
  return node;
}

export function findPod(state: LabState, ref: PodRef): PodState {
  const pod = state.pods.find((p) => p.namespace === ref.namespace && p.name === ref.name);
  if (!pod) throw new Error(`lab ${state.name} has no pod ${ref.namespace}/${ref.name}`);
  return pod;
}

export interface PodRef {
  namespace: string;
  name: string;
}

export function parsePodRef(ref: string): PodRef {
  const m = /^([^/\s]+)\/([^/\s]+)$/.exec(ref);
  if (!m) throw new Error(`pod reference ${JSON.stringify(ref)} must be NAMESPACE/NAME`);
  return { namespace: m[1]!, name: m[2]! };
}
