/**
 * Runs in a pod's namespace (through `ip netns exec`, so with the pod's resolv.conf): `count` times,
 * resolves NAME with getaddrinfo as an application does, then at once makes one HTTP call on a new
 * connection to the address it got. One line per call on stdout: `ADDRESS OUTCOME`, OUTCOME being
 * `ok`, `refused` (the connection was reset or refused), `timeout`, `dns:CODE` or `error:CODE`.
 *
 * usage: node lookup-and-call-program.js NAME PORT COUNT TIMEOUT_MS
 */
import { lookup } from 'node:dns/promises';
import { request } from 'node:http';

export type CallOutcomeWord = 'ok' | 'refused' | 'timeout' | `dns:${string}` | `error:${string}`;

const errorCode = (err: unknown): string => (err as NodeJS.ErrnoException | undefined)?.code ?? 'UNKNOWN';

function call(address: string, name: string, port: number, timeoutMs: number): Promise<CallOutcomeWord> {
  return new Promise((resolve) => {
    // agent: false, so that every call opens its own connection (Node's global agent keeps them alive)
    const req = request({ host: address, port, path: '/', headers: { host: name }, agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.once('end', () => resolve('ok'));
      res.once('error', (err) => resolve(`error:${errorCode(err)}`));
    });
    req.once('timeout', () => {
      req.destroy();
      resolve('timeout');
    });
    req.once('error', (err) => {
      const code = errorCode(err);
      resolve(code === 'ECONNREFUSED' || code === 'ECONNRESET' ? 'refused' : `error:${code}`);
    });
    req.end();
  });
}

async function main(argv: readonly string[]): Promise<void> {
  const [name, port, count, timeout] = argv;
  if (!name || !port || !count || !timeout) {
    process.stderr.write('usage: lookup-and-call-program NAME PORT COUNT TIMEOUT_MS\n');
    process.exit(2);
  }
  const timeoutMs = Number(timeout);
  for (let i = 0; i < Number(count); i++) {
    let address: string;
    try {
      address = (await lookup(name, { family: 4 })).address;
    } catch (err) {
      process.stdout.write(`- dns:${errorCode(err)}\n`);
      continue;
    }
    process.stdout.write(`${address} ${await call(address, name, Number(port), timeoutMs)}\n`);
  }
}

await main(process.argv.slice(2));
