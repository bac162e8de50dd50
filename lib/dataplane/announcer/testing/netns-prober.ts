/**
 * Runs inside a network namespace (`ip netns exec NS node netns-prober.js ...`): probes each
 * address for a duplicate and prints one JSON line with who answered and how long it took.
 *
 * Args: --ifname IF --ip IP [--ip IP ...]
 */
import { parseArgs } from 'node:util';
import { duplicateAddressProbe } from '../duplicate-probe.js';

export interface ProberReport {
  readonly results: { ip: string; mac: string | null; ms: number; error: string | null }[];
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { ifname: { type: 'string' }, ip: { type: 'string', multiple: true, default: [] } } });
  if (values.ifname === undefined || values.ip.length === 0) throw new Error('need --ifname and --ip');
  const prober = duplicateAddressProbe();
  const results: ProberReport['results'] = [];
  for (const ip of values.ip) {
    const started = performance.now();
    try {
      const mac = await prober.probe(ip, values.ifname);
      results.push({ ip, mac: mac ?? null, ms: performance.now() - started, error: null });
    } catch (err) {
      results.push({ ip, mac: null, ms: performance.now() - started, error: err instanceof Error ? `${(err as { code?: string }).code}: ${err.message}` : String(err) });
    }
  }
  process.stdout.write(`${JSON.stringify({ results } satisfies ProberReport)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
