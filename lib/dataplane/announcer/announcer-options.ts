import { DataplaneError } from './errors.js';
import type { SkipReason, LinkInfo } from './link-info.js';
import type { OpenFrameSocket } from './packet-socket.js';

export type AttemptOutcome =
  { readonly kind: 'sent'; readonly bytes: number } | { readonly kind: 'skipped'; readonly reason: SkipReason } | { readonly kind: 'failed'; readonly error: DataplaneError };

/** One send attempt for one (ip, interface); handed to `onAttempt` for metrics and logs. */
export interface AttemptEvent {
  readonly ip: string;
  readonly ifname: string;
  readonly family: 4 | 6;
  readonly outcome: AttemptOutcome;
}

export interface AnnouncerOptions {
  /** Offsets in ms, from announce(), of the takeover burst. Ascending, starting at 0. */
  readonly burstMs?: readonly number[];
  /** Period in ms of the refresh that follows the burst. */
  readonly refreshMs?: number;
  /** Where links are read from; a fake tree in tests. */
  readonly sysClassNet?: string;
  /** Replaces the sysfs reader (tests). */
  readonly readLink?: (ifname: string) => Promise<LinkInfo | undefined>;
  /** Replaces the native packet socket (tests). Without it the addon is loaded at construction. */
  readonly openSocket?: OpenFrameSocket;
  /** Called after every attempt. Exceptions from it are ignored. */
  readonly onAttempt?: (event: AttemptEvent) => void;
}

export interface Timing {
  readonly burstMs: readonly number[];
  readonly refreshMs: number;
}

// A burst (0, 50, 200 ms) that survives a lost frame or two; refresh re-teaches caches that expired or missed it.
export const DEFAULT_TIMING: Timing = Object.freeze({ burstMs: Object.freeze([0, 50, 200]), refreshMs: 10_000 });

const MAX_DELAY_MS = 2 ** 31 - 1; // setTimeout's limit

export function validateTiming(options: AnnouncerOptions): Timing {
  const burstMs = options.burstMs ?? DEFAULT_TIMING.burstMs;
  const refreshMs = options.refreshMs ?? DEFAULT_TIMING.refreshMs;
  const bad = (msg: string): never => {
    throw new DataplaneError('EGW_ERR_ANNOUNCE_CONFIG', msg);
  };
  if (burstMs.length === 0 || burstMs[0] !== 0) bad(`burstMs must start at 0, got ${JSON.stringify(burstMs)}`);
  burstMs.forEach((ms, i) => {
    if (!Number.isInteger(ms) || ms > MAX_DELAY_MS || (i > 0 && ms <= burstMs[i - 1]!)) {
      bad(`burstMs must be strictly ascending integers, got ${JSON.stringify(burstMs)}`);
    }
  });
  if (!Number.isInteger(refreshMs) || refreshMs < 1 || refreshMs > MAX_DELAY_MS) {
    bad(`refreshMs must be an integer in 1..${MAX_DELAY_MS}, got ${refreshMs}`);
  }
  return Object.freeze({ burstMs: Object.freeze([...burstMs]), refreshMs });
}
