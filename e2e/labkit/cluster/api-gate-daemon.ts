/**
 * Who talks to the lab's API server as whom: kubectl and the lab's own daemons as the admin they
 * are, directly; sluice's agents and controllers through the RBAC gate, each as its ServiceAccount
 * from manifests/, with the RBAC that `kubectl kustomize manifests/` renders. Pure: specs and paths.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONTROL_HOST, lanHost } from '../addressing.js';
import type { DaemonSpec } from '../daemons.js';
import type { LabState } from '../state.js';
import { GROUP } from '../../../lib/api/group.js';
import { LOCAL_API_SERVER_URL } from './control-plane-daemons.js';

export const API_GATE_ROLE = 'api-gate';
export const API_GATE_READY = 'api gate ready';
/** The namespace manifests/ installs into: the ServiceAccounts' and the controller Lease's. */
export const SLUICE_NAMESPACE = 'sluice-system';
export const AGENT_SERVICE_ACCOUNT = 'sluice-agent';
export const CONTROLLER_SERVICE_ACCOUNT = 'sluice-controller';
const AGENT_GATE_PORT = 6444;
const CONTROLLER_GATE_PORT = 6445;

export const MANIFESTS_DIR = fileURLToPath(new URL('../../../../manifests', import.meta.url));
export const renderedManifestsPath = (s: Pick<LabState, 'stateDir'>) => join(s.stateDir, 'manifests.yaml');
export const rbacPath = (s: Pick<LabState, 'stateDir'>) => join(s.stateDir, 'rbac.json');
/** Every request the agents and controllers sent, one JSON line each (api-gate.ts GateRecord). */
export const gateLogPath = (s: Pick<LabState, 'stateDir'>) => join(s.stateDir, 'api-gate.jsonl');
export const agentKubeconfigPath = (s: Pick<LabState, 'stateDir'>) => join(s.stateDir, 'kubeconfig-agent');
export const controllerKubeconfigPath = (s: Pick<LabState, 'stateDir'>) => join(s.stateDir, 'kubeconfig-controller');

/** Agents reach the gate over the LAN, as the API server. */
export const agentGateUrl = () => `http://${lanHost(CONTROL_HOST).v4}:${AGENT_GATE_PORT}`;
/** Controllers run beside it on the control host. */
export const controllerGateUrl = () => `http://127.0.0.1:${CONTROLLER_GATE_PORT}`;

/** Agents that run the controller in-process (AgentRunSpec.inProcessController) hold both roles, as their RBAC would have to. */
export function apiGateDaemon(s: LabState): DaemonSpec {
  const sa = (name: string) => `${SLUICE_NAMESPACE}/${name}`;
  const agentUsers = s.agent?.inProcessController ? `${sa(AGENT_SERVICE_ACCOUNT)},${sa(CONTROLLER_SERVICE_ACCOUNT)}` : sa(AGENT_SERVICE_ACCOUNT);
  return {
    role: API_GATE_ROLE,
    netns: s.netns.control,
    argv: [
      process.execPath,
      fileURLToPath(new URL('./api-gate-main.js', import.meta.url)),
      '--upstream',
      LOCAL_API_SERVER_URL,
      '--rbac',
      rbacPath(s),
      '--log',
      gateLogPath(s),
      '--identity',
      `agent=${s.ipv6 ? '[::]' : '0.0.0.0'}:${AGENT_GATE_PORT}=${agentUsers}`,
      '--identity',
      `controller=127.0.0.1:${CONTROLLER_GATE_PORT}=${sa(CONTROLLER_SERVICE_ACCOUNT)}`,
      ...(s.apiConflicts ? ['--conflict-group', GROUP] : []),
    ],
    readyLogLine: API_GATE_READY,
    readyTimeoutMs: 15_000,
  };
}
