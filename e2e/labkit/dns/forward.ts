/**
 * Asking another DNS server: one message over UDP (from a fresh socket, so a random source port, as
 * resolvers do) or over TCP (one connection per message). Bounded by a timeout; used by the cluster
 * DNS to forward and by the query tool.
 */
import { createSocket } from 'node:dgram';
import { isIP, connect } from 'node:net';
import { TcpFramer, tcpFrame } from './wire.js';

export interface Server {
  host: string;
  port: number;
}

export async function exchangeUdp(msg: Buffer, server: Server, timeoutMs: number): Promise<Buffer> {
  const sock = createSocket(isIP(server.host) === 6 ? 'udp6' : 'udp4');
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer from ${server.host}:${server.port} over UDP in ${timeoutMs} ms`)), timeoutMs);
      sock.once('error', (err) => (clearTimeout(timer), reject(err)));
      sock.on('message', (reply, rinfo) => {
        // Only the server's answer to this message: same source, same ID.
        if (rinfo.port !== server.port || reply.length < 2 || reply.readUInt16BE(0) !== msg.readUInt16BE(0)) return;
        clearTimeout(timer);
        resolve(reply);
      });
      sock.send(msg, server.port, server.host);
    });
  } finally {
    sock.close();
  }
}

export async function exchangeTcp(msg: Buffer, server: Server, timeoutMs: number): Promise<Buffer> {
  const sock = connect({ host: server.host, port: server.port });
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      sock.setTimeout(timeoutMs, () => reject(new Error(`no answer from ${server.host}:${server.port} over TCP in ${timeoutMs} ms`)));
      sock.once('error', reject);
      sock.once('close', () => reject(new Error(`${server.host}:${server.port} closed the TCP connection without an answer`)));
      const framer = new TcpFramer();
      sock.on('data', (chunk: Buffer) => {
        const [reply] = framer.push(chunk);
        if (reply) resolve(reply);
      });
      sock.write(tcpFrame(msg));
    });
  } finally {
    sock.destroy();
  }
}
