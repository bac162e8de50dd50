import type { KubeConfig } from '../kube/kubeconfig.js';
import type { AgentConfig } from '../planner/config.js';
import { KubeClient } from '../kube/rest-client.js';
import { ClusterStore } from '../cluster/store.js';
import { ClusterWatch } from '../cluster/cluster-watch.js';
import type { LeaderElector } from '../kube/leader-election.js';
import { EventRecorder } from '../kube/events.js';
import type { InformerTiming } from '../kube/informer.js';
import { silentLogger, type Logger } from '../kube/logger.js';
import { Controller } from './controller.js';
import { controllerElection, type LeaseOptions } from './election.js';

export interface ControllerProcessOptions {
  readonly kubeConfig: KubeConfig;
  /** Namespace of the Lease (the Deployment's own). */
  readonly namespace: string;
  readonly config: AgentConfig;
  /** Unique per replica (the pod name plus a random suffix); it is the Lease's holderIdentity. */
  readonly identity: string;
  readonly lease?: LeaseOptions;
  readonly informer?: Partial<InformerTiming>;
  readonly reconcile?: { readonly minIntervalMs?: number; readonly retryInitialMs?: number; readonly retryMaxMs?: number };
  readonly requestTimeoutMs?: number;
  readonly logger?: Logger;
}

/** A running `sluice controller` replica. */
export interface ControllerProcess {
  readonly identity: string;
  readonly client: KubeClient;
  readonly store: ClusterStore;
  readonly watch: ClusterWatch;
  readonly elector: LeaderElector;
  readonly controller: Controller;
  /** Steps down (releasing the Lease so the other replica takes over at once) and stops watching. */
  stop(): Promise<void>;
}

/**
 * The cluster-level controller on its own (the `sluice controller` Deployment): no node, no
 * kernel. Every replica watches the whole cluster from the start, so a standby takes over with a
 * warm cache; only the replica holding the Lease runs the controller and writes.
 */
export function startControllerProcess(options: ControllerProcessOptions): ControllerProcess {
  const logger = options.logger ?? silentLogger();
  const { identity } = options;
  const client = new KubeClient(options.kubeConfig, { ...(options.requestTimeoutMs ? { timeoutMs: options.requestTimeoutMs } : {}), userAgent: `sluice-controller/${identity}` });
  const store = new ClusterStore({ logger });
  const watch = new ClusterWatch({ client, store, logger, ...(options.informer ? { timing: options.informer } : {}) });
  const events = new EventRecorder(client, { instance: identity, logger });
  const controller = new Controller({ client, store, isSynced: () => watch.synced, config: options.config, events, logger, ...options.reconcile });
  watch.onSynced(() => controller.trigger('synced'));
  const elector = controllerElection({
    client,
    namespace: options.namespace,
    identity,
    ...(options.lease ? { lease: options.lease } : {}),
    logger,
    controller,
  });
  client.onAnsweringAgain(() => logger.info({ op: 'kube' }, 'the API server answers again: what failed on it retries now'));
  watch.start();
  elector.start();
  return {
    identity,
    client,
    store,
    watch,
    elector,
    controller,
    async stop() {
      await elector.stop();
      await controller.stop();
      await watch.stop();
      client.close();
    },
  };
}
