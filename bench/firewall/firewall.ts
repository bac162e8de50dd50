/**
 * What an EgressFirewall costs, in one lab and one run (ratios against a baseline of the same run:
 * the machine is shared, absolute figures drift):
 *   - throughput of an allowed pod → external flow (iperf3) with no firewall, 100 CIDR rules,
 *     10 000 CIDR rules, and a rule by name whose set holds 10 000 learned addresses; in each case
 *     the flow's rule is the last one tried. Configurations alternate over the rounds.
 *   - the DNS hold (bench/firewall/hold-worker.ts, in the worker's namespace): what waiting for the
 *     set update adds to an answer, p50/p99, server-side and as the client sees it against answers
 *     that need no update; and the set update cost at each paced `--rate` (answers a second), with
 *     where unanswered queries were lost. The forwarder runs alone in its process, the upstream
 *     and the client in another, as in a cluster.
 * Goals: ≥ 0.95 throughput ratio at 10 000; p99 added latency < 2 ms.
 *
 *   node dist/bench/firewall/firewall.js [--seconds 5] [--rounds 3] [--queries 1000] [--rate 500,1000] [--hold-only]
 *       [--hold-rounds 1] [--baseline OTHER/dist] [--renewal expires,expires/libnftables,readd]
 *
 * `--baseline` runs another build's hold worker (e.g. /path/to/main/dist) alternately with this
 * one's, `--hold-rounds` times each, and reports this build's figures as ratios to it; with
 * `--renewal`, this build runs once per renewal given (`/libnftables`: without the direct netlink
 * write), and the first is compared with the others.
 *
 * Root only. Builds its own lab (1 worker, 1 gateway, no agents: plans from the real planner
 * applied with `sluice apply`) and always tears it down; nothing outside its namespaces is touched.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseBenchArgs, type UsageSpec } from '../command-line.js';
import { Lab } from '../../e2e/labkit/lab.js';
import type { LabInfo, PodInfo } from '../../e2e/labkit/info.js';
import { cleanupOnSignal } from '../../e2e/labkit/signal-cleanup.js';
import { labSnapshot } from '../../e2e/dataplane/lab-cluster.js';
import { applyPlan } from '../../e2e/dataplane/sluice-cli.js';
import { API_VERSION } from '../../lib/api/group.js';
import { plan } from '../../lib/planner/plan.js';
import type { NodePlan } from '../../lib/planner/node-plan.js';
import { within } from '../throughput/deadline.js';
import { iperf } from '../throughput/iperf.js';
import { median } from '../throughput/report.js';
import type { HoldReport } from './hold-worker.js';
import { holdSection, type HoldRun } from './hold-report.js';

const HOLD_WORKER = fileURLToPath(new URL('./hold-worker.js', import.meta.url));
const LAB_UP_MS = 180_000;
const LAB_DOWN_MS = 60_000;
const APPLY_MS = 300_000;
const LEARNED = 10_000;
const NAME = 'echo.bench.test';

type Config = 'none' | 'rules-100' | 'rules-10000' | 'learned-10000';
const CONFIGS: readonly Config[] = ['none', 'rules-100', 'rules-10000', 'learned-10000'];

const USAGE: UsageSpec = { command: 'node dist/bench/firewall/firewall.js', values: { baseline: 'OTHER/dist', renewal: 'expires,expires/libnftables,readd' } };
const log = (line: string) => void process.stderr.write(`${line}\n`);

/** The i-th address of 100.64.0.0/10 (never the echo's): rules that never match the flow. */
const decoy = (i: number) => `100.${64 + ((i >> 16) & 63)}.${(i >> 8) & 255}.${i & 255}`;

/** A firewall takes at most 1000 rules: 10 000 rules are ten firewalls, tried by priority. */
const RULES_PER_FIREWALL = 1000;

function firewallDocs(client: PodInfo, echo: string, config: Config): Record<string, unknown>[] {
  if (config === 'none') return [];
  const decoys = config === 'rules-100' ? 99 : config === 'rules-10000' ? 9_999 : 0;
  const egress = [
    ...Array.from({ length: decoys }, (_, i) => ({ type: 'Allow', to: { cidrSelector: `${decoy(i)}/32` } })),
    config === 'learned-10000' ? { type: 'Allow', to: { dnsName: NAME } } : { type: 'Allow', to: { cidrSelector: `${echo}/32` } },
  ];
  const docs: Record<string, unknown>[] = [];
  for (let i = 0; i * RULES_PER_FIREWALL < egress.length; i++) {
    docs.push({
      apiVersion: API_VERSION,
      kind: 'EgressFirewall',
      metadata: { name: `bench-${i}`, namespace: client.namespace, uid: `uid-bench-${i}`, creationTimestamp: '2026-01-01T00:00:00Z' },
      // The first firewall tried has the highest priority; its Deny is the default.
      spec: {
        priority: 100 - i,
        appliedTo: { podSelector: { matchLabels: client.labels } },
        defaultAction: 'Deny',
        egress: egress.slice(i * RULES_PER_FIREWALL, (i + 1) * RULES_PER_FIREWALL),
      },
    });
  }
  return docs;
}

function workerPlan(info: LabInfo, client: PodInfo, config: Config): NodePlan {
  return plan(labSnapshot(info, { policies: firewallDocs(client, info.echo.ipv4, config) }), client.node);
}

/** 10 000 addresses in the rule by name's set, the echo's among them, as the forwarder would put them. */
async function fillLearned(lab: Lab, p: NodePlan, echo: string): Promise<void> {
  const set = p.nft.sets.find((s) => s.learned && /_n\d+_4$/.test(s.name));
  if (!set) throw new Error('the plan has no learned set');
  const addresses = [...Array.from({ length: LEARNED - 1 }, (_, i) => decoy(i)), echo];
  const lines = [];
  for (let i = 0; i < addresses.length; i += 1000)
    lines.push(
      `add element inet ${p.nft.name} ${set.name} { ${addresses
        .slice(i, i + 1000)
        .map((a) => `${a} timeout 1h`)
        .join(', ')} }`,
    );
  await lab.exec({ node: p.node }, ['nft', '-f', '-'], { input: `${lines.join('\n')}\n`, timeoutMs: 60_000 });
}

/** Packets the flow's Allow rule counted: proof the flow went through the firewall chain. */
async function allowCount(lab: Lab, p: NodePlan): Promise<number> {
  const r = await lab.exec({ node: p.node }, ['nft', 'list', 'chain', 'inet', p.nft.name, 'egress_firewall'], { timeoutMs: 60_000, allowFailure: true });
  if (r.exitCode !== 0) return 0;
  const last =
    r.stdout
      .split('\n')
      .filter((l) => /accept comment "fw /.test(l) && !/\bip6 /.test(l))
      .at(-1) ?? '';
  return Number(/counter packets (\d+)/.exec(last)?.[1] ?? 0);
}

interface Options {
  readonly seconds: number;
  readonly rounds: number;
  readonly queries: number;
  readonly rates: readonly number[];
  /** Only the DNS hold, no throughput rounds. */
  readonly holdOnly: boolean;
  /** Runs of the hold worker per build. */
  readonly holdRounds: number;
  /** Another build's dist directory whose hold worker runs alternately with ours. */
  readonly baseline?: string;
  /** Our hold worker once per renewal given (how learned elements are renewed); none: as probed. */
  readonly renewals: readonly string[];
}

async function measure(lab: Lab, opts: Options, dir: string): Promise<string> {
  const info = await lab.info();
  const worker = info.nodes.find((n) => n.role === 'worker')!;
  const client = await lab.addPod({ namespace: 'default', name: 'bench-client', labels: { app: 'bench-client' }, node: worker.name });
  const known = await lab.info();
  const plans = new Map(CONFIGS.map((c) => [c, workerPlan(known, client, c)]));
  const gbps = new Map<Config, number[]>();
  const applyMs = new Map<Config, number[]>();
  for (let round = 0; round < (opts.holdOnly ? 0 : opts.rounds); round++) {
    const order = CONFIGS.map((_, i) => CONFIGS[(i + round) % CONFIGS.length]!);
    for (const config of order) {
      const p = plans.get(config)!;
      const started = performance.now();
      await within(APPLY_MS, `applying ${config}`, applyPlan(lab, p, { announce: false }));
      applyMs.set(config, [...(applyMs.get(config) ?? []), performance.now() - started]);
      if (config === 'learned-10000') await fillLearned(lab, p, info.echo.ipv4);
      const before = await allowCount(lab, p);
      const r = await iperf(lab, { pod: `${client.namespace}/${client.name}` }, info.echo.ipv4, opts.seconds, 1);
      const counted = (await allowCount(lab, p)) - before;
      if (config !== 'none' && counted <= 0) throw new Error(`${config}: the flow's Allow rule counted nothing; the flow did not go through the firewall`);
      gbps.set(config, [...(gbps.get(config) ?? []), r.gbps]);
      log(
        `round ${round + 1}/${opts.rounds} ${config.padEnd(13)} ${r.gbps.toFixed(2)} Gbit/s (${r.retransmits} retr)${config === 'none' ? '' : `, allow rule counted ${counted} packets`}`,
      );
    }
  }
  // The hold, in the worker's namespace, on the plan with a rule by name (its own table load);
  // with a baseline build, its runs and ours alternate.
  const planFile = join(dir, 'learned-plan.json');
  await writeFile(planFile, JSON.stringify(plans.get('learned-10000')));
  await applyPlan(lab, plans.get('none')!, { announce: false });
  const builds = [
    ...(opts.renewals.length === 0 ? [undefined] : opts.renewals).map((r) => {
      const [renewal, writes] = r?.split('/') ?? [];
      return {
        label: r ? `this build, renewal ${r}` : 'this build',
        worker: HOLD_WORKER,
        extra: [...(renewal ? ['--renewal', renewal] : []), ...(writes ? ['--writes', writes] : [])],
        runs: [] as HoldRun[],
      };
    }),
    ...(opts.baseline ? [{ label: `baseline ${opts.baseline}`, worker: join(opts.baseline, 'bench/firewall/hold-worker.js'), extra: [], runs: [] as HoldRun[] }] : []),
  ];
  for (let round = 0; round < opts.holdRounds; round++) {
    for (let i = 0; i < builds.length; i++) {
      const b = builds[(i + round) % builds.length]!;
      const before = loadavg()[0]!;
      const h = await lab.exec(
        { node: worker.name },
        [process.execPath, b.worker, '--plan', planFile, '--queries', String(opts.queries), '--rate', opts.rates.join(','), ...b.extra],
        { timeoutMs: 600_000 },
      );
      b.runs.push({ report: JSON.parse(h.stdout) as HoldReport, load: [before, loadavg()[0]!] });
      log(`hold round ${round + 1}/${opts.holdRounds}: ${b.label} done`);
    }
  }
  const base = median(gbps.get('none') ?? []);
  const throughput = opts.holdOnly
    ? []
    : [
        `pod -> external host (${info.echo.ipv4}) iperf3 -P 1, ${opts.rounds} round(s) x ${opts.seconds} s per configuration, alternated; the flow's rule is the last one tried`,
        '',
        '| configuration | nft rules in the firewall chain | apply (median, ms) | Gbit/s (median) | ratio to no firewall |',
        '| --- | --- | --- | --- | --- |',
        ...CONFIGS.map((c) => {
          const rules = plans.get(c)!.nft.chains.find((x) => x.name === 'egress_firewall')?.rules.length ?? 0;
          const g = median(gbps.get(c) ?? []);
          return `| ${c} | ${rules} | ${median(applyMs.get(c) ?? []).toFixed(0)} | ${g.toFixed(2)} | ${(g / base).toFixed(3)} |`;
        }),
        '',
      ];
  const lines = [
    ...throughput,
    `DNS hold (forwarder on loopback in ${worker.name}'s namespace, alone in its process; upstream and client in another; ${opts.queries} learned and ${opts.queries} passed queries alternated, then paced at ${opts.rates.join(', ')} answers/s for 5 s each):`,
    '',
    ...holdSection(builds),
  ];
  return `${lines.join('\n')}\n`;
}

export async function main(argv: readonly string[]): Promise<number> {
  const { values } = parseBenchArgs(
    USAGE,
    {
      seconds: { type: 'string', default: '5' },
      rounds: { type: 'string', default: '3' },
      queries: { type: 'string', default: '1000' },
      rate: { type: 'string', default: '500,1000' },
      'hold-only': { type: 'boolean', default: false },
      'hold-rounds': { type: 'string', default: '1' },
      baseline: { type: 'string' },
      renewal: { type: 'string' },
    },
    argv,
  );
  if (process.getuid?.() !== 0) {
    process.stderr.write('firewall benchmark needs root (it builds network namespaces)\n');
    return 2;
  }
  const counts = { seconds: Number(values.seconds), rounds: Number(values.rounds), queries: Number(values.queries), 'hold-rounds': Number(values['hold-rounds']) };
  const rates = values.rate.split(',').map(Number);
  for (const [k, v] of [...Object.entries(counts), ...rates.map((r) => ['rate', r] as const)]) {
    if (!Number.isInteger(v) || v < 1) {
      process.stderr.write(`firewall benchmark: --${k} must be a whole number from 1\n`);
      return 2;
    }
  }
  const opts: Options = {
    seconds: counts.seconds,
    rounds: counts.rounds,
    queries: counts.queries,
    holdRounds: counts['hold-rounds'],
    rates,
    holdOnly: values['hold-only'],
    ...(values.baseline ? { baseline: values.baseline } : {}),
    renewals: values.renewal ? values.renewal.split(',') : [],
  };
  const name = `bench-fw-${process.pid}`;
  const dir = await mkdtemp(join(tmpdir(), 'sl-bench-fw-'));
  const releaseDir = cleanupOnSignal(() => rm(dir, { recursive: true, force: true }));
  try {
    log(`building lab ${name}`);
    const lab = await within(LAB_UP_MS, `building lab ${name}`, Lab.up(name, { workers: 1, gateways: 1, ipv6: false, plugins: [] }));
    try {
      process.stdout.write(await measure(lab, opts, dir));
    } finally {
      log(`tearing lab ${name} down`);
      await within(LAB_DOWN_MS, `tearing lab ${name} down`, lab.down());
    }
    return 0;
  } finally {
    await within(LAB_DOWN_MS, `tearing lab ${name} down`, Lab.down(name, { plugins: [] })).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    releaseDir();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    process.exitCode = await main(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`firewall benchmark failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  }
}
