import { randomBytes } from 'node:crypto';
import type * as k8s from '@kubernetes/client-node';
import type { AgentConfig } from '../planner/config.js';
import { KubeClient } from '../kube/rest-client.js';
import { ClusterStore } from '../kube/store.js';
import { ClusterWatch } from '../kube/cluster-watch.js';
import { LeaderElector } from '../kube/leader-election.js';
import { EventRecorder } from '../kube/events.js';
import { keepParentInterfacePublished } from '../kube/parent-interface.js';
import type { InformerTiming } from '../kube/informer.js';
import type { Reconciler } from '../kube/reconciler.js';
import { silentLogger, type Logger } from '../kube/logger.js';
import { Controller } from './controller.js';

export interface ControlPlaneOptions {
  readonly kubeConfig: k8s.KubeConfig;
  readonly nodeName: string;
  /** Namespace of the Lease (the agent's own, see agentNamespace()). */
  readonly namespace: string;
  readonly config: AgentConfig;
  /** This node's parent NIC, published for the controller (see PARENT_INTERFACE_ANNOTATION). */
  readonly parentInterface?: string;
  /** Default: `<node>-<random>`, unique per process. */
  readonly identity?: string;
  /** Whether this agent may become the controller at all (default true). */
  readonly elect?: boolean;
  readonly lease?: { readonly name?: string; readonly durationMs?: number; readonly renewIntervalMs?: number; readonly renewDeadlineMs?: number };
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
 * Wires kubeconfig → client → store → informers → leader election → controller. Every agent
 * gets the store and the narrow watch; the Lease holder additionally watches all Nodes,
 * Namespaces and Pods and runs the controller, and both stop the moment the Lease is lost.
 * A node agent follows `store` with followSnapshots() to re-plan.
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
    ...options.reconcile,
  });
  watch.onSynced(() => controller.trigger('synced'));
  let elector: LeaderElector | undefined;
  if (options.elect !== false) {
    elector = new LeaderElector({
      kubeConfig: options.kubeConfig,
      namespace: options.namespace,
      identity,
      ...(options.lease?.name ? { name: options.lease.name } : {}),
      ...(options.lease?.durationMs ? { leaseDurationMs: options.lease.durationMs } : {}),
      ...(options.lease?.renewIntervalMs ? { renewIntervalMs: options.lease.renewIntervalMs } : {}),
      ...(options.lease?.renewDeadlineMs ? { renewDeadlineMs: options.lease.renewDeadlineMs } : {}),
      logger,
      onStartedLeading: async (signal) => {
        await watch.setLeader(true);
        if (!signal.aborted) controller.start(signal);
      },
      onStoppedLeading: async () => {
        await controller.stop();
        await watch.setLeader(false);
      },
    });
  }
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
