/**
 * One simulated cluster for bench/scale and bench/scale idle: the fake API server in this process
 * (so its change journal and request log are read with server-side time), seeded straight into its
 * store, the real `sluice controller` and real `sluice agent`s as child processes, and the other
 * nodes' watches in a forked child. Must run inside the lab's hub namespace (see netns-lab.ts).
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { startApiServer, type ApiServer } from '../../e2e/apiserver/server.js';
import { applyManifests, readManifests } from '../../e2e/apiserver/manifest-loader.js';
import { daemonSetLiteralEnv } from '../../e2e/install/daemonset.js';
import type { JsonObject } from '../../e2e/apiserver/json.js';
import { API_VERSION } from '../../lib/api/group.js';
import {
  gatewayDocs,
  gatewayNodeDoc,
  gatewayOfNode,
  namespaceDoc,
  nodeDoc,
  nodeIp,
  nodeName,
  podDoc,
  podPlace,
  policyDoc,
  policyGateway,
  selectionKey,
  selectionOf,
  selects,
  type Doc,
  type PodPlace,
  type ScaleShape,
  type Selection,
} from './cluster-model.js';
import { Journal } from './journal.js';
import { HUB_IP } from './netns-lab.js';
import { histogramTotals, sampleProcess } from './process-stats.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * An agent runs as its build's DaemonSet runs it: the malloc and V8 settings there change its
 * memory and CPU. The manifest sits beside the build's dist directory; a build without one gets none.
 */
function deployedEnv(sluiceMain: string): Record<string, string> {
  const manifest = join(dirname(sluiceMain), '../../manifests/agent/daemonset.yaml');
  return existsSync(manifest) ? daemonSetLiteralEnv(manifest) : {};
}
const SLUICE = join(ROOT, 'agent/main.js');
const CRDS = join(ROOT, '..', 'manifests/crds');
export const LEASE_NAMESPACE = 'sluice-system';
const TUNNEL_CIDR = '198.19.0.0/16';
const CONTROLLER_METRICS = `${HUB_IP}:9470`;
const AGENT_METRICS_PORT = 9465;

export interface WriteTally {
  controller: number;
  agents: number;
  leases: number;
  events: number;
  lastControllerWrite: number;
  byResource: Map<string, number>;
}

/** A phase that did not finish in its time; its message says what it was waiting for (the run ends with it, not with a stack). */
export class Stalled extends Error {}

export interface RealAgent {
  readonly index: number;
  readonly netns: string;
  readonly process: ChildProcess;
  readonly metricsUrl: string;
}

export class ScaleCluster {
  readonly journal = new Journal();
  readonly pods = new Map<string, PodPlace>();
  readonly policies = new Map<string, { q: number; variant: number; selection: Selection }>();
  readonly notReady = new Set<number>();
  writes: WriteTally = freshTally();
  controller?: ChildProcess;
  controllerStartedAt = 0;
  /** When the controller's last full Pod list was answered (server side), and the controller's CPU seconds then. */
  controllerPodListAt = 0;
  controllerPodListCpu = NaN;
  /** This process's event-loop delay (the API server's) since the controller last started. */
  private loopDelay: IntervalHistogram | undefined;
  readonly agents: RealAgent[] = [];
  watcherChild?: ChildProcess;
  private constructor(
    readonly api: ApiServer,
    readonly shape: ScaleShape,
    readonly dir: string,
  ) {}

  static async start(shape: ScaleShape, dir: string): Promise<ScaleCluster> {
    let cluster: ScaleCluster | undefined;
    const api = await startApiServer({
      host: HUB_IP,
      // a minute of churn at full rate must not push a lagging watcher into 410 + relist
      watchHistoryLimit: 200_000,
      onRequest: (entry) => cluster?.countWrite(entry.method, entry.path, entry.userAgent, entry.status),
    });
    cluster = new ScaleCluster(api, shape, dir);
    const c = cluster;
    // interrupted (make bench's Ctrl-C, a time limit): the children go first, the lab runner then removes the namespaces
    const stop = () => {
      for (const child of [c.controller, c.watcherChild, ...c.agents.map((a) => a.process)]) child?.kill('SIGKILL');
      process.exit(130);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    api.onChange((change) => cluster.journal.record(change));
    await mkdir(dir, { recursive: true });
    await api.writeKubeconfig(join(dir, 'kubeconfig'));
    return cluster;
  }

  private countWrite(method: string, path: string, userAgent: string, status: number): void {
    if (method === 'GET' && userAgent.startsWith('sluice-controller') && path.startsWith('/api/v1/pods') && !path.includes('watch=')) {
      this.controllerPodListAt = performance.now();
      const pid = this.controller?.pid;
      if (pid)
        void sampleProcess(pid).then(
          (s) => (this.controllerPodListCpu = s.cpuSeconds),
          () => undefined,
        );
    }
    if (!['POST', 'PUT', 'PATCH', 'DELETE'].includes(method)) return;
    const w = this.writes;
    if (path.includes('/leases')) w.leases++;
    else if (path.includes('/events')) w.events++;
    else if (userAgent.startsWith('sluice-controller')) {
      w.controller++;
      w.lastControllerWrite = performance.now();
      const resource = path
        .replace(/\?.*$/, '')
        .replace(/\/namespaces\/[^/]+/, '')
        .replace(/^\/apis?\/(egress\.sluice\.dev\/)?v1(alpha1)?\//, '')
        .replace(/\/[^/]+(\/status)?$/, (_m, s: string | undefined) => (s ? '/status' : ''));
      const key = `${resource} ${method}${status >= 300 ? ` ${status}` : ''}`;
      w.byResource.set(key, (w.byResource.get(key) ?? 0) + 1);
    } else w.agents++;
  }

  resetWrites(): WriteTally {
    const before = this.writes;
    this.writes = freshTally();
    return before;
  }

  /** CRDs, namespaces, nodes, gateways, pods, policies: straight into the store (no HTTP). */
  seed(): void {
    const store = this.api.store;
    applyManifests(store, readManifests([CRDS]), (o, reason) => {
      if (o.kind === 'CustomResourceDefinition') throw new Error(`CRD not loaded: ${reason}`);
    });
    store.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: LEASE_NAMESPACE } });
    for (let j = 0; j < this.shape.namespaces; j++) store.create(json(namespaceDoc(j)));
    for (let i = 0; i < this.shape.nodes; i++) store.create(json(i < this.shape.gatewayNodes ? gatewayNodeDoc(i) : nodeDoc(i)));
    for (const g of gatewayDocs()) store.create(json(g));
    for (let p = 0; p < this.shape.pods; p++) this.createPod(podPlace(this.shape, p), true);
    for (let q = 0; q < this.shape.policies; q++) this.createPolicy(q);
  }

  /**
   * A pod that becomes Running and Ready: created (the server resets its status to Pending), then
   * its status written, as a kubelet does. `seeding` stores it in one step.
   */
  createPod(place: PodPlace, seeding = false): void {
    const doc = json(podDoc(place));
    if (seeding) this.api.store.apply(doc);
    else {
      const created = this.api.store.create(structuredClone(doc));
      this.api.store.updateStatus({ ...created, status: doc.status! });
    }
    this.pods.set(`${place.namespace}/${place.name}`, place);
  }

  deletePod(key: string): void {
    const place = this.pods.get(key)!;
    this.api.store.delete('v1', 'Pod', place.name, place.namespace);
    this.pods.delete(key);
  }

  createPolicy(q: number, variant = 0): string {
    const selection = selectionOf(this.shape, q, variant);
    this.api.store.create(json(policyDoc(this.shape, q, variant)));
    const key = selectionKey(selection);
    this.policies.set(key, { q, variant, selection });
    return key;
  }

  /** Moves the policy's podSelector (or podSubnet) on: a spec edit the controller must follow. */
  editPolicy(key: string): void {
    const p = this.policies.get(key)!;
    const variant = p.variant + 1;
    const doc = policyDoc(this.shape, p.q, variant);
    const kind = doc.kind as string;
    const meta = doc.metadata as { name: string; namespace?: string };
    this.api.store.patch(API_VERSION, kind, meta.name, [{ op: 'replace', path: '/spec', value: json(doc.spec as Doc) }], { namespace: meta.namespace, type: 'json' });
    this.policies.set(key, { q: p.q, variant, selection: selectionOf(this.shape, p.q, variant) });
  }

  deletePolicy(key: string): void {
    const p = this.policies.get(key)!;
    const s = p.selection;
    this.api.store.delete(API_VERSION, s.cluster ? 'EgressClusterPolicy' : 'EgressPolicy', s.name, s.namespace);
    this.policies.delete(key);
  }

  setNodeReady(i: number, ready: boolean): void {
    if (ready) this.notReady.delete(i);
    else this.notReady.add(i);
    this.api.store.patch('v1', 'Node', nodeName(i), { status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] } }, { type: 'merge', subresource: 'status' });
  }

  /** `nodeArgs`: flags for node itself before the script (e.g. `--cpu-prof`). */
  startController(nodeArgs: readonly string[] = []): ChildProcess {
    const log = createWriteStream(join(this.dir, 'controller.log'), { flags: 'a' });
    const child = spawn(
      process.execPath,
      [
        ...nodeArgs,
        SLUICE,
        'controller',
        '--kubeconfig',
        join(this.dir, 'kubeconfig'),
        '--lease-namespace',
        LEASE_NAMESPACE,
        '--metrics-address',
        CONTROLLER_METRICS,
        '--tunnel-cidr-v4',
        TUNNEL_CIDR,
        '--log-level',
        'info',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, POD_NAME: 'sluice-controller' } },
    );
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
    this.controller = child;
    this.controllerStartedAt = performance.now();
    this.controllerPodListCpu = NaN;
    this.loopDelay?.disable();
    this.loopDelay = monitorEventLoopDelay({ resolution: 10 });
    this.loopDelay.enable();
    return child;
  }

  /** The longest this process's event loop (the API server's) was held since the controller started, ms. */
  apiServerLongestStallMs(): number {
    return (this.loopDelay?.max ?? NaN) / 1e6;
  }

  /** What the controller process is doing, for a report of what a phase waited for. */
  private async controllerState(): Promise<string> {
    const c = this.controller;
    if (!c) return 'not started';
    if (c.exitCode !== null) return `exited with code ${c.exitCode}`;
    if (c.signalCode) return `ended by ${c.signalCode}`;
    const s = await sampleProcess(c.pid!).catch(() => undefined);
    return `running for ${((performance.now() - this.controllerStartedAt) / 1000).toFixed(0)} s${s ? `, ${s.cpuSeconds.toFixed(1)} s CPU, RSS ${s.rssMiB.toFixed(0)} MiB` : ''}`;
  }

  /** When the controller started last took the Lease, from the journal (server side). */
  async waitLeader(timeoutMs: number): Promise<number> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      if (this.journal.leaseTakenAt > this.controllerStartedAt) return this.journal.leaseTakenAt;
      await new Promise((r) => setTimeout(r, 20));
    }
    const holder = this.journal.leaseHolder ? `held by ${this.journal.leaseHolder}` : 'free';
    throw new Stalled(`the controller to take the Lease (waited ${(timeoutMs / 1000).toFixed(0)} s; the Lease is ${holder}; the controller is ${await this.controllerState()})`);
  }

  /** When the controller started last answered /readyz (every informer listed: its view of the cluster is complete). */
  async waitControllerReady(timeoutMs: number): Promise<number> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      const ok = await fetch(`http://${CONTROLLER_METRICS}/readyz`, { signal: AbortSignal.timeout(2000) }).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return performance.now();
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Stalled(`the controller to list everything (/readyz; waited ${(timeoutMs / 1000).toFixed(0)} s; the controller is ${await this.controllerState()})`);
  }

  async stopController(): Promise<void> {
    const c = this.controller;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((resolve) => c.once('exit', resolve));
    c.kill('SIGTERM');
    await exited;
    this.controller = undefined;
  }

  async controllerMetrics(): Promise<string> {
    return (await fetch(`http://${CONTROLLER_METRICS}/metrics`)).text();
  }

  /** A real agent in its own namespace; resolves once it logs that it is ready. */
  /** `sluiceMain`: another build's agent/main.js (bench/scale idle measures one beside this build's); `extraAgentArgs` follow the usual flags. */
  async startAgent(
    index: number,
    netns: string,
    extraNodeArgs: readonly string[] = [],
    env: Record<string, string> = {},
    sluiceMain = SLUICE,
    extraAgentArgs: readonly string[] = [],
  ): Promise<RealAgent> {
    const stateDir = join(this.dir, `state-${nodeName(index)}`);
    await mkdir(stateDir, { recursive: true });
    const log = createWriteStream(join(this.dir, `agent-${nodeName(index)}.log`), { flags: 'a' });
    const child = spawn(
      'ip',
      [
        'netns',
        'exec',
        netns,
        process.execPath,
        ...extraNodeArgs,
        sluiceMain,
        'agent',
        '--node',
        nodeName(index),
        '--kubeconfig',
        join(this.dir, 'kubeconfig'),
        '--lease-namespace',
        LEASE_NAMESPACE,
        '--interface',
        'eth0',
        '--metrics-address',
        `${nodeIp(index)}:${AGENT_METRICS_PORT}`,
        '--tunnel-cidr-v4',
        TUNNEL_CIDR,
        '--state-dir',
        stateDir,
        '--log-level',
        'info',
        ...extraAgentArgs,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...deployedEnv(sluiceMain), ...env } },
    );
    child.stderr!.pipe(log);
    const agent: RealAgent = { index, netns, process: child, metricsUrl: `http://${nodeIp(index)}:${AGENT_METRICS_PORT}/metrics` };
    this.agents.push(agent);
    await new Promise<void>((resolve, reject) => {
      let seen = '';
      const timer = setTimeout(() => reject(new Error(`agent ${nodeName(index)} not ready within 180 s (see ${this.dir})`)), 180_000);
      child.stdout!.on('data', (chunk: Buffer) => {
        log.write(chunk);
        if (seen === 'ready') return;
        seen = (seen + chunk.toString()).slice(-4096);
        if (seen.includes('"msg":"agent ready"')) {
          seen = 'ready';
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`agent ${nodeName(index)} exited with ${code} (see ${this.dir})`));
      });
    });
    return agent;
  }

  async agentTimes(agent: RealAgent): Promise<{ planMs: number; plans: number; nftMs: number; nftApplies: number }> {
    const text = await (await fetch(agent.metricsUrl)).text();
    const plan = histogramTotals(text, 'sluice_plan_duration_seconds');
    const nft = histogramTotals(text, 'sluice_apply_duration_seconds', { key: 'subsystem', value: 'nft' });
    return { planMs: plan.count ? (1000 * plan.sum) / plan.count : NaN, plans: plan.count, nftMs: nft.count ? (1000 * nft.sum) / nft.count : NaN, nftApplies: nft.count };
  }

  /** Where an agent's memory is, from its process metrics (MiB): V8 heap used and allocated, buffers and other off-heap memory, RSS. */
  async agentMemory(agent: RealAgent): Promise<{ heapUsed: number; heapTotal: number; external: number; rss: number }> {
    const text = await (await fetch(agent.metricsUrl)).text();
    const gauge = (name: string) => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? NaN) / 1048576;
    return {
      heapUsed: gauge('sluice_nodejs_heap_size_used_bytes'),
      heapTotal: gauge('sluice_nodejs_heap_size_total_bytes'),
      external: gauge('sluice_nodejs_external_memory_bytes'),
      rss: gauge('sluice_process_resident_memory_bytes'),
    };
  }

  /** The simulated nodes: every node without a real agent, as watches in one forked process. */
  async startWatchers(count: number): Promise<number> {
    if (count <= 0) return 0;
    const real = new Set(this.agents.map((a) => a.index));
    const first = [...Array(this.shape.nodes).keys()].find((i) => !real.has(i) && i >= this.shape.gatewayNodes) ?? 0;
    const child = fork(
      fileURLToPath(new URL('./watchers-main.js', import.meta.url)),
      [
        '--server',
        this.api.url,
        '--first',
        String(first),
        '--count',
        String(Math.min(count, this.shape.nodes - first)),
        '--gateway-selector',
        'egress=a',
        '--gateway-selector',
        'egress=b',
      ],
      { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
    );
    this.watcherChild = child;
    const ready = await new Promise<{ watches: number }>((resolve, reject) => {
      child.once('message', (m: { ready?: { watches: number } }) => (m.ready ? resolve(m.ready) : reject(new Error('watchers: unexpected message'))));
      child.once('exit', (code) => reject(new Error(`watchers exited with ${code}`)));
    });
    return ready.watches;
  }

  markWatchers(): void {
    this.watcherChild?.send({ mark: true });
  }

  async stopWatchers(): Promise<{ watches: number; events: number; mib: number; reconnects: number; seconds: number } | undefined> {
    const child = this.watcherChild;
    if (!child) return undefined;
    this.watcherChild = undefined;
    const summary = new Promise<{ watches: number; events: number; mib: number; reconnects: number; seconds: number }>((resolve) =>
      child.once('message', (m: { summary: never }) => resolve(m.summary)),
    );
    child.send({ stop: true });
    return summary;
  }

  /**
   * Resolves once no slice or policy status has changed, and the controller has written nothing,
   * for `quietMs` after `notBefore` (server-side); returns the time of the last change, or rejects
   * after timeoutMs.
   */
  /**
   * Resolves once the controller has been quiet for `quietMs` after `notBefore` and every slice
   * and status is right (check()), with the time of the last change; after timeoutMs, with what
   * is still wrong.
   */
  async converged(quietMs: number, timeoutMs: number, notBefore: number): Promise<{ last: number; problems: string[] }> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const left = deadline - performance.now();
      const last = await this.settled(quietMs, Math.max(0, left), notBefore).catch(() => Math.max(this.journal.lastStateChange, this.writes.lastControllerWrite));
      const problems = this.check();
      if (problems.length === 0 || performance.now() >= deadline) return { last, problems };
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  async settled(quietMs: number, timeoutMs: number, notBefore = 0): Promise<number> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const last = Math.max(this.journal.lastStateChange, this.writes.lastControllerWrite, notBefore);
      const since = performance.now() - last;
      if (since >= quietMs) return last;
      if (performance.now() > deadline) throw new Stalled(`the slices, statuses and controller writes to be quiet for ${quietMs} ms (still changing after ${timeoutMs} ms)`);
      await new Promise((r) => setTimeout(r, Math.min(250, quietMs - since + 10)));
    }
  }

  /** What is wrong in the slices and statuses, checked against the model (empty = right). */
  check(): string[] {
    const problems: string[] = [];
    const index = new Map<string, string[]>();
    const add = (k: string, pod: string) => {
      let list = index.get(k);
      if (!list) index.set(k, (list = []));
      list.push(pod);
    };
    for (const [key, place] of this.pods) {
      add(`${place.namespace}|${place.app}`, key);
      add(`${place.namespace}|@${place.node}`, key);
    }
    const namespaces = [...new Set([...this.pods.values()].map((p) => p.namespace))];
    const actual = this.journal.podsByPolicy();
    for (const [key, { selection }] of this.policies) {
      const candidates = selection.cluster
        ? namespaces.flatMap((ns) => index.get(`${ns}|${selection.app}`) ?? [])
        : (index.get(selection.podSubnetNode !== undefined ? `${selection.namespace}|@${selection.podSubnetNode}` : `${selection.namespace}|${selection.app}`) ?? []);
      const expected = new Set(candidates.filter((pod) => selects(selection, this.pods.get(pod)!)));
      const got = actual.get(key) ?? new Set<string>();
      const missing = [...expected].filter((p) => !got.has(p));
      const extra = [...got].filter((p) => !expected.has(p));
      if (missing.length || extra.length)
        problems.push(`${key}: ${missing.length} pods missing from its slices (${missing.slice(0, 2).join(', ')}), ${extra.length} extra (${extra.slice(0, 2).join(', ')})`);
      const status = this.journal.status.get(key);
      const gatewayNode = status?.node ? Number(status.node.slice('node-'.length)) : NaN;
      if (!status?.node || !(gatewayNode < this.shape.gatewayNodes) || this.notReady.has(gatewayNode))
        problems.push(`${key}: status.node ${status?.node ?? 'unset'} is not a ready gateway node`);
      else if (gatewayOfNode(gatewayNode) !== policyGateway(this.policies.get(key)!.q)) problems.push(`${key}: status.node ${status.node} is not in its gateway`);
      if (!status?.eipV4) problems.push(`${key}: no status.eip.ipv4`);
    }
    for (const key of actual.keys()) if (!this.policies.has(key)) problems.push(`slices left for a deleted policy ${key}`);
    return problems;
  }

  /** Stops one real agent (SIGTERM) and forgets it; its kernel state stays for the next one to adopt. */
  async stopAgent(agent: RealAgent): Promise<void> {
    if (agent.process.exitCode === null && agent.process.signalCode === null) {
      const exited = new Promise((r) => agent.process.once('exit', r));
      agent.process.kill('SIGTERM');
      await exited;
    }
    this.agents.splice(this.agents.indexOf(agent), 1);
  }

  async close(): Promise<void> {
    await this.stopWatchers().catch(() => undefined);
    for (const a of this.agents) if (a.process.exitCode === null) a.process.kill('SIGTERM');
    await Promise.all(this.agents.map((a) => (a.process.exitCode === null ? new Promise((r) => a.process.once('exit', r)) : Promise.resolve())));
    await this.stopController();
    await this.api.close();
  }
}

/** The model's documents are JSON by construction. */
const json = (doc: Doc): JsonObject => doc as JsonObject;

function freshTally(): WriteTally {
  return { controller: 0, agents: 0, leases: 0, events: 0, lastControllerWrite: 0, byResource: new Map() };
}
