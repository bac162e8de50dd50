/** What the lab's echo service answers, one JSON line per request, connection or datagram. */
export type EchoProto = 'http' | 'https' | 'tcp' | 'udp';

export interface EchoReply {
  clientIP: string;
  clientPort: number;
  proto: EchoProto;
  /** HTTP and HTTPS: the address the client connected to (one of `info.echo.addresses`, …). */
  serverIP?: string;
  /** HTTPS: the name the client sent in its TLS hello (SNI), null without one. */
  sni?: string | null;
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

/** HTTP(S) answers also say which address was asked, and over TLS for which name. */
export function webLine(clientIP: string | undefined, clientPort: number | undefined, serverIP: string | undefined, tls: { sni: string | null } | undefined): string {
  const reply: EchoReply = {
    clientIP: unmapped(clientIP),
    clientPort: clientPort ?? 0,
    proto: tls ? 'https' : 'http',
    serverIP: unmapped(serverIP),
    ...(tls ? { sni: tls.sni } : {}),
  };
  return JSON.stringify(reply) + '\n';
}

export function streamLine(clientIP: string | undefined, clientPort: number | undefined, line: string): string {
  const reply: StreamReply = { clientIP: unmapped(clientIP), clientPort: clientPort ?? 0, proto: 'stream', line };
  return JSON.stringify(reply) + '\n';
}
