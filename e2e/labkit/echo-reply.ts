/** What the lab's echo service answers, one JSON line per request, connection or datagram. */
export type EchoProto = 'http' | 'tcp' | 'udp';

export interface EchoReply {
  clientIP: string;
  clientPort: number;
  proto: EchoProto;
}

export function echoLine(clientIP: string | undefined, clientPort: number | undefined, proto: EchoProto): string {
  // Dual-stack sockets are not used, but a mapped address must never leak into an answer.
  const ip = (clientIP ?? '').replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
  const reply: EchoReply = { clientIP: ip, clientPort: clientPort ?? 0, proto };
  return JSON.stringify(reply) + '\n';
}
