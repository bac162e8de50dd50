/** What the lab's echo service answers, one JSON line per request, connection or datagram. */
export type EchoProto = 'http' | 'tcp' | 'udp';

export interface EchoReply {
  clientIP: string;
  clientPort: number;
  proto: EchoProto;
}

/** The stream port's answer to each line a client sends over one long-lived TCP connection. */
export interface StreamReply {
  clientIP: string;
  clientPort: number;
  proto: 'stream';
  line: string;
}

// Dual-stack sockets are not used, but a mapped address must never leak into an answer.
const unmapped = (clientIP: string | undefined) => (clientIP ?? '').replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');

export function echoLine(clientIP: string | undefined, clientPort: number | undefined, proto: EchoProto): string {
  const reply: EchoReply = { clientIP: unmapped(clientIP), clientPort: clientPort ?? 0, proto };
  return JSON.stringify(reply) + '\n';
}

export function streamLine(clientIP: string | undefined, clientPort: number | undefined, line: string): string {
  const reply: StreamReply = { clientIP: unmapped(clientIP), clientPort: clientPort ?? 0, proto: 'stream', line };
  return JSON.stringify(reply) + '\n';
}
