/**
 * bench/scale idle: what an agent with nothing to do costs. The simulated cluster (1000 policies
 * by default) with the real controller and one real agent on a gateway node; once everything has
 * settled, the agent's CPU over a window (the goal: under 1 % of a core averaged over 5 minutes),
 * its wake-ups (context switches of all threads), and which timers fired and how often (a preloaded
 * probe, armed only after the CPU window so its stack walks do not count).
 *
 *   node dist/bench/scale/idle.js [--window-seconds 60] [--probe-seconds 20] [--pods 100000] [--baseline OTHER/dist] ...
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { FULL_SHAPE, nodeIp, nodeName, type ScaleShape } from './cluster-model.js';
import { parseBenchArgs, type UsageSpec, type BenchFlags } from '../command-line.js';
import { runInLab } from './lab-runner.js';
import { contextSwitchesByThread, sampleProcess, sampleProcessTree, usageBetween } from './process-stats.js';
import { ScaleCluster } from './scale-cluster.js';

const OPTIONS = {
  inner: { type: 'boolean' },
  prefix: { type: 'string' },
  'keep-dir': { type: 'boolean' },
  /** A machine too loaded to converge ends the run with what is still wrong instead of hanging. */
  'time-limit-seconds': { type: 'string', default: '240' },
  nodes: { type: 'string', default: String(FULL_SHAPE.nodes) },
  'gateway-nodes': { type: 'string', default: String(FULL_SHAPE.gatewayNodes) },
  pods: { type: 'string', default: String(FULL_SHAPE.pods) },
  namespaces: { type: 'string', default: String(FULL_SHAPE.namespaces) },
  policies: { type: 'string', default: String(FULL_SHAPE.policies) },
  'window-seconds': { type: 'string', default: '60' },
  'probe-seconds': { type: 'string', default: '20' },
  'settle-seconds': { type: 'string', default: '10' },
  /** The dist directory of another build whose agent is measured before this one's, in the same run (ratios); repeatable, in order. */
  baseline: { type: 'string', multiple: true },
  /** An argument for every agent of the run, e.g. `--agent-arg=--probe-port=0` (repeatable). */
  'agent-arg': { type: 'string', multiple: true },
} as const;

type Flags = BenchFlags<typeof OPTIONS>;

const USAGE: UsageSpec = { command: 'node dist/bench/scale/idle.js', internal: ['inner', 'prefix'], values: { baseline: 'OTHER/dist', 'agent-arg': '--flag=value' } };

const AGENT_NODE = 0;
const sleep = (msec: number) => new Promise((r) => setTimeout(r, msec));
const line = (label: string, value: string, goal = '') => process.stdout.write(`  ${label.padEnd(52)} ${value.padStart(14)}  ${goal}\n`);

/** The probe writes its report when the agent's event loop gets to the signal: on a loaded machine, later. */
async function readWhenWritten(path: string, timeoutMs: number): Promise<string> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      return await readFile(path, 'utf8');
    } catch (err) {
      if (performance.now() > deadline) throw err;
      await sleep(250);
    }
  }
}

function shapeOf(flags: Flags): ScaleShape {
  return {
    nodes: Number(flags.nodes),
    gatewayNodes: Number(flags['gateway-nodes']),
    pods: Number(flags.pods),
    namespaces: Number(flags.namespaces),
    policies: Number(flags.policies),
  };
}

interface AgentFigures {
  readonly corePercent: number;
  readonly wakeupsPerSecond: number;
  readonly treeCorePercent: number;
  readonly rssMiB: number;
  readonly heapUsedMiB: number;
  /** V8 heap used right after a full collection. */
  readonly heapHeldMiB: number;
}

/** One agent on the gateway node, from start to a measured idle window (and the timer probe after it). */
async function measureAgent(
  cluster: ScaleCluster,
  flags: Flags,
  dir: string,
  run: number,
  label: string,
  sluiceMain: string | undefined,
  left: (capMs: number) => number,
): Promise<AgentFigures> {
  const probeOut = join(dir, `wake-probe-${run}.json`);
  const memoryOut = join(dir, `memory-probe-${run}.json`);
  const probe = pathToFileURL(fileURLToPath(new URL('./wake-probe.js', import.meta.url))).href;
  const agent = await cluster.startAgent(
    AGENT_NODE,
    `${flags.prefix}n${AGENT_NODE}`,
    ['--import', probe],
    { SLUICE_WAKE_PROBE_OUT: probeOut, SLUICE_MEMORY_PROBE_OUT: memoryOut },
    sluiceMain,
    flags['agent-arg'] ?? [],
  );
  await cluster.settled(Number(flags['settle-seconds']) * 1000, left(300_000), performance.now());
  const pid = agent.process.pid!;
  const windowMs = Number(flags['window-seconds']) * 1000;
  process.stdout.write(
    `  agent of ${label}, load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}:\n`,
  );
  cluster.resetWrites();
  const a = await sampleProcess(pid);
  const at = await sampleProcessTree(pid);
  const ta = await contextSwitchesByThread(pid);
  const c0 = await sampleProcess(cluster.controller!.pid!);
  await sleep(windowMs);
  const b = await sampleProcess(pid);
  const bt = await sampleProcessTree(pid);
  const tb = await contextSwitchesByThread(pid);
  const c1 = await sampleProcess(cluster.controller!.pid!);
  const w = cluster.resetWrites();
  const u = usageBetween(a, b);
  const ut = usageBetween(at, bt);
  const cu = usageBetween(c0, c1);
  const times = await cluster.agentTimes(agent);
  line(`agent idle CPU over ${u.seconds.toFixed(0)} s`, `${u.corePercent.toFixed(2)} % core`, 'goal < 1 % (5 min window)');
  line('agent wake-ups (context switches, all threads)', `${u.wakeupsPerSecond.toFixed(1)} /s`);
  const byThread = [...tb]
    .map(([name, t]) => ({ name, threads: t.threads, perSecond: (t.switches - (ta.get(name)?.switches ?? 0)) / u.seconds }))
    .sort((x, y) => y.perSecond - x.perSecond);
  line(
    '  by thread',
    byThread
      .filter((t) => t.perSecond >= 0.05)
      .map((t) => `${t.name}×${t.threads} ${t.perSecond.toFixed(1)}`)
      .join(', ') || 'none',
  );
  line(
    `agent with its ${bt.processes - 1} living child processes`,
    `${ut.corePercent.toFixed(2)} % core`,
    `${ut.wakeupsPerSecond.toFixed(1)} wake-ups/s, RSS ${ut.rssMiB.toFixed(0)} MiB (children: ip monitor)`,
  );
  line('agent RSS', `${u.rssMiB.toFixed(0)} MiB`, `peak ${u.peakRssMiB.toFixed(0)} MiB, goal < 80`);
  const mem = await cluster.agentMemory(agent);
  line(
    'agent memory: V8 heap used / allocated, off-heap',
    `${mem.heapUsed.toFixed(0)} / ${mem.heapTotal.toFixed(0)} MiB`,
    `external ${mem.external.toFixed(0)} MiB; the rest of RSS is code, stacks and the allocator's`,
  );
  agent.process.kill('SIGWINCH');
  const held = JSON.parse(await readWhenWritten(memoryOut, 60_000)) as {
    rss: number;
    heapUsed: number;
    heapTotal: number;
    external: number;
    spaces: Record<string, { size: number; used: number }>;
  };
  const mib = (bytes: number) => bytes / 1048576;
  line(
    'agent memory after a full GC: V8 heap used, RSS',
    `${mib(held.heapUsed).toFixed(1)} MiB`,
    `RSS ${mib(held.rss).toFixed(0)} MiB, heap allocated ${mib(held.heapTotal).toFixed(0)} MiB, external ${mib(held.external).toFixed(0)} MiB`,
  );
  line(
    '  heap spaces allocated (used), MiB',
    Object.entries(held.spaces)
      .filter(([, s]) => s.size >= 1048576)
      .map(([name, s]) => `${name.replace(/_space$/, '')} ${mib(s.size).toFixed(0)} (${mib(s.used).toFixed(0)})`)
      .join(', '),
  );
  line('agent plans / nft applies since start', `${times.plans} / ${times.nftApplies}`, `plan ${times.planMs.toFixed(0)} ms, nft ${times.nftMs.toFixed(0)} ms on average`);
  line('controller idle CPU over the same window', `${cu.corePercent.toFixed(2)} % core`, `${cu.wakeupsPerSecond.toFixed(1)} wake-ups/s, RSS ${cu.rssMiB.toFixed(0)} MiB`);
  line('API writes in the window (controller / agents / Lease)', `${w.controller} / ${w.agents} / ${w.leases}`);

  const probeMs = Number(flags['probe-seconds']) * 1000;
  if (probeMs > 0) {
    agent.process.kill('SIGUSR2');
    await sleep(probeMs);
    agent.process.kill('SIGUSR2');
    const report = JSON.parse(await readWhenWritten(probeOut, 60_000)) as { seconds: number; sites: { site: string; kind: string; delayMs: number; fired: number }[] };
    process.stdout.write(`  timers that fired in the agent over ${report.seconds.toFixed(0)} s (per minute, set at):\n`);
    for (const s of report.sites.slice(0, 15)) process.stdout.write(`    ${((60 * s.fired) / report.seconds).toFixed(1).padStart(7)}/min  ${s.kind} ${s.delayMs} ms  ${s.site}\n`);
    if (report.sites.length === 0) process.stdout.write('    none\n');
  }
  await cluster.stopAgent(agent);
  return {
    corePercent: u.corePercent,
    wakeupsPerSecond: u.wakeupsPerSecond,
    treeCorePercent: ut.corePercent,
    rssMiB: u.rssMiB,
    heapUsedMiB: mem.heapUsed,
    heapHeldMiB: mib(held.heapUsed),
  };
}

async function inner(flags: Flags): Promise<void> {
  const shape = shapeOf(flags);
  const deadline = performance.now() + Number(flags['time-limit-seconds']) * 1000;
  const left = (capMs: number) => Math.max(1000, Math.min(capMs, deadline - performance.now()));
  const dir = await mkdtemp(join(tmpdir(), 'sluice-idle-'));
  const cluster = await ScaleCluster.start(shape, dir);
  process.stdout.write(
    `bench/scale idle: ${shape.policies} policies, ${shape.pods} pods, ${shape.nodes} nodes; the agent on ${nodeName(AGENT_NODE)} (a gateway node); logs in ${dir}\n`,
  );
  try {
    cluster.seed();
    cluster.startController();
    const cold = await cluster.converged(5000, left(900_000), await cluster.waitLeader(left(120_000)));
    if (cold.problems.length) process.stdout.write(`  the controller did not converge: ${cold.problems.slice(0, 3).join('; ')}\n`);
    // Earlier builds first, this build last; each is compared with the first and with the one before it.
    const builds = [...(flags.baseline ?? []).map((d) => ({ label: d, main: join(resolve(d), 'agent/main.js') as string | undefined })), { label: 'this build', main: undefined }];
    const figures: AgentFigures[] = [];
    for (const [i, b] of builds.entries()) figures.push(await measureAgent(cluster, flags, dir, i, b.label, b.main, left));
    for (let i = 1; i < builds.length; i++) {
      for (const j of new Set([0, i - 1])) {
        const [before, after] = [figures[j]!, figures[i]!];
        process.stdout.write(`  ${builds[i]!.label} / ${builds[j]!.label}:\n`);
        const ratio = (label: string, b: number, a: number, unit: string) => line(`  ${label}`, `${(a / b).toFixed(2)}×`, `${a.toFixed(2)} vs ${b.toFixed(2)} ${unit}`);
        ratio('agent CPU', before.corePercent, after.corePercent, '% core');
        ratio('agent and children CPU', before.treeCorePercent, after.treeCorePercent, '% core');
        ratio('wake-ups', before.wakeupsPerSecond, after.wakeupsPerSecond, '/s');
        ratio('RSS', before.rssMiB, after.rssMiB, 'MiB');
        ratio('V8 heap used', before.heapUsedMiB, after.heapUsedMiB, 'MiB');
        ratio('V8 heap used after a full GC', before.heapHeldMiB, after.heapHeldMiB, 'MiB');
      }
    }
  } finally {
    await cluster.close();
    if (!flags['keep-dir']) await rm(dir, { recursive: true, force: true });
  }
}

export async function main(argv = process.argv.slice(2)): Promise<number> {
  const { values: flags } = parseBenchArgs(USAGE, OPTIONS, argv);
  if (flags.inner) {
    await inner(flags);
    return 0;
  }
  if (process.getuid?.() !== 0) {
    process.stdout.write('bench/scale idle: needs root (network namespaces, nftables); skipped\n');
    return 0;
  }
  return runInLab(fileURLToPath(import.meta.url), argv, [{ index: AGENT_NODE, ip: nodeIp(AGENT_NODE) }]);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exitCode = await main();
