/**
 * Run inside a lab namespace (`ip netns exec NS node denial-flood.js ...`): reads firewall denials
 * with FirewallDenials while a second process floods denied UDP, and prints one JSON summary line
 * (a FloodSummary) with every denial line the reader wrote, its counters, how late its event loop
 * ran at worst and how much its memory grew. `--send` is the flooding process.
 *
 * Args: --group N --seconds S --port P [--port P ...] [--send]
 */
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Metrics } from '../../../lib/metrics/metrics.js';
import { FirewallDenials } from '../firewall-denials.js';
import { DESTINATION, POD, RULE, TEST_BUDGET, type FloodSummary } from './denial-flood-setup.js';

const { values } = parseArgs({
  options: {
    group: { type: 'string' },
    seconds: { type: 'string', default: '3' },
    port: { type: 'string', multiple: true, default: [] },
    send: { type: 'boolean', default: false },
  },
});
const seconds = Number(values.seconds);
const ports = values.port.map(Number);

/** Sends UDP to every port for `seconds`, as fast as the socket takes it; prints how many. */
async function send(): Promise<void> {
  const socket = createSocket('udp4');
  socket.on('error', () => {});
  const payload = Buffer.alloc(32);
  const until = performance.now() + seconds * 1000;
  let sent = 0;
  while (performance.now() < until) {
    await Promise.all(Array.from({ length: 200 }, (_v, i) => new Promise<void>((resolve) => socket.send(payload, ports[i % ports.length]!, DESTINATION, () => resolve()))));
    sent += 200;
  }
  socket.close();
  process.stdout.write(`${sent}\n`);
}

async function read(): Promise<void> {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n')) if (l.startsWith('{')) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  const metrics = new Metrics({ processMetrics: false, build: { version: 'test', commit: 'test' } });
  const denials = new FirewallDenials({ group: Number(values.group), log: pino(sink), metrics, ...TEST_BUDGET });
  denials.update({ rules: new Map([[RULE.prefix, { firewall: RULE.firewall, rule: RULE.rule }]]), pods: new Map([[POD.address, POD.name]]) });
  const bound = performance.now() + 5000;
  while (!lines.some((l) => l.msg === 'reading firewall denials from nfnetlink_log')) {
    if (performance.now() > bound) throw new Error(`the group was not bound: ${JSON.stringify(lines)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  let maxLagMs = 0;
  let last = performance.now();
  const lag = setInterval(() => {
    const now = performance.now();
    maxLagMs = Math.max(maxLagMs, now - last - 10);
    last = now;
  }, 10);
  const rssBefore = process.memoryUsage().rss;
  const script = fileURLToPath(import.meta.url);
  const sender = spawn(process.execPath, [script, '--send', '--seconds', String(seconds), ...ports.flatMap((p) => ['--port', String(p)])], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  sender.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  await new Promise((resolve) => sender.on('close', resolve));
  // The kernel flushes its batch within 0.1 s and the reader posts within 0.2 s.
  await new Promise((r) => setTimeout(r, 1000));
  clearInterval(lag);
  const rssGrowthBytes = process.memoryUsage().rss - rssBefore;
  await denials.close();
  const summary: FloodSummary = {
    sent: Number(out.trim()),
    lines: lines.filter((l) => l.op === 'firewall-deny'),
    maxLagMs,
    rssGrowthBytes,
    metrics: await metrics.registry.metrics(),
  };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}

await (values.send ? send() : read());
