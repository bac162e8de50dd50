/**
 * The lab as a Kubernetes cluster (plugin "cluster", on by default): the fake API server on the control
 * host with sluice's CRDs, a Node and a heartbeat per lab node, a node lifecycle controller, a lab kubelet
 * that turns Pod objects into pod namespaces, and a sluice agent per node.
 */
import { writeFile } from 'node:fs/promises';
import { kubeconfigYaml } from '../../apiserver/kubeconfig.js';
import { isRunning } from '../daemons.js';
import { findDaemon } from '../lab-context.js';
import { agentRole, API_SERVER_ROLE, type LabContext, type LabPlugin } from '../plugins.js';
import type { NodeState } from '../state.js';
import { agentCommandMissing, agentDaemon } from './agent-daemon.js';
import { agentGateUrl, agentKubeconfigPath, apiGateDaemon, controllerGateUrl, controllerKubeconfigPath, SLUICE_NAMESPACE } from './api-gate-daemon.js';
import { controllerDaemon, controllerRoles, runsControllers } from './controller-daemon.js';
import { writeRenderedRbac } from './rendered-rbac.js';
import { isStatus } from './api-client.js';
import { apiPaths } from './api-paths.js';
import { API_SERVER_DOWN_LINE, API_SERVER_UP_LINE, apiServerDaemon, kubeconfigPath, kubeletDaemon, lanApiServerUrl, nodeLifecycleDaemon } from './control-plane-daemons.js';
import { installCrds } from './crds.js';
import { heartbeatDaemon } from './heartbeat-daemon.js';
import type { NodeObject } from './kube-types.js';
import { labApi } from './lab-api.js';
import { addPodThroughApi, deletePodThroughApi } from './lab-pods.js';
import { nodeManifest } from './node-object.js';
import { waitNodeReady } from './node-readiness.js';

export const CLUSTER_PLUGIN = 'cluster';
const NODE_READY_TIMEOUT_MS = 30_000;

export function clusterPlugin(): LabPlugin {
  let agentsMissing: string | undefined;

  const hasAgent = (ctx: LabContext, node: string) => ctx.state.daemons.some((d) => d.role === agentRole(node));

  return {
    name: CLUSTER_PLUGIN,

    async afterNetwork(ctx) {
      const s = ctx.state;
      const kubeconfig = kubeconfigPath(s);
      await writeFile(kubeconfig, kubeconfigYaml(lanApiServerUrl(), `sluice-lab-${s.name}`), { mode: 0o600 });
      // sluice's processes get their own: through the RBAC gate, as their ServiceAccounts (readable by the non-root controller)
      await writeFile(agentKubeconfigPath(s), kubeconfigYaml(agentGateUrl(), `sluice-agent-${s.name}`), { mode: 0o600 });
      await writeFile(controllerKubeconfigPath(s), kubeconfigYaml(controllerGateUrl(), `sluice-controller-${s.name}`), { mode: 0o644 });
      await ctx.startDaemon(apiServerDaemon(s));
      ctx.setControlPlane({ apiServer: lanApiServerUrl(), kubeconfig });
      const [, , , missing] = await Promise.all([
        installCrds(s),
        ctx.startDaemon(nodeLifecycleDaemon(s)),
        ctx.startDaemon(kubeletDaemon(s)),
        s.agents === false ? undefined : agentCommandMissing(s.agent),
        labApi(s).create(apiPaths.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: SLUICE_NAMESPACE } }),
        writeRenderedRbac(s).then(() => ctx.startDaemon(apiGateDaemon(s))),
      ]);
      agentsMissing = missing;
      if (missing) process.stderr.write(`lab: starting without sluice agents: ${missing} (up --no-agents skips this check)\n`);
      if (runsControllers(s) && !missing) await Promise.all(controllerRoles().map((_role, i) => ctx.startDaemon(controllerDaemon(s, i + 1, s.agent))));
    },

    async nodeAdded(ctx, node) {
      const api = labApi(ctx.state);
      const uid = await registerNode(ctx, node);
      await ctx.startDaemon(heartbeatDaemon(node, lanApiServerUrl(), uid, ctx.state.nodeGraceSeconds));
      if (ctx.state.agents !== false && !agentsMissing) await ctx.startDaemon(agentDaemon(ctx.state, node, ctx.state.agent));
      await waitNodeReady(api, node.name, 0, NODE_READY_TIMEOUT_MS);
    },

    // The link is already cut: the agent dies without being able to tell anyone.
    async nodeFailed(ctx, node) {
      if (hasAgent(ctx, node.name)) await ctx.stopDaemon(agentRole(node.name), { hard: true });
    },

    async nodeHealed(ctx, node) {
      const since = Date.now();
      const role = agentRole(node.name);
      const agent = hasAgent(ctx, node.name) && !(await isRunning(findDaemon(ctx.state, role)));
      await Promise.all([
        agent ? ctx.startRecordedDaemon(role) : undefined,
        waitNodeReady(labApi(ctx.state), node.name, since, NODE_READY_TIMEOUT_MS + ctx.state.nodeGraceSeconds * 1000),
      ]);
    },

    async apiServerDown(ctx) {
      await ctx.signalDaemon(API_SERVER_ROLE, 'SIGUSR1', { waitForLogLine: API_SERVER_DOWN_LINE });
    },

    // Also brings back a process stopped with stop-daemon (from its state file).
    async apiServerUp(ctx) {
      if (!(await isRunning(findDaemon(ctx.state, API_SERVER_ROLE)))) await ctx.startRecordedDaemon(API_SERVER_ROLE);
      else await ctx.signalDaemon(API_SERVER_ROLE, 'SIGUSR2', { waitForLogLine: API_SERVER_UP_LINE });
    },

    addPod: addPodThroughApi,
    deletePod: deletePodThroughApi,

    // Agents and controllers first, while the API server still answers, so they can release what they hold.
    async beforeDown(ctx) {
      const agents = ctx.state.nodes.filter((n) => hasAgent(ctx, n.name));
      const controllers = controllerRoles().filter((role) => ctx.state.daemons.some((d) => d.role === role));
      await Promise.all([...agents.map((n) => ctx.stopDaemon(agentRole(n.name))), ...controllers.map((role) => ctx.stopDaemon(role))]);
    },
  };
}

/** Creates the Node object (a leftover of the same name is kept); returns its uid for the Lease's owner reference. */
async function registerNode(ctx: LabContext, node: NodeState): Promise<string> {
  const api = labApi(ctx.state);
  const created = await api.create<NodeObject>(apiPaths.nodes, nodeManifest(ctx.state, node)).catch(async (err: unknown) => {
    if (!isStatus(err, 'AlreadyExists')) throw err;
    return api.get<NodeObject>(apiPaths.node(node.name));
  });
  if (!created?.metadata.uid) throw new Error(`node ${node.name}: the API server returned no uid`);
  return created.metadata.uid;
}
