/**
 * The DNS hold part of bench/firewall's report: the runs of each build (this one, and a baseline
 * build when asked) pooled, their server-side steps, the machine's load at each run, and the
 * ratios of this build's figures to the baseline's of the same run.
 */
import { summarize, type Summary } from '../convergence/stats.js';
import { STEPS, type HoldReport, type Step } from './hold-worker.js';

/** One hold-worker run and the load average (1 min) just before and after it. */
export interface HoldRun {
  readonly report: HoldReport;
  readonly load: readonly [number, number];
}

export interface BuildRuns {
  readonly label: string;
  readonly runs: readonly HoldRun[];
}

/** The figures compared between builds, pooled over a build's runs. */
interface Pooled {
  readonly alternatedHold: Summary;
  readonly learnedRtt: Summary;
  readonly passedRtt: Summary;
  /** Client side, learned against passed, p50 and p99 per run. */
  readonly added: readonly { p50: number; p99: number }[];
  readonly paced: readonly { rate: number; hold: Summary; rtt: Summary; sent: number; lost: number; servfail: number; cpuMsPerAnswer: number }[];
  readonly steps: readonly { rate: string; by: Readonly<Record<Step, Summary>> }[];
}

const f = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '-');

function pool(runs: readonly HoldRun[]): Pooled {
  const reports = runs.map((r) => r.report);
  const rates = reports[0]?.paced.map((p) => p.rate) ?? [];
  const stepsOf = (pick: (r: HoldReport) => HoldReport['alternated']) =>
    Object.fromEntries(STEPS.map((k) => [k, summarize(reports.flatMap((r) => pick(r).steps?.[k] ?? []))])) as Record<Step, Summary>;
  return {
    alternatedHold: summarize(reports.flatMap((r) => r.alternated.holdMs)),
    learnedRtt: summarize(reports.flatMap((r) => r.learnedRttMs)),
    passedRtt: summarize(reports.flatMap((r) => r.passedRttMs)),
    added: reports.map((r) => {
      const l = summarize(r.learnedRttMs);
      const p = summarize(r.passedRttMs);
      return { p50: l.p50 - p.p50, p99: l.p99 - p.p99 };
    }),
    paced: rates.map((rate, k) => {
      const ps = reports.map((r) => r.paced[k]!);
      const answered = ps.reduce((n, p) => n + p.answered, 0);
      return {
        rate,
        hold: summarize(ps.flatMap((p) => p.forwarder.holdMs)),
        rtt: summarize(ps.flatMap((p) => p.rttMs)),
        sent: ps.reduce((n, p) => n + p.sent, 0),
        lost: ps.reduce((n, p) => n + p.lost, 0),
        servfail: ps.reduce((n, p) => n + p.servfail, 0),
        cpuMsPerAnswer: ps.reduce((n, p) => n + p.forwarder.cpuMs, 0) / Math.max(1, answered),
      };
    }),
    steps: [{ rate: 'alternated', by: stepsOf((r) => r.alternated) }, ...rates.map((rate, k) => ({ rate: `${rate}/s`, by: stepsOf((r) => r.paced[k]!.forwarder) }))],
  };
}

const range = (xs: readonly number[]) => (xs.length === 0 ? '-' : `${f(Math.min(...xs))}–${f(Math.max(...xs))}`);

function buildLines(b: BuildRuns, p: Pooled): string[] {
  const row = (what: string, x: Summary) => `| ${what} | ${x.n} | ${f(x.p50)} | ${f(x.p99)} | ${f(x.max)} |`;
  const lines = [
    `### ${b.label}: ${b.runs.length} run(s); load average (1 min) before/after each: ${b.runs.map((r) => `${r.load[0].toFixed(1)}/${r.load[1].toFixed(1)}`).join(', ')}`,
    '',
    '| measure (pooled over the runs) | n | p50 (ms) | p99 (ms) | max (ms) |',
    '| --- | --- | --- | --- | --- |',
    row('hold (server side: answer held for the set update), alternated', p.alternatedHold),
    row('client round trip, learned name', p.learnedRtt),
    row('client round trip, passed name (no update)', p.passedRtt),
    ...p.paced.flatMap((x) => [row(`hold at ${x.rate} answers/s`, x.hold), row(`client round trip at ${x.rate} answers/s`, x.rtt)]),
    '',
    `added by the hold, client side, per run: p50 ${p.added.map((a) => f(a.p50)).join(', ')} ms; p99 ${p.added.map((a) => f(a.p99)).join(', ')} ms (goal: p99 < 2 ms)`,
    ...p.paced.map(
      (x) =>
        `paced ${x.rate}/s: ${x.sent - x.lost} of ${x.sent} answered, ${x.servfail} SERVFAIL, ${x.lost} unanswered within 3 s; the forwarder's CPU per answer ${f(x.cpuMsPerAnswer)} ms`,
    ),
  ];
  if (p.steps.some((s) => s.by.total.n > 0)) {
    lines.push(
      '',
      'server-side steps of held answers, p50 / p99 (ms): upstream = query read → upstream answer read; queued = learn called → the transaction carrying it starts; nft = that transaction; release = its end → learn resolved; send = → answer handed to the socket',
      '',
    );
    lines.push(`| phase | n | ${STEPS.join(' | ')} |`, `| --- | --- | ${STEPS.map(() => '---').join(' | ')} |`);
    for (const s of p.steps) lines.push(`| ${s.rate} | ${s.by.total.n} | ${STEPS.map((k) => `${f(s.by[k].p50)} / ${f(s.by[k].p99)}`).join(' | ')} |`);
  }
  return lines;
}

/** The report's hold section; with several builds, the first's figures as ratios to each other's. */
export function holdSection(builds: readonly BuildRuns[]): string[] {
  const pooled = builds.map((b) => pool(b.runs));
  const lines = builds.flatMap((b, i) => [...buildLines(b, pooled[i]!), '']);
  const mine = pooled[0]!;
  pooled.slice(1).forEach((base, i) => lines.push(...ratioLines(builds[0]!.label, mine, builds[i + 1]!.label, base)));
  return lines;
}

function ratioLines(mineLabel: string, mine: Pooled, baseLabel: string, base: Pooled): string[] {
  const ratio = (a: number, b: number) => (b > 0 ? (a / b).toFixed(2) : '-');
  const lines = [`### ${mineLabel} / ${baseLabel} (same run, runs alternated)`, '', '| measure | p50 ratio | p99 ratio |', '| --- | --- | --- |'];
  lines.push(`| hold, alternated | ${ratio(mine.alternatedHold.p50, base.alternatedHold.p50)} | ${ratio(mine.alternatedHold.p99, base.alternatedHold.p99)} |`);
  lines.push(`| client round trip, learned name | ${ratio(mine.learnedRtt.p50, base.learnedRtt.p50)} | ${ratio(mine.learnedRtt.p99, base.learnedRtt.p99)} |`);
  mine.paced.forEach((x, k) => {
    const y = base.paced[k];
    if (!y) return;
    lines.push(`| hold at ${x.rate}/s | ${ratio(x.hold.p50, y.hold.p50)} | ${ratio(x.hold.p99, y.hold.p99)} |`);
    lines.push(`| client round trip at ${x.rate}/s | ${ratio(x.rtt.p50, y.rtt.p50)} | ${ratio(x.rtt.p99, y.rtt.p99)} |`);
  });
  const nft = (p: Pooled) => p.steps.map((s) => `${s.rate} ${f(s.by.nft.p50)}/${f(s.by.nft.p99)}`).join(', ');
  if (mine.steps.some((s) => s.by.nft.n > 0) && base.steps.some((s) => s.by.nft.n > 0))
    lines.push('', `the nft transaction carrying an answer, p50/p99 ms: ${nft(mine)} against ${nft(base)}`);
  lines.push('', `added by the hold, client side, p99 per run: ${range(mine.added.map((a) => a.p99))} ms against ${range(base.added.map((a) => a.p99))} ms`, '');
  return lines;
}
