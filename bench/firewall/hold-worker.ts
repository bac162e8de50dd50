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
 *   ip netns exec NODE node dist/bench/firewall/hold-worker.js --plan FILE [--queries 1000] [--rate 500,1000] [--seconds 5]
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DnsForwarder, type ForwardResult } from '../../lib/dns/forwarder.js';
import { openNftDriver } from '../../lib/dataplane/nft/open-backend.js';
import type { NodePlan } from '../../lib/planner/node-plan.js';
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

async function run(): Promise<void> {
  const { values } = parseArgs({ options: { plan: { type: 'string' }, queries: { type: 'string', default: '1000' }, rate: { type: 'string', default: '500,1000' }, seconds: { type: 'string', default: '5' } } });
  if (!values.plan) throw new Error('--plan FILE is required');
  const plan = JSON.parse(await readFile(values.plan, 'utf8')) as NodePlan;
  const request = { queries: Number(values.queries), rates: parseRates(values.rate), seconds: Number(values.seconds) };
  const nft = openNftDriver({ table: plan.nft.name, log: quiet });
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
    type Phase = { holdMs: number[]; results: Partial<Record<ForwardResult, number>>; rcvbuf: number; cpu: NodeJS.CpuUsage };
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
        current = { holdMs: [], results: {}, rcvbuf, cpu: process.cpuUsage() };
      } else {
        current = undefined;
        name = undefined;
      }
      if (msg.report) report = msg.report as ClientReport;
    }
    const phase = (key: string): ForwarderPhase => {
      const p = phases.get(key);
      return { holdMs: p?.holdMs ?? [], results: p?.results ?? {}, udpRcvbufErrors: p?.rcvbuf ?? 0, cpuMs: p ? (p.cpu.user + p.cpu.system) / 1000 : 0 };
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

try {
  await run();
} catch (err) {
  process.stderr.write(`hold worker: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exitCode = 1;
}
