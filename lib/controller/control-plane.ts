import { randomBytes } from 'node:crypto';
import type { KubeConfig } from '../kube/kubeconfig.js';
import type { AgentConfig } from '../planner/config.js';
import { KubeClient } from '../kube/rest-client.js';
import { ClusterStore } from '../cluster/store.js';
import { ClusterWatch } from '../cluster/cluster-watch.js';
import type { LeaderElector } from '../kube/leader-election.js';
import { EventRecorder } from '../kube/events.js';
import { keepParentInterfacePublished } from '../cluster/parent-interface.js';
import type { InformerTiming } from '../kube/informer.js';
import type { Reconciler } from '../kube/reconciler.js';
import { silentLogger, type Logger } from '../kube/logger.js';
import { Controller } from './controller.js';
import { controllerElection, type LeaseOptions } from './election.js';

export interface ControlPlaneOptions {
  readonly kubeConfig: KubeConfig;
  readonly nodeName: string;
  /** Namespace of the Lease (the agent's own, see agentNamespace()). */
  readonly namespace: string;
  readonly config: AgentConfig;
  /** This node's parent NIC, published for the controller (see PARENT_INTERFACE_ANNOTATION). */
  readonly parentInterface?: string;
  /** Default: `<node>-<random>`, unique per process. */
  readonly identity?: string;
  /**
   * Whether this agent may become the controller at all (default true). The DaemonSet's agents do
   * not: the controller Deployment (startControllerProcess) holds the Lease there.
   */
  readonly elect?: boolean;
  readonly lease?: LeaseOptions;
  readonly informer?: Partial<InformerTiming>;
  readonly reconcile?: { readonly minIntervalMs?: number; readonly retryInitialMs?: number; readonly retryMaxMs?: number };
  readonly requestTimeoutMs?: number;
  readonly logger?: Logger;
}

/** The running Kubernetes side of an agent. */
export interface ControlPlane {
  readonly client: KubeClient;
  readonly store: ClusterStore;
  readonly watch: ClusterWatch;
  readonly elector?: LeaderElector;
  readonly controller: Controller;
  /** Steps down (releasing the Lease) and stops every informer. */
  stop(): Promise<void>;
}

/**
 * A node agent's side of the API server: kubeconfig → client → store → its narrow watch, and the
 * parent-interface annotation it publishes. With `elect` (a small or dev cluster without the
 * controller Deployment) it also takes part in the controller election: the Lease holder then
 * watches all Nodes, Namespaces and Pods and runs the controller, and both stop the moment the
 * Lease is lost. A node agent follows `store` with followSnapshots() to re-plan.
 */
export function startControlPlane(options: ControlPlaneOptions): ControlPlane {
  const logger = options.logger ?? silentLogger();
  const identity = options.identity ?? `${options.nodeName}-${randomBytes(4).toString('hex')}`;
  const client = new KubeClient(options.kubeConfig, { ...(options.requestTimeoutMs ? { timeoutMs: options.requestTimeoutMs } : {}), userAgent: `sluice/${identity}` });
  const store = new ClusterStore({ logger });
  const watch = new ClusterWatch({ client, store, nodeName: options.nodeName, logger, ...(options.informer ? { timing: options.informer } : {}) });
  const events = new EventRecorder(client, { instance: identity, logger });
  const controller = new Controller({
    client,
    store,
    isSynced: () => watch.isLeader && watch.synced,
    config: options.config,
    events,
    logger,
    mayLead: options.elect !== false,
    ...options.reconcile,
  });
  watch.onSynced(() => controller.trigger('synced'));
  const elector =
    options.elect === false
      ? undefined
      : controllerElection({
          client,
          namespace: options.namespace,
          identity,
          ...(options.lease ? { lease: options.lease } : {}),
          logger,
          controller,
          beforeLeading: () => watch.setLeader(true),
          afterLeading: () => watch.setLeader(false),
        });
  client.onAnsweringAgain(() => logger.info({ op: 'kube' }, 'the API server answers again: what failed on it retries now'));
  watch.start();
  elector?.start();
  let publisher: Reconciler | undefined;
  if (options.parentInterface) {
    publisher = keepParentInterfacePublished({ client, store, watch, nodeName: options.nodeName, nic: options.parentInterface, logger });
  }
  return {
    client,
    store,
    watch,
    ...(elector ? { elector } : {}),
    controller,
    async stop() {
      await publisher?.stop();
      await elector?.stop();
      await controller.stop();
      await watch.stop();
      client.close();
    },
  };
}
