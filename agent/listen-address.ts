import ipaddr from 'ipaddr.js';
import { EgressError } from '../lib/errors.js';

/** /metrics, /healthz, /readyz: the DaemonSet puts them on the node IP for Prometheus and the probes. */
export const DEFAULT_METRICS_ADDRESS = '127.0.0.1:9465';
/** /status and /plan (pod IPs, EIPs, policy names): loopback only, read by `sluice status` and `sluice diff`. */
export const DEFAULT_STATUS_ADDRESS = '127.0.0.1:9466';
export const DEFAULT_STATUS_URL = `http://${DEFAULT_STATUS_ADDRESS}`;

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** `HOST:PORT`, `[V6]:PORT` or `V6:PORT` (the port follows the last colon). */
export function parseListenAddress(flag: string, text: string): ListenAddress {
  const m = /^(.*):(\d{1,5})$/.exec(text);
  const port = Number(m?.[2]);
  if (!m || port > 65535) throw new EgressError('EGW_ERR_CONFIG', `--${flag}: "${text}" must be HOST:PORT`);
  const host = m[1]!.replace(/^\[(.*)\]$/, '$1');
  if (host !== '' && host !== 'localhost' && !ipaddr.isValid(host)) throw new EgressError('EGW_ERR_CONFIG', `--${flag}: "${host}" is not an IP address`);
  return { host: host || '0.0.0.0', port };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || (ipaddr.isValid(host) && ipaddr.process(host).range() === 'loopback');
}

/** The status listener answers only on this host: anything that can reach a node IP must not read it. */
export function parseStatusAddress(text: string): ListenAddress {
  const address = parseListenAddress('status-address', text);
  if (!isLoopback(address.host)) {
    throw new EgressError(
      'EGW_ERR_CONFIG',
      `--status-address: "${address.host}" is not a loopback address; /status and /plan name pods, EIPs and policies and are served on loopback only`,
    );
  }
  return address;
}
