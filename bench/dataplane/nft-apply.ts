/**
 * nftables apply cost: the driver on libnftables against `nft -j -f FILE` with the same JSON (what
 * the driver runs when libnftables cannot be loaded), in the same run.
 * Wall-clock and CPU (user + system) medians; on a shared, loaded machine compare CPU.
 *
 *   node dist/bench/dataplane/nft-apply.js [--repeat N] [--sizes 1000,10000,100000]
 *
 * Root only. Creates its own network namespace (sl-bench-nft-*), re-runs itself inside it and
 * deletes it afterwards; the root namespace's nftables are never touched. Loads the planner's
 * gateway table of seed-002 with a policy `_all4` set of 1k/10k/100k endpoints.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { LibnftablesBackend } from '../../lib/dataplane/nft/libnftables.js';
import { NftDriver } from '../../lib/dataplane/nft/nft-driver.js';
import { dumpInetRules, readInetStructureComment, readInetTable } from '../../lib/dataplane/nft/netlink-reads.js';
import { elementBatch, replaceBatch } from '../../lib/dataplane/nft/nft-commands.js';
import { structureFingerprint } from '../../lib/dataplane/nft/fingerprint.js';
import { tableCapacities } from '../../lib/dataplane/nft/set-capacity.js';
import { allSetName, podAddresses, quietLog, seedTable, withElements } from '../../lib/dataplane/nft/testing/lab-fixtures.js';
import { inLabNetns } from '../../lib/dataplane/nft/testing/netns-guard.js';
import { armReaper } from '../../e2e/labkit/reaper/arm.js';
import { parseBenchArgs, type UsageSpec } from '../command-line.js';
import type { NftTablePlan } from '../../lib/planner/node-plan.js';
import { counter, rule } from '../../lib/planner/nft/statements.js';

const NS_PREFIX = 'sl-bench-nft-';
const GNU_TIME = '/usr/bin/time'; // Debian package `time`; without it the CLI's CPU column stays empty
const HAVE_GNU_TIME = existsSync(GNU_TIME);
const TARGETS = { fullMs: 250, fullAt: 100_000, incrementalMs: 2, adoptMs: 100 };

const USAGE: UsageSpec = { command: 'node dist/bench/dataplane/nft-apply.js', internal: ['inside'] };

const { values: args } = parseBenchArgs(
  USAGE,
  {
    inside: { type: 'boolean', default: false },
    repeat: { type: 'string', default: '7' },
    sizes: { type: 'string', default: '1000,10000,100000' },
  },
  process.argv.slice(2),
);

/** Wall-clock ms and CPU ms (user + system, all threads of the process doing the work). */
interface Sample {
  readonly wall: number;
  readonly cpu: number;
}

interface Row {
  readonly what: string;
  readonly endpoints: number;
  readonly lib: Sample[];
  readonly cli?: Sample[];
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function timed(fn: () => Promise<unknown>): Promise<Sample> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  await fn();
  const wall = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return { wall, cpu: (used.user + used.system) / 1000 };
}

class CliRunner {
  readonly #dir: string;
  #n = 0;
  private constructor(dir: string) {
    this.#dir = dir;
  }
  static async create(): Promise<CliRunner> {
    return new CliRunner(await mkdtemp(join(tmpdir(), 'sl-bench-nft-')));
  }
  /**
   * Writes the JSON batch (untimed), then times `nft -j -f FILE` including the process spawn; CPU comes
   * from GNU time's rusage of the nft process.
   */
  async time(batch: string): Promise<Sample> {
    const file = join(this.#dir, `b${this.#n}.nft`);
    const usage = join(this.#dir, `b${this.#n++}.time`);
    await writeFile(file, batch);
    const started = performance.now();
    if (!HAVE_GNU_TIME) {
      await execa('nft', ['-j', '-f', file]);
      return { wall: performance.now() - started, cpu: Number.NaN };
    }
    await execa(GNU_TIME, ['-f', '%U %S', '-o', usage, 'nft', '-j', '-f', file]);
    const wall = performance.now() - started;
    const [user = 0, system = 0] = (await readFile(usage, 'utf8')).trim().split(/\s+/).map(Number);
    return { wall, cpu: (user + system) * 1000 };
  }
  close(): Promise<void> {
    return rm(this.#dir, { recursive: true, force: true });
  }
}

async function runOk(backend: LibnftablesBackend, commands: string, json: boolean): Promise<void> {
  const r = await backend.run(commands, { json });
  if (!r.ok) throw new Error(`nft rejected a benchmark batch: ${r.error}`);
}

type CallMode = 'worker thread' | 'inline';

/** `listing`: the table is read from a libnftables JSON listing (the fallback), not over netlink. */
function openDriver(table: string, mode: CallMode, read: 'netlink' | 'listing' = 'netlink'): NftDriver {
  const backend = new LibnftablesBackend(mode === 'inline' ? { asyncMinBytes: Infinity } : {});
  const kernelReads = {
    rules: dumpInetRules,
    structureComment: readInetStructureComment,
    table: () => {
      throw new Error('listing only');
    },
  };
  return new NftDriver({ table, log: quietLog, backend, ...(read === 'listing' ? { kernelReads } : {}) });
}

/**
 * Library and CLI runs are measured in separate blocks: every commit bumps the ruleset
 * generation, and interleaving would make each library call refill its cache (which the CLI
 * does on every run anyway).
 */
async function benchSize(cli: CliRunner, base: NftTablePlan, n: number, repeat: number): Promise<Row[]> {
  const setName = allSetName(base);
  const table = withElements(base, (s) => (s.name === setName ? podAddresses(n) : undefined));
  const extra = '10.250.0.1'; // outside podAddresses' range
  const plusOne = withElements(table, (s) => (s.name === setName ? [...s.elements, extra].sort() : undefined));
  const replace = replaceBatch(table, structureFingerprint(table), tableCapacities(table)).json;
  const rows: Row[] = [];
  const modes: CallMode[] = ['worker thread', 'inline'];

  // Full atomic replace over an existing table of the same size (a structural change), and the
  // same into an empty namespace (first start on a node).
  for (const mode of modes) {
    const driver = openDriver(table.name, mode);
    const full: Row = { what: `full replace, ${mode}`, endpoints: n, lib: [] };
    await driver.apply(table, { replace: true });
    for (let i = 0; i < repeat; i++) full.lib.push(await timed(() => driver.apply(table, { replace: true })));
    const create: Row = { what: `full create, ${mode}`, endpoints: n, lib: [] };
    for (let i = 0; i < repeat; i++) {
      await driver.remove();
      create.lib.push(await timed(() => driver.apply(table)));
    }
    rows.push(full, create);
    driver.close();
  }
  const fullCli: Sample[] = [];
  for (let i = 0; i < repeat; i++) fullCli.push(await cli.time(replace));
  rows.filter((r) => r.what.startsWith('full replace')).forEach((r) => Object.assign(r, { cli: fullCli }));
  await execa('nft', ['delete', 'table', 'inet', table.name]);
  const createCli: Sample[] = [];
  for (let i = 0; i < repeat; i++) {
    createCli.push(await cli.time(replace));
    await execa('nft', ['delete', 'table', 'inet', table.name]);
  }
  rows.filter((r) => r.what.startsWith('full create')).forEach((r) => Object.assign(r, { cli: createCli }));

  const driver = openDriver(table.name, 'worker thread');
  await driver.apply(table);

  // One endpoint in, one endpoint out: the driver diffs the whole plan and sends one command.
  const inc: Row = { what: 'incremental (1 endpoint)', endpoints: n, lib: [], cli: [] };
  for (let i = 0; i < repeat; i++) {
    inc.lib.push(await timed(() => driver.apply(plusOne)));
    inc.lib.push(await timed(() => driver.apply(table)));
  }
  const add = elementBatch(table, [{ set: setName, add: [extra], remove: [] }]);
  const del = elementBatch(table, [{ set: setName, add: [], remove: [extra] }]);
  for (let i = 0; i < repeat; i++) {
    inc.cli!.push(await cli.time(add.json));
    inc.cli!.push(await cli.time(del.json));
  }
  rows.push(inc);

  // One rule more and back, as a firewall rule change does: chains rewritten in place, the big set
  // left as it is; the same change forced as a full replace, alternated, for the ratio.
  const ruled = { ...table, chains: table.chains.map((c, i) => (i === 0 ? { ...c, rules: [...c.rules, rule([counter], 'bench')] } : c)) };
  const inPlace: Row = { what: 'rule change (restructure)', endpoints: n, lib: [] };
  const asReplace: Row = { what: 'rule change as a full replace', endpoints: n, lib: [] };
  for (let i = 0; i < repeat; i++) {
    for (const next of [ruled, table]) {
      inPlace.lib.push(
        await timed(async () => {
          const r = await driver.apply(next);
          if (r.mode !== 'restructure') throw new Error(`a rule change was applied as ${r.mode}, expected a restructure`);
        }),
      );
    }
    for (const next of [ruled, table]) asReplace.lib.push(await timed(() => driver.apply(next, { replace: true })));
  }
  rows.push(inPlace, asReplace);

  // The same one-element batches straight into libnftables, JSON against nft text, interleaved so
  // that both see the same noise: the driver sends JSON for element batches too.
  const backend = new LibnftablesBackend();
  const asJson: Row = { what: 'element batch as JSON (backend)', endpoints: n, lib: [] };
  const asText: Row = { what: 'element batch as text (backend)', endpoints: n, lib: [] };
  const [addText, delText] = [add.text(), del.text()];
  for (let i = 0; i < 5 * repeat; i++) {
    asJson.lib.push(await timed(() => runOk(backend, add.json, true)), await timed(() => runOk(backend, del.json, true)));
    asText.lib.push(await timed(() => runOk(backend, addText, false)), await timed(() => runOk(backend, delText, false)));
  }
  rows.push(asJson, asText);
  backend.close();

  // Fresh arrays, as a new planner run produces: the diff has to compare every element.
  const noop: Row = { what: 'unchanged plan (0 writes)', endpoints: n, lib: [] };
  for (let i = 0; i < repeat; i++) {
    const again = withElements(table, (s) => [...s.elements]);
    noop.lib.push(await timed(() => driver.apply(again)));
  }
  rows.push(noop);

  // A restarted agent: a fresh driver observes the kernel and finds nothing to do.
  // The same, with the table read from a JSON listing (the fallback when netlink reads fail), alternated.
  const adopt: Row = { what: 'adopt on restart (observe+diff)', endpoints: n, lib: [] };
  const adoptListed: Row = { what: 'adopt on restart, JSON listing', endpoints: n, lib: [] };
  for (let i = 0; i < Math.min(repeat, 3); i++) {
    for (const [row, read] of [
      [adopt, 'netlink'],
      [adoptListed, 'listing'],
    ] as const) {
      const fresh = openDriver(table.name, 'worker thread', read);
      row.lib.push(
        await timed(async () => {
          const r = await fresh.apply(table);
          if (r.mode !== 'none') throw new Error(`adopting through the ${read} read sent ${r.mode} (${r.reason ?? ''}), expected nothing`);
        }),
      );
      fresh.close();
    }
  }
  rows.push(adopt, adoptListed);
  // Its first half alone: sets, elements, chains and rules over netlink, most of it the kernel's dump of the big set.
  const read: Row = { what: 'adopt: netlink table read alone', endpoints: n, lib: [] };
  for (let i = 0; i < Math.min(repeat, 3); i++) read.lib.push(await timed(async () => readInetTable(table.name)));
  rows.push(read);

  const counters: Row = { what: 'counters()', endpoints: n, lib: [] };
  for (let i = 0; i < Math.min(repeat, 3); i++) counters.lib.push(await timed(() => driver.counters()));
  rows.push(counters);
  await driver.remove();
  driver.close();
  return rows;
}

function printTable(rows: readonly Row[]): void {
  const head = ['case', 'endpoints', 'lib ms', 'lib CPU', 'nft -j -f ms', 'nft CPU', 'CLI/lib'];
  const fmt = (x: number) => (Number.isNaN(x) ? '-' : x < 10 ? x.toFixed(2) : x.toFixed(1));
  const body = rows.map((r) => {
    const lib = median(r.lib.map((x) => x.wall));
    const cli = r.cli ? median(r.cli.map((x) => x.wall)) : undefined;
    return [
      r.what,
      String(r.endpoints),
      fmt(lib),
      fmt(median(r.lib.map((x) => x.cpu))),
      cli === undefined ? '-' : fmt(cli),
      r.cli ? fmt(median(r.cli.map((x) => x.cpu))) : '-',
      cli === undefined ? '-' : `${(cli / lib).toFixed(1)}x`,
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i < 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  process.stdout.write(`${line(head)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${body.map(line).join('\n')}\n`);
}

async function inside(): Promise<number> {
  if (!(await inLabNetns(NS_PREFIX))) {
    process.stderr.write(`refusing to run: not inside a ${NS_PREFIX}* network namespace\n`);
    return 2;
  }
  const repeat = Math.max(1, Number(args.repeat));
  const sizes = args.sizes.split(',').map(Number);
  const base = await seedTable('gateway-1');
  const cli = await CliRunner.create();
  const rows: Row[] = [];
  try {
    for (const n of sizes) rows.push(...(await benchSize(cli, base, n, repeat)));
  } finally {
    await cli.close();
  }
  const arenas = process.env.MALLOC_ARENA_MAX ? `, MALLOC_ARENA_MAX=${process.env.MALLOC_ARENA_MAX}` : '';
  process.stdout.write(`nft apply, median of ${repeat} (incremental: ${2 * repeat}); ${(await execa('nft', ['--version'])).stdout}${arenas}\n\n`);
  printTable(rows);
  const full = rows.filter((r) => r.what.startsWith('full') && r.endpoints === TARGETS.fullAt);
  const inc = rows.filter((r) => r.what.startsWith('incremental'));
  process.stdout.write('\n');
  const verdict = (r: Row, limit: number) => {
    const ms = median(r.lib.map((x) => x.wall));
    return `${ms < limit ? 'met' : 'MISSED'} (${ms.toFixed(2)} ms)`;
  };
  for (const r of full) process.stdout.write(`target ${r.what} of ${TARGETS.fullAt} < ${TARGETS.fullMs} ms: ${verdict(r, TARGETS.fullMs)}\n`);
  for (const r of inc) process.stdout.write(`target incremental < ${TARGETS.incrementalMs} ms at ${r.endpoints}: ${verdict(r, TARGETS.incrementalMs)}\n`);
  for (const r of rows.filter((x) => x.what.startsWith('adopt on restart (')))
    process.stdout.write(`target adopt on restart < ${TARGETS.adoptMs} ms at ${r.endpoints}: ${verdict(r, TARGETS.adoptMs)}\n`);
  for (const r of rows.filter((x) => x.what.startsWith('adopt on restart, JSON'))) {
    const netlink = rows.find((x) => x.what.startsWith('adopt on restart (') && x.endpoints === r.endpoints)!;
    const ratio = (f: (x: { wall: number; cpu: number }) => number) => (median(r.lib.map(f)) / median(netlink.lib.map(f))).toFixed(1);
    process.stdout.write(`adopt at ${r.endpoints}, JSON listing / netlink: ${ratio((x) => x.wall)}x wall, ${ratio((x) => x.cpu)}x CPU\n`);
  }
  for (const r of rows.filter((x) => x.what === 'rule change (restructure)')) {
    const replaced = rows.find((x) => x.what === 'rule change as a full replace' && x.endpoints === r.endpoints)!;
    const wall = (row: Row) => median(row.lib.map((x) => x.wall));
    process.stdout.write(`rule change at ${r.endpoints}, in place / full replace: ${(wall(r) / wall(replaced)).toFixed(3)}\n`);
  }
  process.stdout.write(`load average at the end: ${(await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ')}\n`);
  return 0;
}

async function outside(): Promise<number> {
  if (process.getuid?.() !== 0) {
    process.stderr.write('nft-apply benchmark needs root (network namespace, nftables)\n');
    return 2;
  }
  const ns = `${NS_PREFIX}${randomBytes(3).toString('hex')}`;
  // Should this process be killed, the namespace and the benchmark inside it go with it.
  const reaper = await armReaper({ kind: 'netns', prefix: ns });
  await execa('ip', ['netns', 'add', ns]);
  try {
    const self = fileURLToPath(import.meta.url);
    const r = await execa('ip', ['netns', 'exec', ns, process.execPath, self, '--inside', '--repeat', args.repeat, '--sizes', args.sizes], { stdio: 'inherit', reject: false });
    return r.exitCode ?? 1;
  } finally {
    await execa('ip', ['netns', 'delete', ns], { reject: false });
    reaper.disarm();
  }
}

process.exitCode = args.inside ? await inside() : await outside();
