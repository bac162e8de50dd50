import { fileURLToPath } from 'node:url';
import { EXT_HOST, echoAddresses, lanHost, upstreamDns } from './addressing.js';
import type { DaemonSpec } from './daemons.js';
import { ensureCa, serverCertificate } from './echo-tls.js';
import { tlsDir } from './dns/lab-dns.js';
import type { LabState } from './state.js';

export const ECHO_ROLE = 'echo';

/** The external host's addresses: its LAN address, the echo addresses and the DNS server's. */
export function externalHostAddrs(s: LabState): string[] {
  const hosts = [lanHost(EXT_HOST), ...echoAddresses(), upstreamDns()];
  return [...hosts.map((h) => h.v4), ...(s.ipv6 ? hosts.map((h) => h.v6) : [])];
}

/** Makes the CA and the certificate for the echo's addresses ahead of the echo (e.g. while the network is built). */
export async function prepareEchoTls(s: LabState): Promise<void> {
  if (s.echo.httpsPort === undefined) return;
  await ensureCa(tlsDir(s));
  await serverCertificate(tlsDir(s), [], externalHostAddrs(s));
}

/** The echo service as a lab daemon in the external host's namespace. */
export function echoDaemon(s: LabState): DaemonSpec {
  const script = fileURLToPath(new URL('./echo-server.js', import.meta.url));
  const web = s.echo.httpsPort === undefined ? [] : [`--http-default=${s.echo.httpDefaultPort ?? ''}`, `--https=${s.echo.httpsPort}`, `--tls-dir=${tlsDir(s)}`, `--tls-ips=${externalHostAddrs(s).join(',')}`];
  return {
    role: ECHO_ROLE,
    netns: s.netns.ext,
    argv: [
      process.execPath,
      script,
      `--http=${s.echo.httpPort}`,
      `--tcp=${s.echo.tcpPort}`,
      `--udp=${s.echo.udpPort}`,
      `--stream=${s.echo.streamPort}`,
      ...web,
      `--host6=${s.ipv6 ? '::' : ''}`,
    ],
    readyLogLine: '"ready":true',
    readyTimeoutMs: 10_000,
  };
}
