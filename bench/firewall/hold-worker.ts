/**
 * The DNS hold measured where it happens: run inside a lab node's network namespace (never the
 * host's), it loads that node's real plan table (`--plan`, a NodePlan with a rule by name) and
 * starts the DNS forwarder on loopback, alone in this process as in the agent. The upstream DNS
 * server and the client run in a second process (hold-client.ts), which asks names over UDP:
 *   - `learned`: a name of the firewall's rule, so every answer waits for its nft transaction;
 *   - `passed`: a name no rule names, the same forwarder and upstream without the set update.
 * Queries of the two kinds alternate, so both see the same machine; then paced runs at each
 * `--rate` answers a second, every answer to learn (distinct names and addresses). Prints one
 * JSON line: the forwarder's own hold times (server side, from its clock) and fates, the client's
 * round trips, and where queries were lost (client, forwarder, upstream, and the namespace's UDP
 * receive-buffer drops). Not a benchmark on its own (no `main`).
 *
 *   ip netns exec NODE node dist/bench/firewall/hold-worker.js --plan FILE [--queries 1000] [--rate 500,1000] [--seconds 5] [--renewal expires|readd] [--writes direct|libnftables]
 *
 * `--renewal` fixes how learned elements are renewed (default: probed, as the agent does);
 * `--writes libnftables` keeps elements renewed in place off the direct netlink write.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { DnsForwarder, type AnswerTimeline, type ForwardResult } from '../../lib/dns/forwarder.js';
import type { NftBackend } from '../../lib/dataplane/nft/nft-backend.js';
import { NftDriver, type KernelWrites } from '../../lib/dataplane/nft/nft-driver.js';
import { writeLearnedElements } from '../../lib/dataplane/nft/nfnetlink-elements.js';
import { openNftBackend } from '../../lib/dataplane/nft/open-backend.js';
import type { NodePlan } from '../../lib/planner/node-plan.js';
import { parseBenchArgs, type UsageSpec } from '../command-line.js';
import type { ClientReport, ClientRequest, PacedReport } from './hold-client.js';

/** What the forwarder did in one phase of the client's. */
export interface ForwarderPhase {
  /** Forwarder-side time from the upstream answer to the kernel holding its addresses, ms. */
  readonly holdMs: readonly number[];
  /** Each query's fate, counted. */
  readonly results: Readonly<Partial<Record<ForwardResult, number>>>;
  /** Datagrams the namespace's UDP sockets dropped for a full receive buffer (/proc/net/snmp). */
  readonly udpRcvbufErrors: number;
  /** CPU time of the forwarder's process (all its threads, user and system), ms. */
  readonly cpuMs: number;
  /** Where the held answers' time went, ms per answer and step (see STEPS). */
  readonly steps?: Readonly<Record<Step, readonly number[]>>;
}

/**
 * The server-side steps of an answer held for learning, from the forwarder's timeline and the
 * nft transaction that carried its addresses (the last one to end before `learn` resolved):
 * upstream (query read → upstream answer read), queued (learn called → that transaction starts),
 * nft (the transaction), release (transaction done → learn resolved), send (→ handed to the
 * socket), total (query read → answer sent).
 */
export const STEPS = ['upstream', 'queued', 'nft', 'release', 'send', 'total'] as const;
export type Step = (typeof STEPS)[number];

/** One nft transaction, performance.now() ms. */
interface Transaction {
  readonly start: number;
  readonly end: number;
}

/** The backend, timing every call. */
function timed(backend: NftBackend, log: Transaction[]): NftBackend {
  return {
    kind: backend.kind,
    async run(commands, options) {
      const start = performance.now();
      try {
        return await backend.run(commands, options);
      } finally {
        log.push({ start, end: performance.now() });
      }
    },
    close: () => backend.close(),
  };
}

/** The driver's direct (netlink) writes of learned elements, timed. */
function timedWrites(log: Transaction[]): KernelWrites {
  return {
    learned(table, elements) {
      const start = performance.now();
      try {
        writeLearnedElements(table, elements);
      } finally {
        log.push({ start, end: performance.now() });
      }
    },
  };
}

/** The step times of one answer; the nft steps only when a transaction carried it. */
function stepsOf(t: AnswerTimeline, transactions: readonly Transaction[]): Partial<Record<Step, number>> {
  const out: Partial<Record<Step, number>> = { upstream: t.upstreamAnswered - t.received, send: t.sent - t.learnDone, total: t.sent - t.received };
  // Transactions end in order: the last one that ended by learnDone.
  let lo = 0;
  let hi = transactions.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (transactions[mid]!.end <= t.learnDone) lo = mid + 1;
    else hi = mid;
  }
  const carrier = transactions[lo - 1];
  if (carrier && carrier.start >= t.learnCalled)
    Object.assign(out, { queued: carrier.start - t.learnCalled, nft: carrier.end - carrier.start, release: t.learnDone - carrier.end });
  return out;
}

export interface HoldReport {
  readonly queries: number;
  readonly alternated: ForwarderPhase;
  readonly learnedRttMs: readonly number[];
  readonly passedRttMs: readonly number[];
  readonly paced: readonly (PacedReport & { readonly forwarder: ForwarderPhase })[];
}

const CLIENT = fileURLToPath(new URL('./hold-client.js', import.meta.url));
const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined };

async function udpRcvbufErrors(): Promise<number> {
  const lines = (await readFile('/proc/net/snmp', 'utf8')).split('\n').filter((l) => l.startsWith('Udp:'));
  const [names, values] = lines.map((l) => l.split(/\s+/).slice(1));
  return Number(values?.[names?.indexOf('RcvbufErrors') ?? -1] ?? 0);
}

function parseRates(text: string): number[] {
  const rates = text.split(',').map(Number);
  if (rates.some((r) => !Number.isInteger(r) || r < 1)) throw new Error(`--rate: whole numbers from 1, comma-separated: ${text}`);
  return rates;
}

const USAGE: UsageSpec = {
  command: 'ip netns exec NODE node dist/bench/firewall/hold-worker.js',
  required: ['plan'],
  values: { plan: 'FILE', renewal: 'expires|readd', writes: 'direct|libnftables' },
};

async function run(): Promise<void> {
  const { values } = parseBenchArgs(
    USAGE,
    {
      plan: { type: 'string' },
      queries: { type: 'string', default: '1000' },
      rate: { type: 'string', default: '500,1000' },
      seconds: { type: 'string', default: '5' },
      renewal: { type: 'string' },
      writes: { type: 'string', default: 'direct' },
    },
    process.argv.slice(2),
  );
  if (values.writes !== 'direct' && values.writes !== 'libnftables') throw new Error(`--writes: direct or libnftables, not ${values.writes}`);
  if (values.renewal !== undefined && values.renewal !== 'expires' && values.renewal !== 'readd') throw new Error(`--renewal: expires or readd, not ${values.renewal}`);
  if (!values.plan) throw new Error('--plan FILE is required');
  const plan = JSON.parse(await readFile(values.plan, 'utf8')) as NodePlan;
  const request = { queries: Number(values.queries), rates: parseRates(values.rate), seconds: Number(values.seconds) };
  const transactions: Transaction[] = [];
  const kernelWrites = values.writes === 'libnftables' ? (false as const) : timedWrites(transactions);
  const nft = new NftDriver({
    table: plan.nft.name,
    log: quiet,
    backend: timed(openNftBackend(quiet), transactions),
    kernelWrites,
    ...(values.renewal ? { learnedRenewal: values.renewal } : {}),
  });
  await nft.apply(plan.nft);
  const nameSet = plan.nft.sets.find((s) => s.learned && /_n\d+_4$/.test(s.name));
  if (!nameSet) throw new Error('the plan has no learned set of a rule by name');
  const child = spawn(process.execPath, [CLIENT], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<Record<string, unknown>> => {
    const line = await lines.next();
    if (line.done) throw new Error(`hold client ended early (exit ${await exited})`);
    return JSON.parse(line.value as string) as Record<string, unknown>;
  };
  let f: DnsForwarder | undefined;
  try {
    const { upstream } = (await next()) as { upstream: number };
    type Phase = { holdMs: number[]; results: Partial<Record<ForwardResult, number>>; rcvbuf: number; cpu: NodeJS.CpuUsage; timelines: AnswerTimeline[] };
    const phases = new Map<string, Phase>();
    let current: Phase | undefined;
    f = new DnsForwarder({
      listen: { host: '127.0.0.1', port: 0 },
      upstream: { host: '127.0.0.1', port: upstream },
      rules: () => [{ pattern: '*.learn.bench', sets: { 4: nameSet.name, 6: nameSet.name.replace(/_4$/, '_6') }, appliesTo: () => true }],
      graceSeconds: 5,
      learn: (e) => nft.learn(e),
      onResult: (r, holdMs) => {
        if (!current) return;
        current.results[r] = (current.results[r] ?? 0) + 1;
        if (r === 'learned') current.holdMs.push(holdMs);
      },
      onTimeline: (t) => void current?.timelines.push(t),
    });
    await f.start();
    child.stdin.end(`${JSON.stringify({ forwarder: f.port, ...request } satisfies ClientRequest)}\n`);
    let report: ClientReport | undefined;
    let name: string | undefined;
    while (!report) {
      const msg = await next();
      const rcvbuf = await udpRcvbufErrors();
      if (current && name) phases.set(name, { ...current, rcvbuf: rcvbuf - current.rcvbuf, cpu: process.cpuUsage(current.cpu) });
      if (typeof msg.phase === 'string' && msg.phase !== 'done') {
        name = msg.phase;
        current = { holdMs: [], results: {}, rcvbuf, cpu: process.cpuUsage(), timelines: [] };
      } else {
        current = undefined;
        name = undefined;
      }
      if (msg.report) report = msg.report as ClientReport;
    }
    const phase = (key: string): ForwarderPhase => {
      const p = phases.get(key);
      const steps = Object.fromEntries(STEPS.map((k) => [k, [] as number[]])) as Record<Step, number[]>;
      for (const t of p?.timelines ?? []) for (const [k, v] of Object.entries(stepsOf(t, transactions))) steps[k as Step].push(v);
      return { holdMs: p?.holdMs ?? [], results: p?.results ?? {}, udpRcvbufErrors: p?.rcvbuf ?? 0, cpuMs: p ? (p.cpu.user + p.cpu.system) / 1000 : 0, steps };
    };
    const out: HoldReport = {
      queries: request.queries,
      alternated: phase('alternated'),
      learnedRttMs: report.learnedRttMs,
      passedRttMs: report.passedRttMs,
      paced: report.paced.map((p, k) => ({ ...p, forwarder: phase(`paced-${k}`) })),
    };
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } finally {
    child.kill();
    await f?.close();
    await nft.remove();
    nft.close();
  }
}

// hold-report.ts imports STEPS from here: run only as the worker process itself
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    await run();
  } catch (err) {
    process.stderr.write(`hold worker: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  }
}
