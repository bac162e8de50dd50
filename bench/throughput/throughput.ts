/**
 * Pod → external host throughput and RTT over four egress paths, alternated in one lab:
 *   direct   the node's CNI SNAT (sluice applied with a plan that has no policy),
 *   gateway  the product: the real planner's plans for a policy selecting the pod, applied with
 *            `sluice apply --plan` in each node's namespace,
 *   native   the same with the gateway at `transport: native` (routed to the gateway node, no VXLAN),
 *   minimal  a hand-written path of the same shape (minimal-path.ts), the ceiling for this datapath shape.
 * The paths are compared within the run only: on a shared machine absolute figures drift.
 *
 *   node dist/bench/throughput/throughput.js [--seconds 5] [--rounds 3] [--parallel 4] [--pings 50]
 *     [--paths direct,gateway,native,minimal]
 *
 * Root only. Builds its own lab (1 worker, 1 gateway, no plugins) and always tears it down, also
 * on Ctrl-C; nothing outside the lab's namespaces is touched. Needs iperf3, ping, nft, ip.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { Lab } from '../../e2e/labkit/lab.js';
import { cleanupOnSignal } from '../../e2e/labkit/signal-cleanup.js';
import type { NodePlan } from '../../lib/planner/node-plan.js';
import { parseBenchArgs, type UsageSpec } from '../command-line.js';
import { benchPlans, TUNNEL_CIDR_V4, type BenchPlans } from './bench-cluster.js';
import { within } from './deadline.js';
import { EgressPaths, PATHS, type EgressPath } from './egress-paths.js';
import { iperf, type IperfResult } from './iperf.js';
import type { MinimalPathSpec } from './minimal-path.js';
import { ping, type PingResult } from './ping.js';
import { iperfKey, renderResults } from './report.js';

const LAB_UP_MS = 180_000;
const LAB_DOWN_MS = 60_000;
const SWITCH_MS = 120_000;
const TOOLS = ['iperf3', 'ping', 'nft', 'ip', 'ss'] as const;

interface Options {
  readonly seconds: number;
  readonly rounds: number;
  readonly streams: readonly number[];
  readonly pings: number;
  readonly paths: readonly EgressPath[];
}

const USAGE: UsageSpec = { command: 'node dist/bench/throughput/throughput.js' };

function parseOptions(argv: readonly string[]): Options {
  const { values } = parseBenchArgs(
    USAGE,
    {
      seconds: { type: 'string', default: '5' },
      rounds: { type: 'string', default: '3' },
      parallel: { type: 'string', default: '4' },
      pings: { type: 'string', default: '50' },
      paths: { type: 'string', default: PATHS.join(',') },
    },
    argv,
  );
  const int = (name: string, text: string, min: number) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got ${JSON.stringify(text)}`);
    return n;
  };
  const parallel = int('parallel', values.parallel, 1);
  const paths = values.paths.split(',').map((p) => p.trim());
  const unknown = paths.filter((p) => !(PATHS as readonly string[]).includes(p));
  if (unknown.length || paths.length === 0) throw new Error(`--paths takes a list of ${PATHS.join(', ')}; got ${JSON.stringify(values.paths)}`);
  return {
    paths: PATHS.filter((p) => paths.includes(p)),
    seconds: int('seconds', values.seconds, 1),
    rounds: int('rounds', values.rounds, 1),
    streams: parallel === 1 ? [1] : [1, parallel],
    pings: int('pings', values.pings, 1),
  };
}

async function missingTools(): Promise<string[]> {
  const found = await Promise.all(TOOLS.map(async (t) => (await execa('sh', ['-c', `command -v ${t}`], { reject: false })).exitCode === 0));
  return TOOLS.filter((_, i) => !found[i]);
}

function minimalSpec(plans: BenchPlans, client: { ip: string; hostVeth: string }, external: string): MinimalPathSpec {
  const vxlanOf = (role: 'worker' | 'gateway'): NonNullable<NodePlan['vxlan']> & { node: string } => {
    const p = plans.withPolicy.find((x) => x.roles[role] && x.vxlan?.addressV4);
    if (!p?.vxlan) throw new Error(`the policy plans have no ${role} node with a tunnel`);
    return { ...p.vxlan, node: p.node };
  };
  const w = vxlanOf('worker');
  const g = vxlanOf('gateway');
  const podCidr = plans.withPolicy.find((p) => p.node === g.node)?.routing.routes.find((r) => r.via === w.addressV4!.split('/')[0])?.dst;
  if (!podCidr) throw new Error('the gateway plan has no reply route to the worker');
  return {
    worker: { name: w.node, lanIp: w.localIp, tunnelIp: w.addressV4!.split('/')[0]!, podCidr },
    gateway: { name: g.node, lanIp: g.localIp, tunnelIp: g.addressV4!.split('/')[0]! },
    pod: client,
    external,
    eip: plans.eip,
    tunnelPrefix: Number(TUNNEL_CIDR_V4.split('/')[1]),
    vni: w.vni,
    port: w.port,
  };
}

/** What the product path loads, for reading the figures next to it. */
function productShape(plans: BenchPlans): string {
  return plans.withPolicy
    .map((p) => {
      const rules = p.nft.chains.reduce((n, c) => n + c.rules.length, 0);
      return `${p.node}: ${p.nft.chains.length} chains, ${rules} nft rules, ${p.nft.sets.length} sets, ${p.routing.rules.length} ip rules`;
    })
    .join('; ');
}

const loadAverage = async () => (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
const log = (line: string) => void process.stderr.write(`${line}\n`);

async function measure(lab: Lab, opts: Options, dir: string): Promise<string> {
  const info = await lab.info();
  const worker = info.nodes.find((n) => n.role === 'worker');
  if (!worker) throw new Error('the lab has no worker node');
  const client = await lab.addPod({ namespace: 'default', name: 'bench-client', labels: { app: 'bench-client' }, node: worker.name });
  const podRef = `${client.namespace}/${client.name}`;
  const hostVeth = (await lab.state()).pods.find((p) => p.namespace === client.namespace && p.name === client.name)?.hostVeth;
  const [podIp] = client.ips;
  const [nodeIp] = worker.ips;
  if (!hostVeth || !podIp || !nodeIp) throw new Error(`pod ${podRef} or node ${worker.name} lacks an address or host veth`);
  const macs: Record<string, string> = {};
  for (const n of info.nodes) macs[n.name] = (await lab.exec({ node: n.name }, ['cat', '/sys/class/net/eth0/address'])).stdout.trim();
  const plans = benchPlans(info, client, macs);
  const paths = new EgressPaths(lab, podRef, plans, minimalSpec(plans, { ip: podIp, hostVeth }, info.echo.ipv4), nodeIp, dir);

  const iperfRuns = new Map<string, IperfResult[]>();
  const pingRuns = new Map<EgressPath, PingResult[]>();
  const loadBefore = await loadAverage();
  for (let round = 0; round < opts.rounds; round++) {
    // Rotated so no path always runs right after the same switch.
    const order = opts.paths.map((_, i) => opts.paths[(i + round) % opts.paths.length]!);
    for (const path of order) {
      await within(SWITCH_MS, `switching to the ${path} path`, paths.use(path));
      for (const streams of opts.streams) {
        const r = await iperf(lab, { pod: podRef }, info.echo.ipv4, opts.seconds, streams);
        iperfRuns.set(iperfKey(path, streams), [...(iperfRuns.get(iperfKey(path, streams)) ?? []), r]);
        log(`round ${round + 1}/${opts.rounds} ${path.padEnd(7)} -P ${streams}: ${r.gbps.toFixed(2)} Gbit/s, ${r.retransmits} retr, MSS ${r.mss}`);
      }
      const p = await ping(lab, { pod: podRef }, info.echo.ipv4, opts.pings);
      pingRuns.set(path, [...(pingRuns.get(path) ?? []), p]);
      log(`round ${round + 1}/${opts.rounds} ${path.padEnd(7)} ping: min ${p.minMs} ms, avg ${p.avgMs} ms`);
    }
  }
  await within(SWITCH_MS, 'removing the last path', paths.leave());
  const iperfVersion = (await execa('iperf3', ['--version'], { reject: false })).stdout.split('\n')[0] ?? 'iperf3';
  return [
    `pod -> external host (${info.echo.ipv4}) throughput: ${opts.rounds} round(s) x ${opts.seconds} s per path and mode (first second omitted), paths alternated; ping -c ${opts.pings} -i 0.01`,
    `kernel ${release()}, ${iperfVersion}, load average ${loadBefore} before, ${await loadAverage()} after; a shared machine: compare within this run only`,
    `product path state: ${productShape(plans)}`,
    '',
    renderResults({ paths: opts.paths, streams: opts.streams, iperf: iperfRuns, ping: pingRuns }),
  ].join('\n');
}

export async function main(argv: readonly string[]): Promise<number> {
  if (process.getuid?.() !== 0) {
    process.stderr.write('throughput benchmark needs root (it builds network namespaces)\n');
    return 2;
  }
  let opts: Options;
  try {
    opts = parseOptions(argv);
  } catch (err) {
    process.stderr.write(`throughput benchmark: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  const missing = await missingTools();
  if (missing.length) {
    process.stderr.write(`throughput benchmark needs ${missing.join(', ')} (Debian packages iperf3, iputils-ping, nftables, iproute2)\n`);
    return 2;
  }
  const name = `bench-tput-${process.pid}`;
  const dir = await mkdtemp(join(tmpdir(), 'sl-bench-tput-'));
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
    // Also covers an `up` that failed or ran out of time half-way.
    await within(LAB_DOWN_MS, `tearing lab ${name} down`, Lab.down(name, { plugins: [] })).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    releaseDir();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    process.exitCode = await main(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`throughput benchmark failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  }
}
