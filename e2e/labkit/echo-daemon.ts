import { fileURLToPath } from 'node:url';
import type { DaemonSpec } from './daemons.js';
import type { LabState } from './state.js';

export const ECHO_ROLE = 'echo';

/** The echo service as a lab daemon in the external host's namespace. */
export function echoDaemon(s: LabState): DaemonSpec {
  const script = fileURLToPath(new URL('./echo-server.js', import.meta.url));
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
      `--host6=${s.ipv6 ? '::' : ''}`,
    ],
    readyLogLine: '"ready":true',
    readyTimeoutMs: 10_000,
  };
}
