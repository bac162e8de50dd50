import { Option, type Command } from 'commander';
import { EgressError } from '../../lib/errors.js';
import { canonicalIp, isIp } from '../../lib/api/ip.js';
import { DEFAULT_STATE_DIR } from '../../lib/dataplane/sysctl-journal.js';
import { createLogger } from '../logger.js';
import { BUILD } from '../version.js';
import { AGENT_FLAGS, addConfigFlags, agentConfigFromFlags } from '../config-flags.js';
import { addKubeFlags, leaseDurationMs, leaseTiming, type LeaseFlags } from '../lease-flags.js';
import { addProbeFlags, probeSettings, type ProbeFlags } from '../probe-flags.js';
import { DEFAULT_METRICS_ADDRESS, DEFAULT_STATUS_ADDRESS, parseListenAddress, parseStatusAddress } from '../listen-address.js';

interface AgentFlags extends LeaseFlags, ProbeFlags {
  node?: string;
  metricsAddress: string;
  statusAddress: string;
  sysctlRoot: string;
  stateDir: string;
  interface?: string;
  controller?: boolean;
  resyncInterval: string;
  logLevel: string;
  firewallDnsUpstream?: string;
  firewallDnsGrace: string;
  [config: string]: unknown;
}

/** Default period of the resync that re-applies an unchanged plan to repair drift in the kernel. */
const DEFAULT_RESYNC_SECONDS = 60;

function resyncMs(text: string): number {
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || (seconds !== 0 && (seconds < 1 || seconds > 86_400))) {
    throw new EgressError('EGW_ERR_CONFIG', `--resync-interval: "${text}" must be 0 (off) or 1-86400 seconds`);
  }
  return Math.round(seconds * 1000);
}

function firewallDnsFlags(port: number, upstream: string | undefined, grace: string): { upstream: string; graceSeconds: number } | undefined {
  if (port === 0) return undefined;
  if (!upstream || !isIp(upstream))
    throw new EgressError('EGW_ERR_CONFIG', `--firewall-dns-upstream: "${upstream ?? ''}" must be the cluster DNS Service address when --firewall-dns-port is set`);
  const graceSeconds = grace.trim() === '' ? 5 : Number(grace);
  if (!Number.isInteger(graceSeconds) || graceSeconds < 0 || graceSeconds > 3600)
    throw new EgressError('EGW_ERR_CONFIG', `--firewall-dns-grace: "${grace}" must be 0-3600 seconds`);
  return { upstream: canonicalIp(upstream), graceSeconds };
}

export function registerAgent(program: Command): void {
  const command = program
    .command('agent')
    .description("run the node agent: follow the cluster and program this node's kernel")
    .option('--node <name>', "this node's name (default: $NODE_NAME)");
  addKubeFlags(command)
    .option('--metrics-address <host:port>', 'where /metrics, /healthz and /readyz are served (the DaemonSet: the node IP)', DEFAULT_METRICS_ADDRESS)
    .option('--status-address <host:port>', 'where /status and /plan are served; loopback only', DEFAULT_STATUS_ADDRESS)
    .option('--sysctl-root <path>', "where /proc/sys is writable (a container: the host's /proc/sys/net mounted under PATH/net)", '/proc/sys')
    .option('--state-dir <path>', 'a host directory that outlives the agent: the sysctl journal `sluice cleanup` restores from', DEFAULT_STATE_DIR)
    .option('--interface <nic>', "the NIC for EIPs and VXLAN (default: the one holding the node's InternalIP)")
    .option('--resync-interval <seconds>', 're-apply the current plan this often to repair drift in the kernel (0: never)', String(DEFAULT_RESYNC_SECONDS))
    .option(
      '--controller',
      "also run the controller in this agent when it wins the Lease (small or dev clusters without the controller Deployment; the agent then needs the controller's RBAC)",
    )
    .addOption(new Option('--no-controller', 'never run the controller here (the default)').hideHelp())
    .addOption(
      new Option(
        '--firewall-dns-upstream <ip>',
        'the cluster DNS Service address pods query; with --firewall-dns-port, the forwarder asks it in their place and only queries to it are steered (env: SLUICE_FIREWALL_DNS_UPSTREAM)',
      ).env('SLUICE_FIREWALL_DNS_UPSTREAM'),
    )
    .addOption(
      new Option('--firewall-dns-grace <seconds>', 'added to the TTL of every learned address (env: SLUICE_FIREWALL_DNS_GRACE)').env('SLUICE_FIREWALL_DNS_GRACE').default('5'),
    )
    .option('--log-level <level>', 'pino log level', 'info');
  addProbeFlags(command);
  addConfigFlags(command, AGENT_FLAGS).action(async (flags: AgentFlags) => {
    const nodeName = flags.node ?? process.env.NODE_NAME;
    if (!nodeName) throw new EgressError('EGW_ERR_CONFIG', '--node is required (or set NODE_NAME)');
    const flagConfig = agentConfigFromFlags(flags);
    const metrics = parseListenAddress('metrics-address', flags.metricsAddress);
    const status = parseStatusAddress(flags.statusAddress);
    const lease = leaseTiming(leaseDurationMs(flags));
    const resyncIntervalMs = resyncMs(flags.resyncInterval);
    const probes = probeSettings(flags);
    const firewallDns = firewallDnsFlags(flagConfig.firewallDnsPort, flags.firewallDnsUpstream, flags.firewallDnsGrace);
    // Loaded here, not at the top: every other command starts without client-node and the drivers.
    const [{ loadKubeConfig, agentNamespace }, { NodeAgent }, { detectParentInterface }, { readNodeAddresses }] = await Promise.all([
      import('../../lib/kube/kubeconfig.js'),
      import('../node-agent/node-agent.js'),
      import('../node-agent/parent-nic.js'),
      import('../node-agent/node-addresses.js'),
    ]);
    const log = createLogger({ level: flags.logLevel, base: { node: nodeName } });
    const kubeConfig = await loadKubeConfig(flags.kubeconfig ? { path: flags.kubeconfig } : {});
    const parentInterface = flags.interface ?? (await detectParentInterface(await readNodeAddresses(kubeConfig, nodeName, 10_000), flagConfig.defaultInterface));
    const config = agentConfigFromFlags(flags, parentInterface);
    const agent = new NodeAgent({
      nodeName,
      kubeConfig,
      leaseNamespace: flags.leaseNamespace ?? agentNamespace(),
      config,
      parentInterface,
      metrics,
      status,
      sysctlRoot: flags.sysctlRoot,
      stateDir: flags.stateDir,
      elect: flags.controller === true,
      lease,
      resyncIntervalMs,
      build: BUILD,
      log,
      ...(firewallDns ? { firewallDns } : {}),
      ...(probes ? { probes } : {}),
    });
    log.info(
      {
        op: 'start',
        version: BUILD.version,
        commit: BUILD.commit,
        iface: parentInterface,
        metrics: flags.metricsAddress,
        status: flags.statusAddress,
        controller: flags.controller === true,
        resyncSeconds: resyncIntervalMs / 1000,
      },
      'agent starting',
    );
    await agent.start();
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        log.info({ op: 'stop', signal }, 'agent stopping: egress IPs go to their successor first, the rest of the kernel state is kept');
        void agent.stop().finally(resolve);
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    });
  });
}
