import type { Command } from 'commander';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { createLogger } from '../logger.js';
import { BUILD } from '../version.js';
import { addConfigFlags, configFromFlags, CONTROLLER_FLAGS } from '../config-flags.js';
import { addKubeFlags, leaseDurationMs, leaseTiming, type LeaseFlags } from '../lease-flags.js';
import { DEFAULT_METRICS_ADDRESS, parseListenAddress } from '../listen-address.js';

interface ControllerFlags extends LeaseFlags {
  metricsAddress: string;
  logLevel: string;
  [config: string]: unknown;
}

export function registerController(program: Command): void {
  const command = program
    .command('controller')
    .description('run the cluster-level controller (EIP assignment, status, endpoint slices, tunnels); replicas elect one holder with a Lease');
  addKubeFlags(command)
    .option('--metrics-address <host:port>', 'where /metrics, /healthz and /readyz are served (the Deployment: the pod IP)', DEFAULT_METRICS_ADDRESS)
    .option('--log-level <level>', 'pino log level', 'info');
  addConfigFlags(command, CONTROLLER_FLAGS).action(async (flags: ControllerFlags) => {
    const config = configFromFlags(flags, CONTROLLER_FLAGS);
    const metrics = parseListenAddress('metrics-address', flags.metricsAddress);
    const lease = leaseTiming(leaseDurationMs(flags));
    // Loaded here, not at the top: every other command starts without client-node.
    const [{ loadKubeConfig, agentNamespace }, { ControllerDaemon }] = await Promise.all([import('../../lib/kube/kubeconfig.js'), import('../controller/controller-daemon.js')]);
    // In a pod the hostname is the pod's name; the suffix keeps a restarted container distinct.
    const identity = `${process.env.POD_NAME ?? hostname()}-${randomBytes(3).toString('hex')}`;
    const log = createLogger({ level: flags.logLevel, base: { identity } });
    const daemon = new ControllerDaemon({
      kubeConfig: await loadKubeConfig(flags.kubeconfig ? { path: flags.kubeconfig } : {}),
      leaseNamespace: flags.leaseNamespace ?? agentNamespace(),
      lease,
      identity,
      config,
      metrics,
      build: BUILD,
      log,
    });
    log.info({ op: 'start', version: BUILD.version, commit: BUILD.commit, metrics: flags.metricsAddress }, 'controller starting');
    await daemon.start();
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        log.info({ op: 'stop', signal }, 'controller stopping (releasing the lease)');
        void daemon.stop().finally(resolve);
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    });
  });
}
