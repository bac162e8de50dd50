import type { AgentConfig } from '../planner/config.js';
import type { Snapshot } from '../planner/snapshot.js';
import type { ClusterStore } from './store.js';
import type { ClusterWatch } from './cluster-watch.js';
import { Reconciler } from '../kube/reconciler.js';
import type { Logger } from '../kube/logger.js';

export interface SnapshotFeedOptions {
  readonly store: ClusterStore;
  readonly watch: ClusterWatch;
  readonly config: AgentConfig;
  /** Re-plans and applies; throwing schedules a retry with backoff (1 s → 60 s). */
  readonly run: (snapshot: Snapshot, reasons: ReadonlySet<string>, signal: AbortSignal) => Promise<void>;
  readonly minIntervalMs?: number;
  readonly retryInitialMs?: number;
  readonly retryMaxMs?: number;
  readonly logger?: Logger;
}

/**
 * How a node agent follows the cluster: `run` gets a fresh Snapshot after every store change that
 * can change a plan (coalesced, never two at once), and never before every informer has synced.
 * Stop it with the returned Reconciler's stop() (which also unsubscribes).
 */
export function followSnapshots(options: SnapshotFeedOptions): Reconciler {
  const { store, watch, config } = options;
  const off: (() => void)[] = [];
  const reconciler = new Reconciler({
    name: 'node-plan',
    onStop: () => off.forEach((f) => f()),
    run: async ({ reasons, signal }) => {
      if (!watch.synced) return;
      await options.run(store.snapshot(config), reasons, signal);
    },
    ...(options.minIntervalMs !== undefined ? { minIntervalMs: options.minIntervalMs } : {}),
    ...(options.retryInitialMs !== undefined ? { retryInitialMs: options.retryInitialMs } : {}),
    ...(options.retryMaxMs !== undefined ? { retryMaxMs: options.retryMaxMs } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  // conditions and nodes' applied reports change no plan (they are the controller's)
  off.push(store.subscribe((change) => change.type !== 'report' && reconciler.trigger(`${change.kind} ${change.type}`)));
  off.push(watch.onSynced(() => reconciler.trigger('synced')));
  reconciler.trigger('start');
  return reconciler;
}
