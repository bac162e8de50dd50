/**
 * The cost of a full apply of an unchanged plan (what a periodic resync does on every node): the
 * links, routes and addresses read over the agent's rtnetlink socket against the same reads
 * through `ip -json` / `bridge -json` processes, alternating in the same run, on the same kernel
 * state. nft (libnftables) and sysctls are the same in both. Wall-clock and CPU medians, and the
 * ratio; compare within one run only (the machine is shared). Also the nft structure probe every
 * resync runs before its apply, alternating with them.
 *
 *   node dist/bench/dataplane/noop-apply.js [--repeat N]
 *
 * Root only. Creates its own network namespace (sl-bench-noop-*), re-runs itself inside it and
 * deletes it afterwards; nothing outside it is touched. The plan is seed-002's gateway-1 with its
 * IPv6 half: a VXLAN device with two peers, four routes, four rules, two EIPs, the guards table.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { Dataplane } from '../../lib/dataplane/dataplane.js';
import { execFile } from '../../lib/dataplane/iproute/exec.js';
import { processReads } from '../../lib/dataplane/iproute/process-reads.js';
import { LibnftablesBackend } from '../../lib/dataplane/nft/libnftables.js';
import { NftDriver } from '../../lib/dataplane/nft/nft-driver.js';
import { quietLog } from '../../lib/dataplane/nft/testing/lab-fixtures.js';
import { inLabNetns } from '../../lib/dataplane/nft/testing/netns-guard.js';
import { seedPlan, withIpv6 } from '../../lib/dataplane/testing/seed-plans.js';
import { probeNftStructure, type NftProbe } from '../../lib/dataplane/nft-structure-probe.js';
import { armReaper } from '../../e2e/labkit/reaper/arm.js';
import { parseBenchArgs, type UsageSpec } from '../command-line.js';

const NS_PREFIX = 'sl-bench-noop-';
const TARGET_MS = 5;
const BLOCKS = 3;
const WARMUP = 5;
/** gateway-1's parent NIC and addresses in seed-002. */
const SETUP = [
  'link set lo up',
  'link add eth0 type veth peer name eth0-peer',
  'addr add 198.18.0.12/24 dev eth0',
  'addr add 2001:db8::12/64 dev eth0 nodad',
  'link set eth0 up',
  'link set eth0-peer up',
];

const USAGE: UsageSpec = { command: 'node dist/bench/dataplane/noop-apply.js', internal: ['inside'] };

const { values: args } = parseBenchArgs(USAGE, { inside: { type: 'boolean', default: false }, repeat: { type: 'string', default: '21' } }, process.argv.slice(2));

interface Sample {
  readonly wall: number;
  readonly cpu: number;
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** Wall and CPU of this process and the children it waited for (the `ip` processes). */
async function timed(fn: () => Promise<unknown>): Promise<Sample> {
  const children0 = await childrenCpuMs();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { wall, cpu: (cpu.user + cpu.system) / 1000 + ((await childrenCpuMs()) - children0) };
}

/** cutime + cstime of this process in ms (children that exited and were waited for). */
async function childrenCpuMs(): Promise<number> {
  const stat = await readFile('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields after the command: state is index 0, so cutime (16th in proc(5)) and cstime (17th) are 13 and 14.
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / 100; // USER_HZ, 100 on Linux
}

async function inside(): Promise<number> {
  if (!(await inLabNetns(NS_PREFIX))) {
    process.stderr.write(`refusing to run: not inside a ${NS_PREFIX}* network namespace\n`);
    return 2;
  }
  const repeat = Math.max(1, Number(args.repeat));
  const plan = withIpv6(await seedPlan('gateway-1'));
  const nft = new NftDriver({ table: plan.nft.name, log: quietLog, backend: new LibnftablesBackend() });
  const netlink = new Dataplane({ nft });
  const processes = new Dataplane({ nft, reads: processReads(execFile) });
  const first = await netlink.apply(plan);
  if (!first.ok) throw new Error(`the first apply failed: ${JSON.stringify(first.subsystems)}`);
  const samples = { netlink: [] as Sample[], processes: [] as Sample[], probe: [] as Sample[] };
  let writes = 0;
  // In blocks, alternating, so both see much the same load without one's garbage (a process's
  // pipes and buffers) collected in the other's time; a few unmeasured rounds each first.
  for (let block = 0; block < BLOCKS; block++) {
    for (const [name, dataplane] of [
      ['netlink', netlink],
      ['processes', processes],
    ] as const) {
      for (let i = block === 0 ? -WARMUP : 0; i < repeat / BLOCKS; i++) {
        let report: Awaited<ReturnType<Dataplane['apply']>> | undefined;
        const sample = await timed(async () => (report = await dataplane.apply(plan)));
        if (!report?.ok) throw new Error(`a no-op apply failed: ${JSON.stringify(report?.subsystems)}`);
        writes += report.writes;
        if (i >= 0) samples[name].push(sample);
      }
    }
    for (let i = block === 0 ? -WARMUP : 0; i < repeat / BLOCKS; i++) {
      let probe: NftProbe | undefined;
      const sample = await timed(async () => (probe = probeNftStructure(plan.nft)));
      if (!probe?.intact) throw new Error(`the structure probe saw drift: ${JSON.stringify(probe)}`);
      if (i >= 0) samples.probe.push(sample);
    }
  }
  nft.close();
  const row = (name: string, s: readonly Sample[]) =>
    `${name.padEnd(34)}${median(s.map((x) => x.wall))
      .toFixed(2)
      .padStart(9)}${median(s.map((x) => x.cpu))
      .toFixed(2)
      .padStart(9)}\n`;
  process.stdout.write(`no-op full apply (seed-002 gateway-1, dual stack), median of ${samples.netlink.length}; writes in all runs: ${writes}\n\n`);
  process.stdout.write(`${'reads'.padEnd(34)}${'wall ms'.padStart(9)}${'cpu ms'.padStart(9)}\n`);
  process.stdout.write(row('rtnetlink socket', samples.netlink));
  process.stdout.write(row('ip -json / bridge -json processes', samples.processes));
  process.stdout.write(row('nft structure probe (no apply)', samples.probe));
  const ratio = (k: keyof Sample) => median(samples.netlink.map((x) => x[k])) / median(samples.processes.map((x) => x[k]));
  process.stdout.write(`\nratio rtnetlink / processes: wall ${ratio('wall').toFixed(3)}, cpu ${ratio('cpu').toFixed(3)}\n`);
  const ms = median(samples.netlink.map((x) => x.wall));
  process.stdout.write(`target no-op apply < ${TARGET_MS} ms: ${ms < TARGET_MS ? 'met' : 'MISSED'} (${ms.toFixed(2)} ms)\n`);
  process.stdout.write(`load average at the end: ${(await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ')}\n`);
  return 0;
}

async function outside(): Promise<number> {
  if (process.getuid?.() !== 0) {
    process.stderr.write('noop-apply benchmark needs root (network namespace, nftables, links)\n');
    return 2;
  }
  const ns = `${NS_PREFIX}${randomBytes(3).toString('hex')}`;
  // Should this process be killed, the namespace and the benchmark inside it go with it.
  const reaper = await armReaper({ kind: 'netns', prefix: ns });
  await execa('ip', ['netns', 'add', ns]);
  try {
    await execa('ip', ['-n', ns, '-batch', '-'], { input: SETUP.join('\n') + '\n' });
    const self = fileURLToPath(import.meta.url);
    const r = await execa('ip', ['netns', 'exec', ns, process.execPath, self, '--inside', '--repeat', args.repeat], { stdio: 'inherit', reject: false });
    return r.exitCode ?? 1;
  } finally {
    await execa('ip', ['netns', 'delete', ns], { reject: false });
    reaper.disarm();
  }
}

process.exitCode = args.inside ? await inside() : await outside();
