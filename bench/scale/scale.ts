/**
 * bench/scale: the real controller and a few real agents against a simulated cluster in the fake
 * API server (1000 nodes, 10 gateway nodes, 100k pods in 200 namespaces, 1000 policies by
 * default), the other nodes simulated as watches. Times come from the API server's change journal
 * (server side, this process). Phases:
 *   cold start → real agents ready → quiet window (writes when nothing changes) → controller
 *   restart with nothing changed → restart with changes made while it was down (convergence) →
 *   churn (pods, policies, a gateway node lost) → settle and check every slice and status.
 *
 *   node dist/bench/scale/scale.js [--churn-seconds 15] [--pod-rate 100] [--quiet-seconds 10]
 *     [--nodes 1000 --gateway-nodes 10 --pods 100000 --namespaces 200 --policies 1000]
 *     [--agents 2] [--watchers N (default: every other node)] [--controller-node-args "--cpu-prof ..."]
 *     [--agent-node-args "--cpu-prof ..."]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FULL_SHAPE, nodeIp, nodeName, podPlace, selects, type ScaleShape } from './cluster-model.js';
import { percentile } from './journal.js';
import { parseBenchArgs, type UsageSpec, type BenchFlags } from '../command-line.js';
import { runInLab } from './lab-runner.js';
import { sampleProcess, usageBetween, type ProcessSample, type Usage } from './process-stats.js';
import { ScaleCluster, Stalled, type RealAgent } from './scale-cluster.js';

const OPTIONS = {
  inner: { type: 'boolean' },
  prefix: { type: 'string' },
  'keep-dir': { type: 'boolean' },
  /** A machine too loaded to converge ends the run with what is still wrong instead of hanging. */
  'time-limit-seconds': { type: 'string', default: '420' },
  nodes: { type: 'string', default: String(FULL_SHAPE.nodes) },
  'gateway-nodes': { type: 'string', default: String(FULL_SHAPE.gatewayNodes) },
  pods: { type: 'string', default: String(FULL_SHAPE.pods) },
  namespaces: { type: 'string', default: String(FULL_SHAPE.namespaces) },
  policies: { type: 'string', default: String(FULL_SHAPE.policies) },
  agents: { type: 'string', default: '2' },
  watchers: { type: 'string' },
  'churn-seconds': { type: 'string', default: '15' },
  'pod-rate': { type: 'string', default: '100' },
  'quiet-seconds': { type: 'string', default: '10' },
  /** Flags for node itself when it runs the controller, split at spaces (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"). */
  'controller-node-args': { type: 'string', default: '' },
  /** The same for the real agents (a profile per agent with `--cpu-prof`). */
  'agent-node-args': { type: 'string', default: '' },
} as const;

type Flags = BenchFlags<typeof OPTIONS>;

const USAGE: UsageSpec = {
  command: 'node dist/bench/scale/scale.js',
  internal: ['inner', 'prefix'],
  values: {
    watchers: 'N (default: every other node)',
    'controller-node-args': '"--cpu-prof --cpu-prof-dir=DIR"',
    'agent-node-args': '"--cpu-prof --cpu-prof-dir=DIR"',
  },
};

export function shapeOf(flags: Flags): ScaleShape {
  return {
    nodes: Number(flags.nodes),
    gatewayNodes: Number(flags['gateway-nodes']),
    pods: Number(flags.pods),
    namespaces: Number(flags.namespaces),
    policies: Number(flags.policies),
  };
}

/** Nodes with a real agent: gateway and worker nodes in turn, starting with a gateway node. */
export function realAgentNodes(shape: ScaleShape, count: number): number[] {
  return Array.from({ length: count }, (_, k) => (k % 2 === 0 ? k / 2 : shape.gatewayNodes + (k - 1) / 2));
}

const ms = (v: number) => (Number.isFinite(v) ? `${v.toFixed(0)} ms` : 'n/a');
const line = (label: string, value: string, goal = '') => process.stdout.write(`  ${label.padEnd(52)} ${value.padStart(14)}  ${goal}\n`);
const usageText = (u: Usage) => `${u.corePercent.toFixed(1)} % core, RSS ${u.rssMiB.toFixed(0)} MiB (peak ${u.peakRssMiB.toFixed(0)})`;
const sleep = (msec: number) => new Promise((r) => setTimeout(r, msec));

async function samples(pids: Record<string, number | undefined>): Promise<Map<string, ProcessSample>> {
  const out = new Map<string, ProcessSample>();
  for (const [name, pid] of Object.entries(pids)) if (pid) out.set(name, await sampleProcess(pid).catch(() => undefined as never));
  return out;
}

function printUsage(title: string, a: Map<string, ProcessSample>, b: Map<string, ProcessSample>): void {
  for (const [name, s] of b) {
    const before = a.get(name);
    if (before && s) line(`${title}: ${name}`, '', usageText(usageBetween(before, s)));
  }
}

function pidsOf(cluster: ScaleCluster): Record<string, number | undefined> {
  return {
    controller: cluster.controller?.pid,
    ...Object.fromEntries(cluster.agents.map((a) => [`agent ${nodeName(a.index)}`, a.process.pid])),
    'API server + driver': process.pid,
  };
}

/** CPU the controller process has used since it started: the figure a loaded machine cannot inflate. */
async function cpuOf(cluster: ScaleCluster): Promise<string> {
  const s = await sampleProcess(cluster.controller!.pid!);
  return ms(s.cpuSeconds * 1000);
}

function reportCheck(label: string, problems: string[]): void {
  line(label, problems.length === 0 ? 'right' : `${problems.length} WRONG`);
  for (const p of problems.slice(0, 5)) process.stdout.write(`      ${p}\n`);
}

/** The controller's start-up up to the Lease and its full Pod list: wall time, its own CPU (what load cannot inflate), and how long the API server's event loop was held. */
async function reportRestart(cluster: ScaleCluster, label: string, leaderAt: number, leaderCpu: string): Promise<void> {
  line(`${label}: Lease taken after`, ms(leaderAt - cluster.controllerStartedAt), `${leaderCpu} controller CPU by then`);
  const listCpu = cluster.controllerPodListCpu;
  line(`${label}: full Pod list answered after`, ms(cluster.controllerPodListAt - cluster.controllerStartedAt), `${ms(listCpu * 1000)} controller CPU by then`);
  line(`${label}: API server event loop held at most`, ms(cluster.apiServerLongestStallMs()));
}

async function inner(flags: Flags): Promise<number> {
  const shape = shapeOf(flags);
  const agentIdx = realAgentNodes(shape, Number(flags.agents));
  const deadline = performance.now() + Number(flags['time-limit-seconds']) * 1000;
  const left = (capMs: number) => Math.max(1000, Math.min(capMs, deadline - performance.now()));
  const timeLimitText = () => (performance.now() >= deadline ? `; the time limit of ${flags['time-limit-seconds']} s was reached` : '');
  const dir = await mkdtemp(join(tmpdir(), 'sluice-scale-'));
  const cluster = await ScaleCluster.start(shape, dir);
  const controllerNodeArgs = flags['controller-node-args'].split(' ').filter(Boolean);
  const startController = () => cluster.startController(controllerNodeArgs);
  const out = process.stdout;
  out.write(
    `bench/scale: ${shape.nodes} nodes (${shape.gatewayNodes} gateway nodes), ${shape.pods} pods in ${shape.namespaces} namespaces, ${shape.policies} policies; real agents on ${agentIdx.map(nodeName).join(', ')}; logs in ${dir}\n`,
  );
  try {
    let t = performance.now();
    cluster.seed();
    line('seed the API server (in process, no HTTP)', ms(performance.now() - t));

    // cold start: nothing written yet
    startController();
    let leader = await cluster.waitLeader(left(120_000));
    line('cold start: Lease taken after', ms(leader - cluster.controllerStartedAt));
    let done = await cluster.converged(5000, left(900_000), leader);
    let last = done.last;
    line('cold start: controller writes every slice and status', ms(last - cluster.controllerStartedAt), `${ms(last - leader)} after the Lease, ${await cpuOf(cluster)} CPU`);
    reportCheck('cold start: slices and statuses', done.problems);
    line('cold start: controller API writes', String(cluster.resetWrites().controller));

    t = performance.now();
    const agentNodeArgs = flags['agent-node-args'].split(' ').filter(Boolean);
    const agents: RealAgent[] = await Promise.all(agentIdx.map((i) => cluster.startAgent(i, `${flags.prefix}n${i}`, agentNodeArgs)));
    line(`${agents.length} real agents ready (first plan and apply)`, ms(performance.now() - t));
    const watcherCount = flags.watchers !== undefined ? Number(flags.watchers) : shape.nodes - agents.length;
    t = performance.now();
    const watches = await cluster.startWatchers(watcherCount);
    line(`simulated nodes: ${watcherCount}, watches opened`, String(watches), ms(performance.now() - t));
    await cluster.settled(3000, left(120_000)).catch(() => undefined);

    // nothing changes: nobody may write (Lease renewals aside)
    const quietMs = Number(flags['quiet-seconds']) * 1000;
    cluster.resetWrites();
    let a = await samples(pidsOf(cluster));
    await sleep(quietMs);
    let b = await samples(pidsOf(cluster));
    let w = cluster.resetWrites();
    line(`quiet ${quietMs / 1000} s: controller writes`, String(w.controller), 'goal 0');
    line(`quiet ${quietMs / 1000} s: agent writes`, String(w.agents), 'goal 0');
    line(`quiet ${quietMs / 1000} s: Lease writes (renewals)`, String(w.leases));
    printUsage('quiet', a, b);

    // restart, nothing changed
    await cluster.stopController();
    cluster.resetWrites();
    startController();
    const leaderAt = await cluster.waitLeader(left(120_000));
    let leaderCpu = await cpuOf(cluster);
    // the window starts once the controller has the whole cluster: before that it cannot write
    const readyAt = await cluster.waitControllerReady(left(120_000));
    await cluster.settled(quietMs, left(300_000), readyAt).catch(() => undefined);
    w = cluster.resetWrites();
    await reportRestart(cluster, 'restart, nothing changed', leaderAt, leaderCpu);
    line('restart, nothing changed: ready (every informer listed)', ms(readyAt - cluster.controllerStartedAt));
    line(`restart, nothing changed: controller writes (${quietMs / 1000} s)`, String(w.controller), 'goal 0');
    for (const [k, n] of w.byResource) out.write(`      ${k}: ${n}\n`);

    // restart with changes made while the controller was down
    await cluster.stopController();
    t = performance.now();
    const changes = applyDowntimeChanges(cluster);
    line(`${changes.total} changes made while the controller is down`, ms(performance.now() - t));
    cluster.resetWrites();
    startController();
    leader = await cluster.waitLeader(left(120_000));
    leaderCpu = await cpuOf(cluster);
    done = await cluster.converged(3000, left(600_000), leader);
    last = done.last;
    w = cluster.resetWrites();
    await reportRestart(cluster, `restart after ${changes.total} changes`, leader, leaderCpu);
    line(
      `restart after ${changes.total} changes: converged after`,
      ms(last - cluster.controllerStartedAt),
      `${ms(last - leader)} after the Lease, ${await cpuOf(cluster)} CPU; goal < 10000 ms`,
    );
    reportCheck('restart after changes: slices and statuses', done.problems);
    line('restart after changes: controller API writes', String(w.controller), `${(w.controller / changes.total).toFixed(2)} per change`);

    // churn
    const churnMs = Number(flags['churn-seconds']) * 1000;
    const podRate = Number(flags['pod-rate']);
    cluster.markWatchers();
    a = await samples(pidsOf(cluster));
    const churn = await runChurn(cluster, churnMs, podRate);
    done = await cluster.converged(3000, left(300_000), churn.endedAt);
    last = done.last;
    b = await samples(pidsOf(cluster));
    w = cluster.resetWrites();
    const fan = await cluster.stopWatchers();
    out.write(`churn ${churnMs / 1000} s: ${churn.podOps} pod creations/deletions, ${churn.policyOps} policy creations/edits/deletions, gateway node ${churn.lostNode} lost\n`);
    line('churn: settled after the last change', ms(last - churn.endedAt));
    reportCheck('churn: slices and statuses', done.problems);
    line('churn: pod created → in its slices p50 / p99', `${ms(percentile(churn.podIn, 50))} / ${ms(percentile(churn.podIn, 99))}`);
    line('churn: pod deleted → out of every slice p50 / p99', `${ms(percentile(churn.podOut, 50))} / ${ms(percentile(churn.podOut, 99))}`);
    line('churn: policy created → status written p50 / p99', `${ms(percentile(churn.policyStatus, 50))} / ${ms(percentile(churn.policyStatus, 99))}`);
    line(`churn: gateway node lost → ${churn.moved.length} policies moved, max`, ms(percentile(churn.moved, 100)));
    line('churn: controller API writes', String(w.controller), `${(w.controller / (churn.podOps + churn.policyOps + 1)).toFixed(2)} per change`);
    for (const [k, n] of w.byResource) out.write(`      ${k}: ${n}\n`);
    line('churn: agent API writes', String(w.agents));
    if (fan) line(`churn: events to ${fan.watches} simulated watches`, String(fan.events), `${fan.mib.toFixed(0)} MiB, ${fan.reconnects} re-watches`);
    printUsage('churn', a, b);

    for (const agent of agents) {
      const times = await cluster.agentTimes(agent);
      line(`agent ${nodeName(agent.index)}: plan time per reconcile (${times.plans} plans)`, ms(times.planMs));
      line(`agent ${nodeName(agent.index)}: nft apply time (${times.nftApplies} applies)`, ms(times.nftMs));
    }
    const endpoints = [...cluster.journal.slices.values()].reduce((n, s) => n + s.pods.length, 0);
    out.write(`  endpoints in all slices: ${endpoints}\n`);
    const final = await samples(pidsOf(cluster));
    for (const [name, s] of final)
      if (s)
        line(
          `RSS ${name}`,
          `${s.rssMiB.toFixed(0)} MiB`,
          `peak ${s.peakRssMiB.toFixed(0)} MiB${name === 'controller' ? ', goal < 300' : name.startsWith('agent') ? ', goal < 80' : ''}`,
        );
    return 0;
  } catch (err) {
    if (!(err instanceof Stalled)) throw err;
    out.write(`  stopped: waiting for ${err.message}${timeLimitText()}\n`);
    return 1;
  } finally {
    await cluster.close();
    if (!flags['keep-dir']) await rm(dir, { recursive: true, force: true });
  }
}

/** While the controller is down: 1 % of the pods replaced, 1 % of the policies edited, a gateway node lost. */
function applyDowntimeChanges(cluster: ScaleCluster): { total: number } {
  let total = 0;
  const keys = [...cluster.pods.keys()];
  const replace = Math.max(1, Math.floor(keys.length / 100));
  for (let k = 0; k < replace; k++) {
    const key = keys[(k * 7919) % keys.length]!;
    const place = cluster.pods.get(key);
    if (!place) continue;
    cluster.deletePod(key);
    const p = Number(place.name.split('-')[1]);
    cluster.createPod(podPlace(cluster.shape, p, 1));
    total += 2;
  }
  const policies = [...cluster.policies.keys()];
  for (let k = 0; k < Math.max(1, Math.floor(policies.length / 100)); k++) {
    cluster.editPolicy(policies[(k * 37) % policies.length]!);
    total++;
  }
  cluster.setNodeReady(busiestGatewayNode(cluster), false);
  return { total: total + 1 };
}

function busiestGatewayNode(cluster: ScaleCluster): number {
  const real = new Set(cluster.agents.map((a) => a.index));
  const load = new Map<number, number>();
  for (const s of cluster.journal.status.values()) {
    const i = s.node ? Number(s.node.slice('node-'.length)) : NaN;
    if (Number.isInteger(i) && !real.has(i) && !cluster.notReady.has(i)) load.set(i, (load.get(i) ?? 0) + 1);
  }
  return [...load].sort((x, y) => y[1] - x[1])[0]?.[0] ?? 2;
}

interface ChurnResult {
  podOps: number;
  policyOps: number;
  lostNode: string;
  endedAt: number;
  podIn: number[];
  podOut: number[];
  policyStatus: number[];
  moved: number[];
}

async function runChurn(cluster: ScaleCluster, durationMs: number, podRate: number): Promise<ChurnResult> {
  const r: ChurnResult = { podOps: 0, policyOps: 0, lostNode: '', endedAt: 0, podIn: [], podOut: [], policyStatus: [], moved: [] };
  const { journal } = cluster;
  const tickMs = 100;
  const perTick = podRate / (1000 / tickMs);
  let owed = 0;
  let nextPod = cluster.shape.pods + 1_000_000;
  let nextPolicy = cluster.shape.policies;
  const created: string[] = [];
  const started = performance.now();
  let tick = 0;
  let lost = false;
  const live = () => [...cluster.pods.keys()];
  let pool = live();
  while (performance.now() - started < durationMs) {
    const now = performance.now();
    owed += perTick;
    for (; owed >= 1; owed--) {
      if (r.podOps % 2 === 0) {
        const key = pool[(r.podOps * 7919) % pool.length]!;
        if (cluster.pods.has(key)) {
          cluster.deletePod(key);
          if (journal.slicesOfPod.get(key)?.size) journal.awaitPod(key, false, now, (d) => r.podOut.push(d));
        }
      } else {
        // a new pod in a fresh slot of an existing node (p ≥ pods: slots past the seeded ones)
        const place = podPlace(cluster.shape, (nextPod++ % (cluster.shape.nodes * 150)) + cluster.shape.pods);
        const key = `${place.namespace}/${place.name}`;
        if (!cluster.pods.has(key)) {
          cluster.createPod(place);
          if ([...cluster.policies.values()].some((p) => selects(p.selection, place))) journal.awaitPod(key, true, now, (d) => r.podIn.push(d));
        }
      }
      r.podOps++;
    }
    if (tick % (1000 / tickMs) === 0) {
      // a policy created, then edited, then deleted, one operation a second
      const step = r.policyOps % 3;
      if (step === 0) {
        const key = cluster.createPolicy(nextPolicy++);
        created.push(key);
        journal.awaitStatus(key, now, (d) => r.policyStatus.push(d));
      } else if (step === 1) cluster.editPolicy(created.at(-1)!);
      else cluster.deletePolicy(created.pop()!);
      r.policyOps++;
    }
    if (!lost && now - started >= durationMs / 2) {
      lost = true;
      const node = busiestGatewayNode(cluster);
      r.lostNode = nodeName(node);
      for (const [key, s] of journal.status) if (s.node === nodeName(node)) journal.awaitStatus(key, now, (d) => r.moved.push(d));
      cluster.setNodeReady(node, false);
    }
    if (tick % 50 === 0) pool = live();
    tick++;
    await new Promise((res) => setTimeout(res, Math.max(0, started + tick * tickMs - performance.now())));
  }
  r.endedAt = performance.now();
  return r;
}

export async function main(argv = process.argv.slice(2)): Promise<number> {
  const { values: flags } = parseBenchArgs(USAGE, OPTIONS, argv);
  if (flags.inner) return inner(flags);
  if (process.getuid?.() !== 0) {
    process.stdout.write('bench/scale: needs root (network namespaces, nftables); skipped\n');
    return 0;
  }
  const shape = shapeOf(flags);
  const agents = realAgentNodes(shape, Number(flags.agents)).map((index) => ({ index, ip: nodeIp(index) }));
  return runInLab(fileURLToPath(import.meta.url), argv, agents);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exitCode = await main();
