import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXT_HOST, echoAddresses, lanHost, upstreamDns } from './addressing.js';
import type { DaemonSpec } from './daemons.js';
import { ensureCa } from './echo-tls.js';
import type { LabState } from './state.js';

/** The external host's services: the echo, and the external DNS server in the same process. */
export const ECHO_ROLE = 'echo';
export const DNS_PORT = 53;

/** What the external DNS server answers (`e2e/lab dns NAME set|del` edit it). */
export const zoneFile = (s: Pick<LabState, 'stateDir'>) => join(s.stateDir, 'dns', 'zone.json');
/** The lab CA and the echo's certificates. */
export const tlsDir = (s: Pick<LabState, 'stateDir'>) => join(s.stateDir, 'tls');

/** The external host's addresses: its LAN address, the echo addresses and the DNS server's. */
export function externalHostAddrs(s: LabState): string[] {
  const hosts = [lanHost(EXT_HOST), ...echoAddresses(), upstreamDns()];
  return [...hosts.map((h) => h.v4), ...(s.ipv6 ? hosts.map((h) => h.v6) : [])];
}

/** Makes the lab CA ahead of the echo (while the network is built). */
export async function prepareEchoTls(s: LabState): Promise<void> {
  if (s.echo.httpsPort !== undefined) await ensureCa(tlsDir(s), externalHostAddrs(s));
}

/** The echo service as a lab daemon in the external host's namespace. */
export function echoDaemon(s: LabState): DaemonSpec {
  const script = fileURLToPath(new URL('./echo-server.js', import.meta.url));
  const web =
    s.echo.httpsPort === undefined
      ? []
      : [`--http-default=${s.echo.httpDefaultPort ?? ''}`, `--https=${s.echo.httpsPort}`, `--tls-dir=${tlsDir(s)}`, `--tls-ips=${externalHostAddrs(s).join(',')}`];
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
      ...(s.echo.httpsPort === undefined
        ? []
        : [`--dns-listen=${(s.ipv6 ? [upstreamDns().v4, upstreamDns().v6] : [upstreamDns().v4]).join(',')}`, `--dns-zone=${zoneFile(s)}`, `--dns-port=${DNS_PORT}`]),
    ],
    readyLogLine: '"ready":true',
    readyTimeoutMs: 10_000,
  };
}
