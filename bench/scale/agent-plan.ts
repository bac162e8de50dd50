/**
 * bench/scale agent-plan: what one plan costs a node agent at bench/scale's shape, from the input
 * it really has. The simulated cluster goes into an in-process test API server, the real
 * controller (in process) writes every slice, status and EgressTunnel, and then a node agent's own
 * watch (informers → store → Snapshot, as `sluice agent` follows the cluster) lists it. Each plan
 * is what the agent's reconcile computes (planForNode) and what it adds before the kernel (the
 * plan's fingerprint, the applied report). Unlike bench/plan, pods are selected by several
 * policies and the policies are spread over ten gateway nodes, as in a real cluster.
 *
 *   node dist/bench/scale/agent-plan.js [--pods 100000 --policies 1000 --nodes 1000 ...]
 *     [--node node-0000] [--repeat 3] [--baseline OTHER/dist]...
 *
 * `--baseline` plans the same snapshot, in the same process, with another build's planner (a
 * `dist` directory), so the ratio comes from one run. No root, no kernel.
 */
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startApiServer, type ApiServer } from '../../e2e/apiserver/server.js';
import { applyManifests, readManifests } from '../../e2e/apiserver/manifest-loader.js';
import type { JsonObject } from '../../e2e/apiserver/json.js';
import { kubeConfigForServer } from '../../lib/kube/kubeconfig.js';
import { resolveConfig } from '../../lib/planner/config.js';
import type { NodePlan } from '../../lib/planner/node-plan.js';
import type { Snapshot } from '../../lib/planner/snapshot.js';
import { startControllerProcess } from '../../lib/controller/controller-process.js';
import { startControlPlane } from '../../lib/controller/control-plane.js';
import { egressWrites } from '../../lib/controller/testing/plane.js';
import { planForNode, type NodeSelf } from '../../agent/plan-for-node.js';
import { ApplyGate } from '../../agent/node-agent/apply-gate.js';
import { appliedPolicies } from '../../agent/node-agent/applied-report.js';
import { parseBenchArgs, type UsageSpec } from '../command-line.js';
import { FULL_SHAPE, gatewayDocs, gatewayNodeDoc, namespaceDoc, nodeDoc, nodeName, podDoc, podPlace, policyDoc, type ScaleShape } from './cluster-model.js';
import { LEASE_NAMESPACE } from './scale-cluster.js';

const CRDS = fileURLToPath(new URL('../../../manifests/crds', import.meta.url));
/** The controller has written everything once it wrote nothing to our kinds for this long. */
const QUIET_MS = 10_000;
const SETTLE_LIMIT_MS = 900_000;

const OPTIONS = {
  nodes: { type: 'string', default: String(FULL_SHAPE.nodes) },
  'gateway-nodes': { type: 'string', default: String(FULL_SHAPE.gatewayNodes) },
  pods: { type: 'string', default: String(FULL_SHAPE.pods) },
  namespaces: { type: 'string', default: String(FULL_SHAPE.namespaces) },
  policies: { type: 'string', default: String(FULL_SHAPE.policies) },
  node: { type: 'string', default: nodeName(0) },
  repeat: { type: 'string', default: '3' },
  baseline: { type: 'string', multiple: true },
} as const;

const USAGE: UsageSpec = { command: 'node dist/bench/scale/agent-plan.js', values: { baseline: 'OTHER/dist' } };

type PlanFor = (snapshot: Snapshot, self: NodeSelf) => NodePlan;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const load = () => loadavg()[0]!.toFixed(1);
const line = (label: string, value: string, note = '') => process.stdout.write(`  ${label.padEnd(52)} ${value.padStart(14)}  ${note}\n`);

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Wall and CPU ms of each run (CPU: what a loaded machine cannot inflate). */
function timed<T>(run: () => T): { value: T; wall: number; cpu: number } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = run();
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { value, wall, cpu: (c.user + c.system) / 1000 };
}

function seed(api: ApiServer, shape: ScaleShape): void {
  const store = api.store;
  applyManifests(store, readManifests([CRDS]), (o, reason) => {
    if (o.kind === 'CustomResourceDefinition') throw new Error(`CRD not loaded: ${reason}`);
  });
  store.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: LEASE_NAMESPACE } });
  for (let j = 0; j < shape.namespaces; j++) store.create(namespaceDoc(j) as JsonObject);
  for (let i = 0; i < shape.nodes; i++) store.create((i < shape.gatewayNodes ? gatewayNodeDoc(i) : nodeDoc(i)) as JsonObject);
  for (const g of gatewayDocs()) store.create(g as JsonObject);
  for (let p = 0; p < shape.pods; p++) store.apply(podDoc(podPlace(shape, p)) as JsonObject);
  for (let q = 0; q < shape.policies; q++) store.create(policyDoc(shape, q) as JsonObject);
}

/** Until the controller has written and then stayed quiet: every slice, status and tunnel is there. */
async function controllerSettled(api: ApiServer): Promise<number> {
  const deadline = performance.now() + SETTLE_LIMIT_MS;
  let last = egressWrites(api);
  let quietSince = performance.now();
  while (last === 0 || performance.now() - quietSince < QUIET_MS) {
    if (performance.now() > deadline) throw new Error(`the controller did not settle within ${SETTLE_LIMIT_MS / 1000} s`);
    await sleep(250);
    const now = egressWrites(api);
    if (now !== last) [last, quietSince] = [now, performance.now()];
  }
  return last;
}

/** The agent's reconcile, planning part: the plan, then what it derives from it before the kernel. */
function reconcileOnce(planFor: PlanFor, snapshot: Snapshot, self: NodeSelf): NodePlan {
  const nodePlan = planFor(snapshot, self);
  ApplyGate.fingerprint(nodePlan);
  appliedPolicies(nodePlan, snapshot);
  return nodePlan;
}

export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<number> {
  const { values: flags } = parseBenchArgs(USAGE, OPTIONS, argv);
  const shape: ScaleShape = {
    nodes: Number(flags.nodes),
    gatewayNodes: Number(flags['gateway-nodes']),
    pods: Number(flags.pods),
    namespaces: Number(flags.namespaces),
    policies: Number(flags.policies),
  };
  const repeat = Number(flags.repeat);
  const node = flags.node;
  const config = resolveConfig({ tunnelCidrV4: '198.19.0.0/16' });
  const out = process.stdout;
  out.write(`bench/scale agent-plan: ${shape.nodes} nodes (${shape.gatewayNodes} gateway nodes), ${shape.pods} pods, ${shape.policies} policies; the agent of ${node}\n`);
  const api = await startApiServer({ watchHistoryLimit: 200_000 });
  try {
    seed(api, shape);
    let t = performance.now();
    const controller = startControllerProcess({ kubeConfig: kubeConfigForServer(api.url), namespace: LEASE_NAMESPACE, config, identity: 'bench' });
    const writes = await controllerSettled(api);
    await controller.stop();
    line('controller: every slice, status and tunnel written', `${((performance.now() - t - QUIET_MS) / 1000).toFixed(1)} s`, `${writes} writes`);

    t = performance.now();
    const agent = startControlPlane({ kubeConfig: kubeConfigForServer(api.url), nodeName: node, namespace: LEASE_NAMESPACE, config, elect: false });
    while (!agent.watch.synced) await sleep(50);
    const snapshot = agent.store.snapshot(config);
    await agent.stop();
    const endpoints = snapshot.slices.reduce((n, s) => n + s.endpoints.length, 0);
    line("agent's watch listed, snapshot built", `${(performance.now() - t).toFixed(0)} ms`);
    line(
      '  what the agent plans from',
      `${endpoints} endpoints`,
      `${snapshot.slices.length} slices, ${snapshot.policies.length} policies, ${snapshot.nodes.length} Nodes, ${snapshot.tunnels.length} tunnels`,
    );

    const self: NodeSelf = { node, parentInterface: 'eth0' };
    const builds: { label: string; planFor: PlanFor }[] = [];
    for (const dir of flags.baseline ?? []) {
      const module = (await import(pathToFileURL(join(resolve(dir), 'agent/plan-for-node.js')).href)) as { planForNode: PlanFor };
      builds.push({ label: dir, planFor: module.planForNode });
    }
    builds.push({ label: 'this build', planFor: planForNode });
    const medians: number[] = [];
    for (const build of builds) {
      const runs = Array.from({ length: repeat }, () => timed(() => reconcileOnce(build.planFor, snapshot, self)));
      const p = runs.at(-1)!.value;
      const wall = median(runs.map((r) => r.wall));
      medians.push(wall);
      line(
        `plan per reconcile, ${build.label}`,
        `${wall.toFixed(0)} ms`,
        `CPU ${median(runs.map((r) => r.cpu)).toFixed(0)} ms, median of ${repeat} (first ${runs[0]!.wall.toFixed(0)} ms); ${p.policies.filter((x) => x.role === 'gateway').length} policies carried, ${p.nft.sets.reduce((n, s) => n + s.elements.length, 0)} set elements, ${p.routing.routes.length} routes; load ${load()}`,
      );
    }
    const own = medians.at(-1)!;
    for (let i = 0; i < builds.length - 1; i++) line(`  this build / ${builds[i]!.label}`, (own / medians[i]!).toFixed(3));
    return 0;
  } finally {
    await api.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exitCode = await main();
