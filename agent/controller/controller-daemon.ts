/**
 * `sluice controller` as it runs in the controller Deployment: the cluster-level controller, its
 * Lease, and /metrics, /healthz, /readyz. No kernel access (module boundaries check it), so it
 * runs as non-root with no capability at all.
 */
import type { Logger } from 'pino';
import type { KubeConfig } from '../../lib/kube/kubeconfig.js';
import type { AgentConfig } from '../../lib/planner/config.js';
import { startControllerProcess, type ControllerProcess } from '../../lib/controller/controller-process.js';
import { Metrics } from '../../lib/metrics/metrics.js';
import { startMetricsServer, type RunningServer } from '../../lib/metrics/server.js';
import type { ListenAddress } from '../listen-address.js';
import type { BuildInfo } from '../version.js';

export interface ControllerDaemonOptions {
  readonly kubeConfig: KubeConfig;
  readonly leaseNamespace: string;
  readonly lease: { readonly durationMs: number; readonly renewIntervalMs: number; readonly renewDeadlineMs: number };
  readonly identity: string;
  readonly config: AgentConfig;
  readonly metrics: ListenAddress;
  readonly build: BuildInfo;
  readonly log: Logger;
}

export class ControllerDaemon {
  readonly metrics: Metrics;
  #process?: ControllerProcess;
  #server?: RunningServer;
  #unsubscribe: (() => void)[] = [];

  constructor(private readonly options: ControllerDaemonOptions) {
    this.metrics = new Metrics({ processMetrics: true, build: options.build });
  }

  async start(): Promise<void> {
    const { options } = this;
    const log = options.log;
    const proc = startControllerProcess({
      kubeConfig: options.kubeConfig,
      namespace: options.leaseNamespace,
      config: options.config,
      identity: options.identity,
      lease: options.lease,
      logger: log.child({ component: 'kube' }),
    });
    this.#process = proc;
    this.metrics.readAtScrape({
      apiRequests: () => proc.client.counts,
      informerRestarts: () => proc.watch.informerNames.map((informer) => ({ informer, restarts: proc.watch.informer(informer)?.restarts ?? 0 })),
      controllerWrites: () => proc.controller.writes,
      statusTakeovers: () => proc.controller.takeovers,
    });
    // Registered before the first await: neither the first sync nor the first election can come sooner.
    let synced = false;
    this.#unsubscribe.push(
      proc.watch.onSynced(() => {
        if (synced || !proc.watch.synced) return;
        synced = true;
        log.info({ op: 'ready', identity: proc.identity }, 'controller ready');
      }),
      proc.elector.onLeadershipChange((leading) => {
        this.metrics.leadership(leading);
        log.info({ op: 'leader', leading }, leading ? 'now the controller (holds the lease)' : 'no longer the controller');
      }),
    );
    // Ready once the caches are synced, on the holder and the standby alike: a standby is ready to take over.
    this.#server = await startMetricsServer(this.metrics, { healthy: () => true, ready: () => proc.watch.synced }, options.metrics.host, options.metrics.port);
  }

  /** Hands the Lease over (released, so the other replica need not wait for it to expire). */
  async stop(): Promise<void> {
    for (const off of this.#unsubscribe.splice(0)) off();
    await this.#process?.stop();
    await this.#server?.close();
  }
}
