/** The prober's options, their defaults (written once, here) and their checks. */
import { isDnsSubdomain } from '../api/names.js';
import { canonicalIp, isIp, ipFamily } from '../api/ip.js';
import { EgressError } from '../errors.js';
import type { ProbeLogger, ProbeMetricsSink } from './probe-observers.js';
import type { OpenProbeSocket } from './probe-socket.js';

export const PROBE_DEFAULTS = Object.freeze({
  /** The UDP port every node's prober listens on (and sends from). */
  port: 7473,
  intervalMs: 100,
  /** Probe intervals without a packet before a peer is no longer heard. */
  misses: 3,
  holdDownMs: 5000,
  /** fenceMs defaults to interval × misses × this. */
  fenceWindows: 3,
  /**
   * The probes run in a worker thread, so they are answered while the agent's event loop is busy;
   * but "healthy" in an answer means the agent runs and its last apply succeeded, which a worker
   * cannot vouch for when the agent has stopped running. After this long without a check-in from
   * the agent (one per interval), answers say unhealthy. Longer than any normal apply (the largest
   * measured freeze: 830 ms, 50 policies at once), far shorter than the API server's 40 s.
   */
  unhealthyAfterMs: 2000,
});

export interface ProberOptions {
  /** This node's name: the sender name in every packet. */
  readonly node: string;
  /** This node's underlay addresses to bind, at most one per family. */
  readonly addresses: readonly string[];
  readonly port?: number;
  /** One probe to every peer per interval. */
  readonly intervalMs?: number;
  /** A peer is heard while it sent a valid packet within intervalMs × misses. */
  readonly misses?: number;
  /** A peer judged dead is alive again only after being reachable this long without a gap. */
  readonly holdDownMs?: number;
  /** Isolated: no peer heard directly for this long (default intervalMs × misses × 3). */
  readonly fenceMs?: number;
  /** The agent's event loop silent this long: answers say unhealthy (see PROBE_DEFAULTS). */
  readonly unhealthyAfterMs?: number;
  readonly logger?: ProbeLogger;
  readonly metrics?: ProbeMetricsSink;
}

/** The probing run in the calling thread (tests; the worker thread). */
export interface ProbeEngineOptions extends ProberOptions {
  /** Replaces the UDP socket (tests wrap it to drop packets). */
  readonly openSocket?: OpenProbeSocket;
}

export interface ProberConfig {
  readonly node: string;
  /** Canonical, one per family. */
  readonly addresses: readonly string[];
  readonly port: number;
  readonly intervalMs: number;
  readonly misses: number;
  readonly windowMs: number;
  readonly holdDownMs: number;
  readonly fenceMs: number;
  readonly unhealthyAfterMs: number;
}

const MAX_MS = 3_600_000;

/** Checks the options once; throws EGW_ERR_PROBE_CONFIG or EGW_ERR_PROBE_INPUT naming the option. */
export function proberConfig(options: ProberOptions): ProberConfig {
  const bad = (msg: string): never => {
    throw new EgressError('EGW_ERR_PROBE_CONFIG', msg);
  };
  const int = (name: string, value: number, min: number, max: number) => {
    if (!Number.isInteger(value) || value < min || value > max) bad(`${name} must be an integer in ${min}..${max}, got ${value}`);
    return value;
  };
  if (!isDnsSubdomain(options.node)) throw new EgressError('EGW_ERR_PROBE_INPUT', `node "${options.node}" is not a DNS-1123 subdomain`);
  const notIp = options.addresses.find((a) => !isIp(a));
  if (notIp !== undefined) throw new EgressError('EGW_ERR_PROBE_INPUT', `address "${notIp}" is not an IP address`);
  const addresses = options.addresses.map(canonicalIp);
  if (addresses.length === 0 || addresses.length > 2 || new Set(addresses.map(ipFamily)).size !== addresses.length) {
    bad(`addresses must be one IPv4 and/or one IPv6 address, got ${JSON.stringify(options.addresses)}`);
  }
  const port = int('port', options.port ?? PROBE_DEFAULTS.port, 1, 65535);
  const intervalMs = int('intervalMs', options.intervalMs ?? PROBE_DEFAULTS.intervalMs, 5, 60_000);
  const misses = int('misses', options.misses ?? PROBE_DEFAULTS.misses, 1, 100);
  const windowMs = intervalMs * misses;
  const holdDownMs = int('holdDownMs', options.holdDownMs ?? PROBE_DEFAULTS.holdDownMs, 0, MAX_MS);
  const fenceMs = int('fenceMs', options.fenceMs ?? windowMs * PROBE_DEFAULTS.fenceWindows, windowMs, MAX_MS);
  const unhealthyAfterMs = int('unhealthyAfterMs', options.unhealthyAfterMs ?? PROBE_DEFAULTS.unhealthyAfterMs, 2 * intervalMs, MAX_MS);
  return Object.freeze({ node: options.node, addresses: Object.freeze(addresses), port, intervalMs, misses, windowMs, holdDownMs, fenceMs, unhealthyAfterMs });
}
