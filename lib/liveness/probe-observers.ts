/** Where the prober's logs and metrics go; the agent passes its pino logger and its Metrics. */
import type { ErrorCode } from '../errors.js';

/** Why a datagram from the network was dropped before it refreshed any peer. */
export type RejectReason = 'unknown_source' | 'name_mismatch' | 'malformed';

/** The prober's own error codes. */
export type ProbeErrorCode = Extract<ErrorCode, `EGW_ERR_PROBE_${string}`>;

/** pino-compatible subset. Stable keys: op, peer, address, code, err. */
export interface ProbeLogger {
  debug(obj: Record<string, unknown>, msg: string): void;
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
}

/**
 * The prober's metric verbs (lib/metrics/metrics.ts implements them). Peer labels are only ever
 * names of the current peer set; probePeerGone removes a peer's series when it leaves.
 */
export interface ProbeMetricsSink {
  /** A probe round went out and the previous one to this peer had no answer. */
  probeMissed(peer: string): void;
  probePeerAlive(peer: string, alive: boolean): void;
  probeRtt(seconds: number): void;
  probeRejected(reason: RejectReason): void;
  probeError(code: ProbeErrorCode): void;
  probePeerGone(peer: string): void;
}

export const SILENT_LOGGER: ProbeLogger = Object.freeze({ debug() {}, info() {}, warn() {} });
