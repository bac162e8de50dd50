/**
 * The lab's DNS servers, over UDP and TCP on the given addresses, one JSON log line per query on stdout:
 * - zoneHandler: the external authoritative server. It answers from the zone file (zone.ts) and reads it
 *   again on SIGHUP, logging {"msg":"zone loaded","serial":N} (a bad file is logged and the old zone kept).
 * - forwardHandler: the cluster DNS (kube-dns). Names in the local domains (cluster.local) get NXDOMAIN
 *   from it, as CoreDNS's kubernetes plugin answers names it does not know; everything else is forwarded
 *   upstream over the transport the client used, and the answer relayed unchanged (TTLs included; no cache).
 */
import { createSocket, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createServer, isIP, type Server as TcpServer } from 'node:net';
import { exchangeTcp, exchangeUdp, type Server } from './forward.js';
import { describeResponse, parseQuery, respond, TCP_SIZE, TcpFramer, tcpFrame, udpLimit, zoneResponse, errorResponse } from './wire.js';
import { parseZone, ZoneAnswerer } from './zone.js';

export type Transport = 'udp' | 'tcp';
export type Handler = (msg: Buffer, transport: Transport) => Promise<Buffer | undefined>;

const FORWARD_TIMEOUT_MS = 2_000;
const TCP_IDLE_MS = 10_000;

export const log = (line: Record<string, unknown>) => process.stdout.write(JSON.stringify({ time: Date.now(), ...line }) + '\n');

export function zoneHandler(file: string): Handler {
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

export function forwardHandler(upstream: Server, localDomains: readonly string[]): Handler {
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

/** Serves the handler on UDP and TCP on every host; with port 0 all take the port the kernel gave the first. Returns the port. */
export async function serveDns(hosts: readonly string[], port: number, handler: Handler): Promise<number> {
  const handle = logged(handler);
  for (const host of hosts) {
    const udp = await listenUdp(host, port, handle);
    port = udp.address().port;
    await listenTcp(host, port, handle);
  }
  return port;
}
