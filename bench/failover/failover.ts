/**
 * Gateway failover, timed by packets: a pod on the worker sends UDP datagrams with sequence
 * numbers at 1000/s over one socket to the external host, whose kernel timestamps each arrival and
 * the MAC it came from; the outage of a trial is the largest gap the receiver saw. Series, each of
 * `--trials` trials on the gateway node carrying the EIP, with the lab's default node grace of
 * 40 s (so the API path cannot be what recovers):
 *
 *   hard fail                  `e2e/lab fail-node` (link cut at the bridge, agent SIGKILLed); healed after
 *   hard fail, API server down the same while the API server refuses every connection
 *   planned: SIGTERM           the carrying agent stopped as the kubelet stops a pod; started again after
 *   planned: label removed     the gateway label taken off the carrying node; put back after
 *   planned: kubectl cordon    the carrying node cordoned; uncordoned after
 *   planned: sluice drain      the carrying node annotated as `sluice drain` does; the annotation removed after
 *
 * p50 / p99 / max of the outage over the trials that recovered (the flow came back through the
 * other gateway within `--window-s`), the datagrams lost, and the longest time two MACs answered
 * ARP for the EIP at once. A series gives up after 3 trials in a row without recovery and says so.
 * Below, the medians of where a hard failure's time went, from the agents' failover-trace lines
 * (breakdown.ts). `--probe-interval 100,50` runs every series once per probe interval, each in a
 * lab whose agents probe at that interval (3 misses: the agents' default).
 *
 *   node dist/bench/failover/failover.js [--trials 20] [--window-s 10] [--series hard,api-down,sigterm,label,cordon,drain] [--probe-interval 100[,MS...]]
 *
 * Root only; builds its own lab and always tears it down, also on Ctrl-C.
 */
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { cleanupOnSignal } from '../../e2e/labkit/signal-cleanup.js';
import { expectLeavesAs } from '../../e2e/scenarios/support/echo.js';
import { nodesByMac } from '../../e2e/scenarios/support/failover-watch.js';
import { applyObjects, kubectl } from '../../e2e/scenarios/support/kubectl.js';
import { appSelector, egressPolicy } from '../../e2e/scenarios/support/manifests.js';
import { waitGatewaysFit } from '../../e2e/scenarios/support/peer-liveness.js';
import { waitAssigned } from '../../e2e/scenarios/support/policy-status.js';
import { GATEWAY_NAME, GATEWAY_NODE_LABELS, ScenarioLab } from '../../e2e/scenarios/support/scenario-lab.js';
import { parseBenchArgs, type UsageSpec } from '../command-line.js';
import { within } from '../throughput/deadline.js';
import { renderBreakdown, renderSeries, TARGETS, type SeriesResult } from './report.js';
import { DEFAULT_PROBES } from '../../agent/probe-flags.js';
import { DRAIN_ANNOTATION } from '../../lib/api/group.js';
import { runSeries, type SeriesContext, type SeriesSpec } from './series.js';

const LAB_UP_MS = 240_000;
const LAB_DOWN_MS = 60_000;
const GRACE_SECONDS = 40;
const POD = 'default/client';
const WORKER = 'worker-1';
const SERIES_BUDGET_MS = 8 * 60_000;
const GIVE_UP_AFTER = 3;
const [LABEL, LABEL_VALUE] = Object.entries(GATEWAY_NODE_LABELS)[0]!;

const SERIES: Record<string, SeriesSpec> = {
  hard: { name: 'hard fail (fail-node)', act: (lab, n) => lab.failNode(n), repair: (lab, n) => lab.healNode(n), detected: true },
  'api-down': {
    name: 'hard fail, API server down',
    detected: true,
    prepare: (lab) => lab.apiServerDown(),
    act: (lab, n) => lab.failNode(n),
    repair: async (lab, n) => {
      await lab.apiServerUp();
      await lab.healNode(n);
    },
  },
  sigterm: { name: 'planned: SIGTERM to the agent', act: (lab, n) => lab.stopAgent(n), repair: (lab, n) => lab.startAgent(n) },
  label: {
    name: 'planned: gateway label removed',
    act: async (lab, n) => void (await kubectl(lab, ['label', 'node', n, `${LABEL}-`])),
    repair: async (lab, n) => void (await kubectl(lab, ['label', 'node', n, `${LABEL}=${LABEL_VALUE}`, '--overwrite'])),
  },
  cordon: {
    name: 'planned: kubectl cordon',
    act: async (lab, n) => void (await kubectl(lab, ['cordon', n])),
    repair: async (lab, n) => void (await kubectl(lab, ['uncordon', n])),
  },
  drain: {
    name: 'planned: sluice drain',
    act: async (lab, n) => void (await kubectl(lab, ['annotate', 'node', n, `${DRAIN_ANNOTATION}=true`, '--overwrite'])),
    repair: async (lab, n) => void (await kubectl(lab, ['annotate', 'node', n, `${DRAIN_ANNOTATION}-`])),
  },
};

const log = (line: string) => void process.stderr.write(`${line}\n`);
const loadAverage = async () => (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
const buildCommit = async () => {
  const file = new URL('../../build-info.json', import.meta.url);
  return ((JSON.parse(await readFile(file, 'utf8').catch(() => '{}')) as { commit?: string }).commit ?? 'unknown').slice(0, 12);
};

const USAGE: UsageSpec = { command: 'node dist/bench/failover/failover.js', values: { 'probe-interval': `${DEFAULT_PROBES.intervalMs}[,MS...]` } };

function parseOptions(argv: readonly string[]) {
  const { values } = parseBenchArgs(
    USAGE,
    {
      trials: { type: 'string', default: '20' },
      'window-s': { type: 'string', default: '10' },
      series: { type: 'string', default: Object.keys(SERIES).join(',') },
      'probe-interval': { type: 'string', default: String(DEFAULT_PROBES.intervalMs) },
    },
    argv,
  );
  const trials = Number(values.trials);
  const windowS = Number(values['window-s']);
  if (!Number.isInteger(trials) || trials < 1) throw new Error(`--trials must be a whole number >= 1, got ${JSON.stringify(values.trials)}`);
  if (!(windowS >= 2)) throw new Error(`--window-s must be >= 2, got ${JSON.stringify(values['window-s'])}`);
  const series = values.series
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = series.filter((s) => !(s in SERIES));
  if (unknown.length || series.length === 0) throw new Error(`--series takes a list of ${Object.keys(SERIES).join(', ')}; got ${JSON.stringify(values.series)}`);
  const intervals = values['probe-interval'].split(',').map((s) => Number(s.trim().replace(/ms$/, '')));
  if (intervals.length === 0 || intervals.some((n) => !Number.isInteger(n) || n < 10 || n > 10_000))
    throw new Error(`--probe-interval takes a list of milliseconds (10-10000), got ${JSON.stringify(values['probe-interval'])}`);
  return { trials, windowMs: windowS * 1000, series, intervals };
}

export async function main(argv: readonly string[]): Promise<number> {
  const opts = parseOptions(argv);
  if (process.getuid?.() !== 0) {
    process.stderr.write('failover benchmark needs root (network namespaces)\n');
    return 2;
  }
  const suffix = 'fobench';
  const release = cleanupOnSignal(() => ScenarioLab.downUnfinished(suffix));
  try {
    const loadBefore = await loadAverage();
    const results: SeriesResult[] = [];
    for (const intervalMs of opts.intervals) results.push(...(await runLab(suffix, intervalMs, opts)));
    process.stdout.write(
      [
        `gateway failover: outage = largest gap at the external host's receiver of a UDP flow at 1000 datagrams/s from a pod on the worker (one socket), in ms; node grace ${GRACE_SECONDS} s; 1 worker, 2 gateway nodes; probes every N ms, ${DEFAULT_PROBES.misses} misses`,
        `build ${await buildCommit()}, load average ${loadBefore} before, ${await loadAverage()} after; a shared machine: figures drift between runs`,
        `goals: hard fail p50 < ${TARGETS.hardP50} ms, p99 < ${TARGETS.hardP99} ms; planned < ${TARGETS.planned} ms`,
        '',
        renderSeries(results, opts.windowMs),
        '',
        renderBreakdown(results),
        '',
      ].join('\n'),
    );
    return 0;
  } finally {
    await within(LAB_DOWN_MS, 'tearing the lab down', ScenarioLab.downUnfinished(suffix)).catch(() => undefined);
    release();
  }
}

/** The series in one lab whose agents probe every `intervalMs`; always tears it down. */
async function runLab(suffix: string, intervalMs: number, opts: ReturnType<typeof parseOptions>): Promise<SeriesResult[]> {
  log(`building the lab (1 worker, 2 gateway nodes, node grace 40 s, probes every ${intervalMs} ms)`);
  const env = await within(
    LAB_UP_MS,
    'building the lab',
    ScenarioLab.up(suffix, {
      workers: 1,
      gateways: 2,
      nodeGraceSeconds: GRACE_SECONDS,
      pods: [{ namespace: 'default', name: 'client', labels: { app: 'client' }, node: WORKER }],
      ...(intervalMs !== DEFAULT_PROBES.intervalMs ? { agent: { args: ['--probe-interval', String(intervalMs)] } } : {}),
    }),
  );
  try {
    const policy = egressPolicy('default', 'bench', { egressGatewayName: GATEWAY_NAME, appliedTo: appSelector('client') });
    await applyObjects(env.lab, [policy]);
    const eip = (await waitAssigned(env.lab, policy)).ipv4!;
    const ctx: SeriesContext = {
      lab: env.lab,
      pod: POD,
      worker: WORKER,
      eip,
      macs: await nodesByMac(env.lab),
      gateways: env.gatewayNodes,
      windowMs: opts.windowMs,
      carrier: async () => {
        await waitGatewaysFit(env.lab, env.gatewayNodes);
        const at = await waitAssigned(env.lab, policy, { ipv4: eip }, 90_000);
        await expectLeavesAs(env.lab, POD, eip, { timeoutMs: 60_000 });
        return at.node;
      },
    };
    const results: SeriesResult[] = [];
    for (const key of opts.series) {
      const spec = { ...SERIES[key]!, name: `${SERIES[key]!.name}, ${intervalMs} ms` };
      results.push({ name: spec.name, planned: opts.trials, trials: await runSeries(ctx, spec, opts.trials, { budgetMs: SERIES_BUDGET_MS, giveUpAfter: GIVE_UP_AFTER, log }) });
    }
    return results;
  } finally {
    log('tearing the lab down');
    await within(LAB_DOWN_MS, 'tearing the lab down', env.down());
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    process.exitCode = await main(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`failover benchmark failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  }
}
