import { LeaderElector } from '../kube/leader-election.js';
import type { KubeClient } from '../kube/rest-client.js';
import type { Logger } from '../kube/logger.js';
import type { Controller } from './controller.js';

/** The controller Lease's name and timings; unset fields take LeaderElector's defaults. */
export interface LeaseOptions {
  readonly name?: string;
  readonly durationMs?: number;
  readonly renewIntervalMs?: number;
  readonly renewDeadlineMs?: number;
}

export interface ElectionOptions {
  readonly client: KubeClient;
  /** Namespace of the Lease. */
  readonly namespace: string;
  /** Unique per process. */
  readonly identity: string;
  readonly lease?: LeaseOptions;
  readonly logger: Logger;
  readonly controller: Controller;
  /** Runs before the controller starts (e.g. widen the watch) and after it stopped. */
  readonly beforeLeading?: () => Promise<void>;
  readonly afterLeading?: () => Promise<void>;
}

/**
 * Runs `controller` exactly while this process holds the controller Lease: it starts with the
 * Lease's signal, which aborts its in-flight writes the moment the Lease is lost, and every
 * replica that does not hold the Lease sends no write at all. Not started: call start().
 */
export function controllerElection(options: ElectionOptions): LeaderElector {
  const { controller, lease } = options;
  return new LeaderElector({
    client: options.client,
    namespace: options.namespace,
    identity: options.identity,
    ...(lease?.name ? { name: lease.name } : {}),
    ...(lease?.durationMs ? { leaseDurationMs: lease.durationMs } : {}),
    ...(lease?.renewIntervalMs ? { renewIntervalMs: lease.renewIntervalMs } : {}),
    ...(lease?.renewDeadlineMs ? { renewDeadlineMs: lease.renewDeadlineMs } : {}),
    logger: options.logger,
    onStartedLeading: async (signal) => {
      await options.beforeLeading?.();
      if (!signal.aborted) controller.start(signal);
    },
    onStoppedLeading: async () => {
      await controller.stop();
      await options.afterLeading?.();
    },
  });
}
