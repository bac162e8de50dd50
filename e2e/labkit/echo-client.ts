/** Asking the lab's echo service "who am I?" with the Debian tools present in every namespace. */
import type { EchoProto, EchoReply } from './echo-reply.js';
import type { LabInfo } from './info.js';

export type IpFamily = 4 | 6;

export interface EchoProbe {
  argv: string[];
  input?: string;
}

export function echoProbe(echo: LabInfo['echo'], proto: EchoProto, family: IpFamily, timeoutSec: number): EchoProbe {
  const ip = family === 4 ? echo.ipv4 : echo.ipv6;
  if (ip === null) throw new Error('the lab has no IPv6 (start it with --ipv6)');
  const t = String(timeoutSec);
  switch (proto) {
    case 'http':
      return { argv: ['curl', '-sS', '-g', '--max-time', t, `http://${family === 6 ? `[${ip}]` : ip}:${echo.httpPort}/`] };
    case 'https':
      // By address: no SNI, so the echo presents its certificate for its own addresses, signed by the lab CA.
      if (echo.caFile === null) throw new Error('the lab has no HTTPS echo (a lab state from an older build)');
      return { argv: ['curl', '-sS', '-g', '--max-time', t, '--cacert', echo.caFile, `https://${family === 6 ? `[${ip}]` : ip}:${echo.httpsPort}/`] };
    case 'tcp':
      return { argv: ['nc', '-w', t, ip, String(echo.tcpPort)] };
    case 'udp':
      // -W 1: exit on the first datagram back instead of waiting out the idle timeout.
      return { argv: ['nc', '-u', '-W', '1', '-w', t, ip, String(echo.udpPort)], input: 'who am i\n' };
  }
}

export function parseEchoReply(stdout: string, proto: EchoProto): EchoReply {
  const line = stdout.trim().split('\n')[0] ?? '';
  let reply: Partial<EchoReply>;
  try {
    reply = JSON.parse(line) as Partial<EchoReply>;
  } catch {
    throw new Error(`echo ${proto}: not a JSON line: ${JSON.stringify(stdout.slice(0, 200))}`);
  }
  if (typeof reply.clientIP !== 'string' || typeof reply.clientPort !== 'number' || reply.proto !== proto) {
    throw new Error(`echo ${proto}: unexpected reply ${line}`);
  }
  return reply as EchoReply;
}
