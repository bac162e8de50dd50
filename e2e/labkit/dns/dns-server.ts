/**
 * A lab DNS server as a process (serve.ts): `--zone FILE` the authoritative server, `--forward HOST` the
 * cluster DNS, on port 53 (or `--port`) of the `--listen` addresses, UDP and TCP.
 * Prints {"ready":true,…} once every socket listens.
 */
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { forwardHandler, log, serveDns, zoneHandler } from './serve.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      listen: { type: 'string' },
      port: { type: 'string', default: '53' },
      zone: { type: 'string' },
      forward: { type: 'string' },
      'forward-port': { type: 'string', default: '53' },
      'local-domain': { type: 'string', multiple: true, default: [] },
    },
  });
  const hosts = (values.listen ?? '').split(',').filter(Boolean);
  if (hosts.length === 0 || hosts.some((h) => isIP(h) === 0)) throw new Error('--listen takes a comma-separated list of addresses');
  if (!values.zone === !values.forward) throw new Error('give either --zone FILE or --forward HOST');
  const handler = values.zone ? zoneHandler(values.zone) : forwardHandler({ host: values.forward!, port: Number(values['forward-port']) }, values['local-domain']);
  const port = await serveDns(hosts, Number(values.port), handler);
  log({ ready: true, pid: process.pid, listen: hosts, port, mode: values.zone ? 'authoritative' : 'forward' });
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => process.exit(0));
}

main().catch((err: unknown) => {
  process.stderr.write(`dns-server: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
