/**
 * Liveness probes on loopback (127.0.0.0/8, no root), default timing (100 ms × 3, hold-down 5 s):
 *
 * 1. Detection: two probers in this process watch a third in a child process, which is SIGKILLed
 *    --repeat times; the figure is the time from the kill to both watchers' listener saying dead,
 *    as a ratio to the detection window (1.0 = exactly one window after the victim's last packet,
 *    which is the design: a timer runs at the window's end). False deaths of the two watchers are
 *    counted too.
 * 2. Cost: --nodes probers in one process (each in its own worker thread), each probing all the
 *    others, for --seconds; CPU per prober per peer (the work grows with peers), and RTT seen.
 *
 *   node dist/bench/liveness/detection.js [--repeat N] [--nodes N] [--seconds N]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseBenchArgs, type UsageSpec } from '../command-line.js';
import { Prober } from '../../lib/liveness/prober.js';
import { PROBE_DEFAULTS } from '../../lib/liveness/prober-options.js';
import type { LivenessView } from '../../lib/liveness/liveness-types.js';

const NODE_SCRIPT = fileURLToPath(new URL('../../lib/liveness/testing/netns-node.js', import.meta.url));
const WATCHERS = [
  { node: 'watch-1', address: '127.0.0.2' },
  { node: 'watch-2', address: '127.0.0.3' },
];
const VICTIM = { node: 'victim', address: '127.0.0.4' };

function quantile(values: readonly number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) return false;
    await sleep(5);
  }
  return true;
}

async function detection(repeat: number, port: number): Promise<void> {
  const windowMs = PROBE_DEFAULTS.intervalMs * PROBE_DEFAULTS.misses;
  const watchers = await Promise.all(WATCHERS.map((w) => Prober.start({ node: w.node, addresses: [w.address], port })));
  const falseDeaths: string[] = [];
  const latest = new Map<Prober, LivenessView>();
  watchers.forEach((p, i) => {
    p.setPeers([...WATCHERS.filter((_, j) => j !== i), VICTIM]);
    p.onChange((view) => {
      latest.set(p, view);
      const other = WATCHERS[1 - i]!.node;
      if (view.peers.get(other)?.alive === false) falseDeaths.push(`${WATCHERS[i]!.node} saw ${other} dead`);
    });
  });
  const seen = (alive: boolean) => watchers.every((p) => latest.get(p)?.peers.get(VICTIM.node)?.alive === alive && (!alive || latest.get(p)?.peers.get(VICTIM.node)?.heard));
  const detections: number[] = [];
  let child: ChildProcess | undefined;
  try {
    for (let r = 0; r < repeat; r++) {
      child = spawn(
        process.execPath,
        [NODE_SCRIPT, '--node', VICTIM.node, '--address', VICTIM.address, '--port', String(port), ...WATCHERS.flatMap((w) => ['--peer', `${w.node}=${w.address}`])],
        { stdio: 'ignore' },
      );
      // After the first kill the victim is back only after the hold-down.
      if (!(await until(() => seen(true), PROBE_DEFAULTS.holdDownMs + 10_000))) throw new Error('victim not alive to both watchers');
      await sleep(200 + Math.random() * PROBE_DEFAULTS.intervalMs); // kill at any point of an interval
      const killedAt = performance.now();
      child.kill('SIGKILL');
      if (!(await until(() => seen(false), 10_000))) throw new Error('victim death not seen');
      detections.push(performance.now() - killedAt);
      await new Promise((resolve) => (child!.exitCode !== null || child!.signalCode !== null ? resolve(null) : child!.once('exit', resolve)));
    }
  } finally {
    child?.kill('SIGKILL');
    await Promise.all(watchers.map((p) => p.close()));
  }
  const ratio = (ms: number) => (ms / windowMs).toFixed(2);
  process.stdout.write(`detection after SIGKILL, ${repeat} kills, window ${windowMs} ms (ratio to the window):\n`);
  process.stdout.write(`  median ${detections.length ? quantile(detections, 0.5).toFixed(0) : '-'} ms (${ratio(quantile(detections, 0.5))}), `);
  process.stdout.write(
    `p90 ${quantile(detections, 0.9).toFixed(0)} ms (${ratio(quantile(detections, 0.9))}), max ${Math.max(...detections).toFixed(0)} ms (${ratio(Math.max(...detections))})\n`,
  );
  process.stdout.write(`  false deaths among the watchers: ${falseDeaths.length}${falseDeaths.length ? ` (${falseDeaths.slice(0, 3).join('; ')})` : ''}\n`);
}

async function cost(nodes: number, seconds: number, port: number): Promise<void> {
  const all = Array.from({ length: nodes }, (_, i) => ({ node: `n${i}`, address: `127.0.3.${i + 1}` }));
  const probers = await Promise.all(all.map((n) => Prober.start({ node: n.node, addresses: [n.address], port })));
  probers.forEach((p, i) => p.setPeers(all.filter((_, j) => j !== i)));
  await sleep(1000);
  const before = process.cpuUsage();
  const startRounds = probers.map((p) => p.stats().rounds);
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(before);
  const views = probers.map((p) => p.view());
  await Promise.all(probers.map((p) => p.close()));
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const perPeerPercent = (cpuMs / wallMs / nodes / (nodes - 1)) * 100;
  const rounds = probers.reduce((sum, p, i) => sum + p.stats().rounds - startRounds[i]!, 0) / nodes;
  const notHeard = views.reduce((sum, v) => sum + [...v.peers.values()].filter((x) => !x.heard).length, 0);
  process.stdout.write(`cost: ${nodes} probers × ${nodes - 1} peers in one process for ${seconds} s:\n`);
  process.stdout.write(
    `  CPU ${((cpuMs / wallMs) * 100).toFixed(1)} % of one core in all, ${((cpuMs / wallMs / nodes) * 100).toFixed(2)} % per prober, ${perPeerPercent.toFixed(3)} % per prober per peer\n`,
  );
  process.stdout.write(`  ${(rounds / (wallMs / 1000)).toFixed(1)} rounds/s per prober (target ${1000 / PROBE_DEFAULTS.intervalMs}); peers not heard at the end: ${notHeard}\n`);
}

const USAGE: UsageSpec = { command: 'node dist/bench/liveness/detection.js' };

export async function main(argv: readonly string[]): Promise<number> {
  const { values } = parseBenchArgs(
    USAGE,
    { repeat: { type: 'string', default: '10' }, nodes: { type: 'string', default: '20' }, seconds: { type: 'string', default: '10' } },
    argv,
  );
  const port = 30_000 + (process.pid % 20_000);
  await detection(Number(values.repeat), port);
  await cost(Number(values.nodes), Number(values.seconds), port + 1);
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
