/**
 * The lab's "external" service: tells each client the address it was seen from, which is how tests
 * observe SNAT. One JSON line per answer: {"clientIP":…,"clientPort":…,"proto":"http"|"tcp"|"udp"}.
 * The stream port keeps the connection open and answers every line it receives with
 * {"clientIP":…,"clientPort":…,"proto":"stream","line":…}, for tests of long-lived flows.
 * Usage: node echo-server.js [--http 8080] [--tcp 9000] [--udp 9001] [--stream 9002] [--host4 0.0.0.0] [--host6 ::]
 * (an empty --host4/--host6 skips that family). Prints {"ready":true,…} once every socket listens.
 */
import { createSocket, type Socket } from 'node:dgram';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { echoLine, streamLine } from './echo-reply.js';

interface Ports {
  http: number;
  tcp: number;
  udp: number;
  stream: number;
}

async function listenOn(host: string, ipv6: boolean, ports: Ports): Promise<Ports> {
  const http = createHttpServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(echoLine(req.socket.remoteAddress, req.socket.remotePort, 'http'));
  });
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
  const listen = (srv: typeof http | typeof tcp, port: number) =>
    new Promise<number>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen({ host, port, ipv6Only: ipv6 }, () => resolve((srv.address() as AddressInfo).port));
    });
  const udpPort = await new Promise<number>((resolve, reject) => {
    udp.once('error', reject);
    udp.bind({ address: host, port: ports.udp }, () => resolve(udp.address().port));
  });
  return { http: await listen(http, ports.http), tcp: await listen(tcp, ports.tcp), udp: udpPort, stream: await listen(stream, ports.stream) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      http: { type: 'string', default: '8080' },
      tcp: { type: 'string', default: '9000' },
      udp: { type: 'string', default: '9001' },
      stream: { type: 'string', default: '9002' },
      host4: { type: 'string', default: '0.0.0.0' },
      host6: { type: 'string', default: '::' },
    },
  });
  let ports: Ports = { http: Number(values.http), tcp: Number(values.tcp), udp: Number(values.udp), stream: Number(values.stream) };
  const bound: Record<string, Ports> = {};
  // With port 0 the IPv6 sockets reuse the ports the kernel picked for IPv4.
  if (values.host4) ports = bound[values.host4] = await listenOn(values.host4, false, ports);
  if (values.host6) bound[values.host6] = await listenOn(values.host6, true, ports);
  process.stdout.write(JSON.stringify({ ready: true, pid: process.pid, bound }) + '\n');
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => process.exit(0));
}

main().catch((err: unknown) => {
  process.stderr.write(`echo-server: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
