/**
 * The controller as the Deployment runs it: two `sluice controller` replicas, which elect one
 * holder with the Lease in sluice-system. They run in the control namespace (a control-plane
 * host: a node failure never takes them down), as non-root, with no capability, and reach the
 * API server through the RBAC gate as the sluice-controller ServiceAccount. Pure: specs only.
 */
import type { DaemonSpec } from '../daemons.js';
import type { AgentRunSpec, LabState } from '../state.js';
import { agentMain, TUNNEL_CIDR_V4, TUNNEL_CIDR_V6 } from './agent-daemon.js';
import { controllerKubeconfigPath, SLUICE_NAMESPACE } from './api-gate-daemon.js';

export const CONTROLLER_REPLICAS = 2;
export const CONTROLLER_READY_LINE = '"msg":"controller ready"';
export const CONTROLLER_LEADING_LINE = '"msg":"now the controller (holds the lease)"';
/** The Deployment's runAsUser. */
export const CONTROLLER_UID = 65532;
const METRICS_PORT_BASE = 9470;

export const controllerRole = (replica: number) => `controller:${replica}`;
export const controllerRoles = (): string[] => Array.from({ length: CONTROLLER_REPLICAS }, (_, i) => controllerRole(i + 1));
/** Replicas run the controller unless the agents do it in-process. */
export const runsControllers = (s: Pick<LabState, 'agents' | 'agent'>): boolean => s.agents !== false && !s.agent?.inProcessController;
export const controllerMetricsUrl = (replica: number) => `http://127.0.0.1:${METRICS_PORT_BASE + replica}`;

export function controllerDaemon(s: LabState, replica: number, spec: AgentRunSpec = {}): DaemonSpec {
  return {
    role: controllerRole(replica),
    netns: s.netns.control,
    argv: [
      // non-root and no capability at all: the Deployment's securityContext
      'setpriv',
      `--reuid=${CONTROLLER_UID}`,
      `--regid=${CONTROLLER_UID}`,
      '--clear-groups',
      '--inh-caps=-all',
      '--ambient-caps=-all',
      '--bounding-set=-all',
      '--no-new-privs',
      '--',
      process.execPath,
      agentMain(spec),
      'controller',
      '--kubeconfig',
      controllerKubeconfigPath(s),
      '--lease-namespace',
      SLUICE_NAMESPACE,
      '--metrics-address',
      `127.0.0.1:${METRICS_PORT_BASE + replica}`,
      '--tunnel-cidr-v4',
      TUNNEL_CIDR_V4,
      '--tunnel-cidr-v6',
      TUNNEL_CIDR_V6,
    ],
    // the Deployment's pod names: the Lease holder's identity says which replica holds it
    env: { POD_NAME: `sluice-controller-${replica}` },
    readyLogLine: CONTROLLER_READY_LINE,
    readyTimeoutMs: 30_000,
  };
}
