/**
 * The lab's "external" service: tells each client the address it was seen from, which is how tests
 * observe SNAT. One JSON line per answer: {"clientIP":…,"clientPort":…,"proto":"http"|"tcp"|"udp"}.
 * The stream port keeps the connection open and answers every line it receives with
 * {"clientIP":…,"clientPort":…,"proto":"stream","line":…}, for tests of long-lived flows.
 * HTTP answers also carry "serverIP" (the address the client asked); HTTPS (`--https PORT --tls-dir DIR`)
 * answers like HTTP with proto "https" and "sni", the name from the client's TLS hello. The lab CA lives in
 * DIR (made at start-up unless present, naming the `--tls-ips`); each SNI name gets a certificate signed
 * by it when first asked, clients without SNI the CA's own (echo-tls.ts).
 * With `--dns-listen A,B --dns-zone FILE` the same process is also the lab's external authoritative DNS
 * server on port 53 of those addresses (dns/serve.ts; one process for the external host's services keeps
 * the lab's start-up cheap); SIGHUP rereads the zone.
 * Usage: node echo-server.js [--http 8080] [--http-default 80] [--https 443 --tls-dir DIR --tls-ips A,B]
 *   [--tcp 9000] [--udp 9001] [--stream 9002] [--host4 0.0.0.0] [--host6 ::] [--dns-listen A,B --dns-zone FILE [--dns-port 53]]
 * (an empty --host4/--host6 skips that family, an empty --http-default/--https that server). Prints
 * {"ready":true,…} once every socket listens.
 */
import { createSocket, type Socket } from 'node:dgram';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { createSecureContext, type SecureContext, type TLSSocket } from 'node:tls';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { normalizeName } from './dns/zone.js';
import { echoLine, streamLine, webLine } from './echo-reply.js';
import { caKeyPair, ensureCa, serverCertificate, type KeyPair } from './echo-tls.js';

interface Ports {
  http: number;
  tcp: number;
  udp: number;
  stream: number;
  httpDefault?: number;
  https?: number;
}

interface Tls {
  /** For clients without SNI. */
  fallback: KeyPair;
  /** Contexts by SNI name, made on first use. */
  contextFor(name: string): Promise<SecureContext | undefined>;
}

function webAnswer(req: IncomingMessage, res: ServerResponse): void {
  const sock = req.socket;
  const tls = 'encrypted' in sock && sock.encrypted ? { sni: ((sock as TLSSocket).servername as string | false | undefined) || null } : undefined;
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(webLine(sock.remoteAddress, sock.remotePort, sock.localAddress, tls));
}

const MAX_SNI_NAMES = 1_000;

async function tlsSetup(dir: string, ips: readonly string[]): Promise<Tls> {
  await ensureCa(dir, ips);
  const contexts = new Map<string, Promise<SecureContext | undefined>>();
  return {
    fallback: await caKeyPair(dir),
    contextFor(raw) {
      let name: string;
      try {
        name = normalizeName(raw); // the client's text goes to openssl only once it is a plain DNS name
      } catch {
        return Promise.resolve(undefined);
      }
      let ctx = contexts.get(name);
      // Bounded: past MAX_SNI_NAMES names a client gets the certificate for the addresses.
      if (!ctx && contexts.size >= MAX_SNI_NAMES) return Promise.resolve(undefined);
      if (!ctx) {
        ctx = serverCertificate(dir, name)
          .then((pair) => createSecureContext(pair))
          .catch(() => undefined);
        contexts.set(name, ctx);
      }
      return ctx;
    },
  };
}

async function listenOn(host: string, ipv6: boolean, ports: Ports, tls: Tls | undefined): Promise<Ports> {
  const http = createHttpServer(webAnswer);
  const httpDefault = ports.httpDefault === undefined ? undefined : createHttpServer(webAnswer);
  const https =
    ports.https === undefined || !tls
      ? undefined
      : createHttpsServer({ ...tls.fallback, SNICallback: (name, cb) => void tls.contextFor(name).then((ctx) => cb(null, ctx)) }, webAnswer);
  const tcp = createTcpServer((sock) => {
    sock.on('error', () => sock.destroy());
    sock.end(echoLine(sock.remoteAddress, sock.remotePort, 'tcp'));
  });
  const stream = createTcpServer((sock) => {
    sock.on('error', () => sock.destroy());
    // readline re-emits the socket's errors (a reset from the peer): unhandled, they would end the whole service.
    createInterface({ input: sock })
      .on('error', () => sock.destroy())
      .on('line', (line) => sock.write(streamLine(sock.remoteAddress, sock.remotePort, line)));
  });
  const udp: Socket = createSocket({ type: ipv6 ? 'udp6' : 'udp4', ipv6Only: ipv6 });
  udp.on('message', (_msg, rinfo) => udp.send(echoLine(rinfo.address, rinfo.port, 'udp'), rinfo.port, rinfo.address));
  const listen = (srv: typeof http | typeof tcp | NonNullable<typeof https>, port: number) =>
    new Promise<number>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen({ host, port, ipv6Only: ipv6 }, () => resolve((srv.address() as AddressInfo).port));
    });
  const udpPort = await new Promise<number>((resolve, reject) => {
    udp.once('error', reject);
    udp.bind({ address: host, port: ports.udp }, () => resolve(udp.address().port));
  });
  return {
    http: await listen(http, ports.http),
    tcp: await listen(tcp, ports.tcp),
    udp: udpPort,
    stream: await listen(stream, ports.stream),
    ...(httpDefault ? { httpDefault: await listen(httpDefault, ports.httpDefault!) } : {}),
    ...(https ? { https: await listen(https, ports.https!) } : {}),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      http: { type: 'string', default: '8080' },
      tcp: { type: 'string', default: '9000' },
      udp: { type: 'string', default: '9001' },
      stream: { type: 'string', default: '9002' },
      'http-default': { type: 'string', default: '' },
      https: { type: 'string', default: '' },
      'tls-dir': { type: 'string', default: '' },
      'tls-ips': { type: 'string', default: '' },
      'dns-listen': { type: 'string', default: '' },
      'dns-zone': { type: 'string', default: '' },
      'dns-port': { type: 'string', default: '53' },
      host4: { type: 'string', default: '0.0.0.0' },
      host6: { type: 'string', default: '::' },
    },
  });
  if (values.https && !values['tls-dir']) throw new Error('--https needs --tls-dir');
  let ports: Ports = {
    http: Number(values.http),
    tcp: Number(values.tcp),
    udp: Number(values.udp),
    stream: Number(values.stream),
    ...(values['http-default'] ? { httpDefault: Number(values['http-default']) } : {}),
    ...(values.https ? { https: Number(values.https) } : {}),
  };
  const tls = values.https ? await tlsSetup(values['tls-dir'], values['tls-ips'].split(',').filter(Boolean)) : undefined;
  const bound: Record<string, Ports> = {};
  // With port 0 the IPv6 sockets reuse the ports the kernel picked for IPv4.
  if (values.host4) ports = bound[values.host4] = await listenOn(values.host4, false, ports, tls);
  if (values.host6) bound[values.host6] = await listenOn(values.host6, true, ports, tls);
  let dns: { listen: string[]; port: number } | undefined;
  if (values['dns-listen']) {
    if (!values['dns-zone']) throw new Error('--dns-listen needs --dns-zone');
    const { serveDns, zoneHandler } = await import('./dns/serve.js');
    const listen = values['dns-listen'].split(',');
    dns = { listen, port: await serveDns(listen, Number(values['dns-port']), zoneHandler(values['dns-zone'])) };
  }
  process.stdout.write(JSON.stringify({ ready: true, pid: process.pid, bound, ...(dns ? { dns } : {}) }) + '\n');
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => process.exit(0));
}

main().catch((err: unknown) => {
  process.stderr.write(`echo-server: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
