/**
 * `make bench`: every benchmark in sequence, each in its own process, so one that crashes does
 * not hide the others' tables. Exits non-zero only when a benchmark crashes (non-zero exit,
 * signal, time limit), never because of a figure.
 *
 *   node dist/bench/run.js [NAME...]    NAME filters by substring, e.g. `throughput`
 *
 * Benchmarks: the ones listed below, plus any module under bench/<dir>/ that exports `main` (it
 * must run itself only when it is the process's entry point, as bench/throughput does).
 */
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { armReaper } from '../e2e/labkit/reaper/arm.js';
import { identityOf } from '../e2e/labkit/reaper/process-identity.js';
import { parseBenchArgs, type UsageSpec } from './command-line.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const LISTED = ['dataplane/nft-apply.js', 'dataplane/noop-apply.js', 'plan/plan.js', 'throughput/throughput.js'];
const EXPORTS_MAIN = /^export (async )?function main\(/m;
const TIME_LIMIT_MS = 30 * 60_000;
/** A benchmark told to stop tears its lab or namespace down first; give it time. */
const CLEANUP_GRACE_MS = 60_000;

async function discover(): Promise<string[]> {
  const found = new Set(LISTED.map((f) => join(HERE, f)));
  for (const dir of await readdir(HERE, { withFileTypes: true })) {
    if (!dir.isDirectory()) continue;
    for (const file of await readdir(join(HERE, dir.name))) {
      if (!file.endsWith('.js') || file.endsWith('.test.js')) continue;
      const path = join(HERE, dir.name, file);
      if (EXPORTS_MAIN.test(await readFile(path, 'utf8'))) found.add(path);
    }
  }
  return [...found].sort();
}

interface Outcome {
  readonly name: string;
  readonly seconds: number;
  readonly crashed: string | undefined;
}

let stopping: NodeJS.Signals | undefined;
let current: ReturnType<typeof execa> | undefined;

// Benchmarks run in their own process group, so Ctrl-C reaches only this runner, which passes it
// on exactly once (a second signal makes a benchmark skip its cleanup).
function onSignal(sig: NodeJS.Signals): void {
  if (stopping) return;
  stopping = sig;
  process.stderr.write(`bench: ${sig}, stopping after the current benchmark has cleaned up\n`);
  current?.kill(sig);
}

async function runOne(path: string): Promise<Outcome> {
  const name = relative(HERE, path).replace(/\.js$/, '');
  process.stdout.write(`\n=== bench/${name} ===\n`);
  const started = performance.now();
  current = execa(process.execPath, [path], {
    stdin: 'ignore',
    stdout: 'inherit',
    stderr: 'inherit',
    detached: true,
    reject: false,
    timeout: TIME_LIMIT_MS,
    forceKillAfterDelay: CLEANUP_GRACE_MS,
  });
  // Should this runner be killed, the benchmark goes with it; its labs and namespaces have reapers of their own.
  const reaper = await identityOf(current.pid!)
    .then((leader) => armReaper({ kind: 'group', leader }))
    .catch((err: unknown) => void process.stderr.write(`bench: ${name} runs without a reaper: ${String(err)}\n`));
  const r = await current;
  reaper?.disarm();
  current = undefined;
  const seconds = (performance.now() - started) / 1000;
  const crashed = r.timedOut ? `no result within ${TIME_LIMIT_MS / 60_000} min` : r.signal ? `killed by ${r.signal}` : r.exitCode !== 0 ? `exit ${r.exitCode}` : undefined;
  return { name, seconds, crashed: crashed && stopping ? `interrupted, ${crashed}` : crashed };
}

async function main(filters: readonly string[]): Promise<number> {
  if (process.getuid?.() !== 0) {
    process.stdout.write('bench: the benchmarks need root (network namespaces, nftables); nothing was run\n');
    return 0;
  }
  const all = await discover();
  const chosen = filters.length ? all.filter((p) => filters.some((f) => relative(HERE, p).includes(f))) : all;
  if (chosen.length === 0) {
    process.stderr.write(`bench: no benchmark matches ${filters.join(', ')} (have: ${all.map((p) => relative(HERE, p)).join(', ')})\n`);
    return 2;
  }
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const outcomes: Outcome[] = [];
  for (const path of chosen) {
    if (stopping) break;
    outcomes.push(await runOne(path));
  }
  process.stdout.write('\n=== summary ===\n');
  for (const o of outcomes) process.stdout.write(`${o.name.padEnd(28)} ${o.seconds.toFixed(0).padStart(5)} s  ${o.crashed ? `CRASHED (${o.crashed})` : 'ok'}\n`);
  if (stopping) return stopping === 'SIGINT' ? 130 : 143;
  return outcomes.some((o) => o.crashed) ? 1 : 0;
}

const USAGE: UsageSpec = { command: 'node dist/bench/run.js', trailer: "[NAME...]   (NAME: a substring of a benchmark's path, e.g. throughput)" };

process.exitCode = await main(parseBenchArgs(USAGE, {}, process.argv.slice(2), true).positionals);
