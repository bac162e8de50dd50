import type { Logger } from 'pino';
import { Prober } from '../../lib/liveness/prober.js';
import type { ProbeMetricsSink } from '../../lib/liveness/probe-observers.js';
import type { ProbeSettings } from '../probe-flags.js';

/** Starts this node's prober on its own node addresses (one per family), as the flags say. */
export function openProber(settings: ProbeSettings, node: string, addresses: readonly string[], log: Logger, metrics: ProbeMetricsSink): Promise<Prober> {
  return Prober.start({
    node,
    addresses,
    port: settings.port,
    intervalMs: settings.intervalMs,
    misses: settings.misses,
    holdDownMs: settings.holdDownMs,
    logger: log,
    metrics,
  });
}
