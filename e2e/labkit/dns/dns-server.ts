/**
 * The lab's DNS servers, over UDP and TCP on port 53 of the given addresses, one JSON log line per query.
 * - `--zone FILE`: the external authoritative server. It answers from the zone file (zone.ts) and reads
 *   it again on SIGHUP, logging {"msg":"zone loaded","serial":N} (a bad file is logged and the old zone kept).
 * - `--forward HOST`: the cluster DNS (kube-dns). Names in `--local-domain` (cluster.local) get NXDOMAIN
 *   from it, as CoreDNS's kubernetes plugin answers names it does not know; everything else is forwarded
 *   to HOST over the transport the client used, and the answer relayed unchanged (TTLs included; no cache).
 * Prints {"ready":true,…} once every socket listens.
 */
import { createSocket, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createServer, isIP, type Server as TcpServer } from 'node:net';
import { parseArgs } from 'node:util';
import { exchangeTcp, exchangeUdp, type Server } from './forward.js';
import { describeResponse, parseQuery, respond, TCP_SIZE, TcpFramer, tcpFrame, udpLimit, zoneResponse, errorResponse } from './wire.js';
import { parseZone, ZoneAnswerer } from './zone.js';

type Transport = 'udp' | 'tcp';
type Handler = (msg: Buffer, transport: Transport) => Promise<Buffer | undefined>;

const FORWARD_TIMEOUT_MS = 2_000;
const TCP_IDLE_MS = 10_000;

const log = (line: Record<string, unknown>) => process.stdout.write(JSON.stringify({ time: Date.now(), ...line }) + '\n');

function zoneHandler(file: string): Handler {
  let serial = 0;
  let zone: ZoneAnswerer | undefined;
  const load = () => {
    try {
      const parsed = parseZone(readFileSync(file, 'utf8'));
      zone = new ZoneAnswerer(parsed);
      serial += 1;
      log({ msg: 'zone loaded', serial, records: Object.keys(parsed.records).length });
    } catch (err) {
      log({ msg: 'zone not loaded; keeping the previous one', file, error: String(err) });
      if (!zone) throw err;
    }
  };
  load();
  process.on('SIGHUP', load);
  return async (msg, transport) => {
    const q = parseQuery(msg);
    if (!q) return errorResponse(msg, 'FORMERR');
    return zoneResponse(q.packet, q.question, zone!, serial, transport === 'udp' ? udpLimit(q.packet) : TCP_SIZE);
  };
}

function forwardHandler(upstream: Server, localDomains: readonly string[]): Handler {
  const isLocal = (name: string) => localDomains.some((d) => name === d || name.endsWith(`.${d}`));
  return async (msg, transport) => {
    const q = parseQuery(msg);
    if (!q) return errorResponse(msg, 'FORMERR');
    if (isLocal(q.question.name.toLowerCase().replace(/\.$/, ''))) {
      return respond(q.packet, { rcode: 'NXDOMAIN', authoritative: true }, transport === 'udp' ? udpLimit(q.packet) : TCP_SIZE);
    }
    try {
      return await (transport === 'udp' ? exchangeUdp : exchangeTcp)(msg, upstream, FORWARD_TIMEOUT_MS);
    } catch (err) {
      log({ msg: 'forward failed', name: q.question.name, transport, error: String(err) });
      return errorResponse(msg, 'SERVFAIL');
    }
  };
}

function logged(handler: Handler): (msg: Buffer, transport: Transport, from: string) => Promise<Buffer | undefined> {
  return async (msg, transport, from) => {
    const reply = await handler(msg, transport);
    const q = parseQuery(msg)?.question;
    let summary: Record<string, unknown> = {};
    try {
      if (reply) {
        const d = describeResponse(reply);
        summary = { rcode: d.rcode, truncated: d.truncated, answers: d.answers.map((a) => `${a.type} ${a.data} ${a.ttl}`) };
      }
    } catch {
      summary = { rcode: 'undecodable' };
    }
    log({ msg: 'query', transport, from, name: q?.name, type: q?.type, ...summary });
    return reply;
  };
}

async function listenUdp(host: string, port: number, handle: ReturnType<typeof logged>): Promise<Socket> {
  const sock = createSocket({ type: isIP(host) === 6 ? 'udp6' : 'udp4', ipv6Only: isIP(host) === 6 });
  sock.on('message', (msg, rinfo) => {
    void handle(msg, 'udp', rinfo.address).then((reply) => reply && sock.send(reply, rinfo.port, rinfo.address));
  });
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind({ address: host, port }, resolve);
  });
  return sock;
}

async function listenTcp(host: string, port: number, handle: ReturnType<typeof logged>): Promise<TcpServer> {
  const srv = createServer((sock) => {
    const framer = new TcpFramer();
    sock.setTimeout(TCP_IDLE_MS, () => sock.destroy());
    sock.on('error', () => sock.destroy());
    sock.on('data', (chunk: Buffer) => {
      for (const msg of framer.push(chunk)) {
        void handle(msg, 'tcp', sock.remoteAddress ?? '').then((reply) => reply && !sock.destroyed && sock.write(tcpFrame(reply)));
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen({ host, port, ipv6Only: isIP(host) === 6 }, resolve);
  });
  return srv;
}

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
  let port = Number(values.port);
  const handler = values.zone ? zoneHandler(values.zone) : forwardHandler({ host: values.forward!, port: Number(values['forward-port']) }, values['local-domain']);
  const handle = logged(handler);
  for (const host of hosts) {
    // With --port 0 every socket takes the port the kernel gave the first one.
    const udp = await listenUdp(host, port, handle);
    port = udp.address().port;
    await listenTcp(host, port, handle);
  }
  log({ ready: true, pid: process.pid, listen: hosts, port, mode: values.zone ? 'authoritative' : 'forward' });
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => process.exit(0));
}

main().catch((err: unknown) => {
  process.stderr.write(`dns-server: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
