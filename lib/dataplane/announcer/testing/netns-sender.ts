/**
 * Runs inside a network namespace (`ip netns exec NS node netns-sender.js ...`), since a Node
 * process cannot switch namespaces itself. Announces, waits, prints one JSON line, exits.
 *
 * Args: --ifname IF --ip IP [--ip IP ...] [--probe IF ...] --wait-ms N --refresh-ms N
 * `--probe` links get an announcement too, so their skip reason shows up in the output.
 */
import { parseArgs } from 'node:util';
import { Announcer } from '../announcer.js';

export interface SenderReport {
  readonly status: {
    ip: string;
    ifname: string;
    framesSent: number;
    skipped: number;
    failures: number;
    lastSkip: string | null;
    lastError: string | null;
    ifindex: number | null;
  }[];
  readonly closeMs: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      ifname: { type: 'string' },
      ip: { type: 'string', multiple: true, default: [] },
      probe: { type: 'string', multiple: true, default: [] },
      'wait-ms': { type: 'string', default: '400' },
      'refresh-ms': { type: 'string', default: '60000' },
    },
  });
  if (values.ifname === undefined || values.ip.length === 0) throw new Error('need --ifname and --ip');
  const announcer = new Announcer({ refreshMs: Number(values['refresh-ms']) });
  for (const ip of values.ip) announcer.announce(ip, values.ifname);
  for (const ifname of values.probe) announcer.announce(values.ip[0]!, ifname);
  await new Promise((resolve) => setTimeout(resolve, Number(values['wait-ms'])));
  await announcer.settled();
  const status = announcer.status().map((s) => ({
    ip: s.ip,
    ifname: s.ifname,
    framesSent: s.framesSent,
    skipped: s.skipped,
    failures: s.failures,
    lastSkip: s.lastSkip ?? null,
    lastError: s.lastError ? `${s.lastError.code}: ${s.lastError.message}` : null,
    ifindex: s.ifindex ?? null,
  }));
  const started = performance.now();
  await announcer.close();
  const report: SenderReport = { status, closeMs: performance.now() - started };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
