/**
 * Asks a DNS server one question and prints the answer as JSON, for tests and people:
 *   node dns-query.js NAME [--type A|AAAA|CNAME|…] [--server IP] [--port 53] [--tcp] [--timeout SECONDS]
 * Without --server it asks the first nameserver of /etc/resolv.conf (in a lab namespace, the one
 * `ip netns exec` mounts there). Exit code 0 when an answer came back, whatever its rcode.
 */
import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import dnsPacket, { type RecordType } from 'dns-packet';
import { exchangeTcp, exchangeUdp } from './forward.js';
import { describeResponse } from './wire.js';

export interface DnsQueryResult extends ReturnType<typeof describeResponse> {
  server: string;
  transport: 'udp' | 'tcp';
}

function resolvConfServer(): string {
  const line = readFileSync('/etc/resolv.conf', 'utf8')
    .split('\n')
    .find((l) => /^\s*nameserver\s+\S+/.test(l));
  if (!line) throw new Error('no nameserver in /etc/resolv.conf');
  return line.trim().split(/\s+/)[1]!;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      type: { type: 'string', default: 'A' },
      server: { type: 'string' },
      port: { type: 'string', default: '53' },
      tcp: { type: 'boolean', default: false },
      timeout: { type: 'string', default: '2' },
    },
  });
  const [name] = positionals;
  if (!name || positionals.length > 1) throw new Error('usage: dns-query NAME [--type A] [--server IP] [--port 53] [--tcp] [--timeout S]');
  const server = values.server ?? resolvConfServer();
  const query = dnsPacket.encode({
    type: 'query',
    id: randomInt(1, 65_536),
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type: values.type.toUpperCase() as RecordType, name, class: 'IN' }],
  });
  const exchange = values.tcp ? exchangeTcp : exchangeUdp;
  const reply = await exchange(query, { host: server, port: Number(values.port) }, Number(values.timeout) * 1000);
  const result: DnsQueryResult = { server, transport: values.tcp ? 'tcp' : 'udp', ...describeResponse(reply) };
  process.stdout.write(JSON.stringify(result) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`dns-query: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
