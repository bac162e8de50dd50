/** The messages between the agent's thread (prober.ts) and the probing thread (probe-worker.ts). */
import type { LivenessView, SelfReport } from './liveness-types.js';
import type { KnownNode } from './probe-input.js';
import type { ProbeMetricsSink } from './probe-observers.js';
import type { ProberStats } from './probe-engine.js';

/** To the worker. Any message is also a check-in: the agent's thread runs. */
export type ToWorker =
  | { readonly type: 'peers'; readonly peers: readonly KnownNode[] }
  | { readonly type: 'self'; readonly self: SelfReport }
  | { readonly type: 'check-in' }
  | { readonly type: 'close' };

/** One call of a ProbeMetricsSink verb, made in the worker, applied in the agent's thread (prom-client lives there). */
export type MetricCall = { [K in keyof ProbeMetricsSink]: [K, ...Parameters<ProbeMetricsSink[K]>] }[keyof ProbeMetricsSink];

export interface LogEntry {
  readonly level: 'debug' | 'info' | 'warn';
  readonly obj: Record<string, unknown>;
  readonly msg: string;
}

/** From the worker: what happened since the last batch (at most one batch per turn of its event loop). */
export type FromWorker =
  | { readonly type: 'ready'; readonly stats: ProberStats }
  | {
      readonly type: 'batch';
      readonly logs: readonly LogEntry[];
      readonly metrics: readonly MetricCall[];
      /** The latest view; `changed` when the engine reported a change (listeners are called). */
      readonly view: LivenessView | undefined;
      readonly changed: boolean;
      readonly stats: ProberStats;
    }
  | { readonly type: 'closed' };
