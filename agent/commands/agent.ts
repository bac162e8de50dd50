import type { Command } from 'commander';
import { resolveConfig, DEFAULT_CONFIG } from '../../lib/planner/config.js';
import { EgressError } from '../../lib/errors.js';
import { createLogger } from '../logger.js';
import { BUILD } from '../version.js';
import { DEFAULT_METRICS_ADDRESS, DEFAULT_STATUS_ADDRESS, parseListenAddress, parseStatusAddress } from '../listen-address.js';

interface AgentFlags {
  node?: string;
  kubeconfig?: string;
  leaseNamespace?: string;
  leaseDuration: string;
  metricsAddress: string;
  statusAddress: string;
  sysctlRoot: string;
  interface?: string;
  controller: boolean;
  tunnelCidrV4: string;
  tunnelCidrV6: string;
  vxlanId: string;
  vxlanPort: string;
  vxlanMtu: string;
  markMask: string;
  allowMarkOverlap: boolean;
  tableBase: string;
  rulePriorityBase: string;
  serviceCidr: string[];
  logLevel: string;
}

function integer(flag: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n)) throw new EgressError('EGW_ERR_CONFIG', `--${flag}: "${text}" is not an integer`);
  return n;
}

export function registerAgent(program: Command): void {
  program
    .command('agent')
    .description('run the node agent: follow the cluster, program this node\'s kernel, and (when elected) run the controller')
    .option('--node <name>', 'this node\'s name (default: $NODE_NAME)')
    .option('--kubeconfig <path>', 'kubeconfig (default: $KUBECONFIG, ~/.kube/config, or in-cluster)')
    .option('--lease-namespace <ns>', 'namespace of the controller Lease (default: the pod\'s namespace)')
    .option('--lease-duration <seconds>', 'controller Lease duration', '15')
    .option('--metrics-address <host:port>', 'where /metrics, /healthz and /readyz are served (the DaemonSet: the node IP)', DEFAULT_METRICS_ADDRESS)
    .option('--status-address <host:port>', 'where /status and /plan are served; loopback only', DEFAULT_STATUS_ADDRESS)
    .option('--sysctl-root <path>', 'where /proc/sys is writable (a container: the host\'s /proc/sys/net mounted under PATH/net)', '/proc/sys')
    .option('--interface <nic>', 'the NIC for EIPs and VXLAN (default: the one holding the node\'s InternalIP)')
    .option('--no-controller', 'never take the controller Lease on this node')
    .option('--tunnel-cidr-v4 <cidr>', 'tunnel addresses (IPv4)', DEFAULT_CONFIG.tunnelCidrV4)
    .option('--tunnel-cidr-v6 <cidr>', 'tunnel addresses (IPv6)', DEFAULT_CONFIG.tunnelCidrV6)
    .option('--vxlan-id <vni>', 'VXLAN id', String(DEFAULT_CONFIG.vxlan.vni))
    .option('--vxlan-port <port>', 'VXLAN UDP port', String(DEFAULT_CONFIG.vxlan.port))
    .option('--vxlan-mtu <mtu>', 'tunnel MTU (0 = parent MTU minus overhead)', String(DEFAULT_CONFIG.vxlan.mtu))
    .option('--mark-mask <mask>', 'packet-mark bits sluice may use (clear of kube-proxy and the CNI: see README)', `0x${DEFAULT_CONFIG.markMask.toString(16)}`)
    .option('--allow-mark-overlap', 'take a --mark-mask that overlaps marks kube-proxy or a CNI uses by default', false)
    .option('--table-base <id>', 'first routing table id', String(DEFAULT_CONFIG.tableBase))
    .option('--rule-priority-base <prio>', 'first ip rule priority', String(DEFAULT_CONFIG.rulePriorityBase))
    .option('--service-cidr <cidr...>', 'service CIDRs when EgressClusterInfo lists none', [...DEFAULT_CONFIG.serviceCidrs])
    .option('--log-level <level>', 'pino log level', 'info')
    .action(async (flags: AgentFlags) => {
      const nodeName = flags.node ?? process.env.NODE_NAME;
      if (!nodeName) throw new EgressError('EGW_ERR_CONFIG', '--node is required (or set NODE_NAME)');
      const config = resolveConfig({
        tunnelCidrV4: flags.tunnelCidrV4,
        tunnelCidrV6: flags.tunnelCidrV6,
        vxlan: { vni: integer('vxlan-id', flags.vxlanId), port: integer('vxlan-port', flags.vxlanPort), mtu: integer('vxlan-mtu', flags.vxlanMtu) },
        markMask: integer('mark-mask', flags.markMask),
        tableBase: integer('table-base', flags.tableBase),
        rulePriorityBase: integer('rule-priority-base', flags.rulePriorityBase),
        serviceCidrs: flags.serviceCidr,
        ...(flags.interface ? { defaultInterface: flags.interface } : {}),
      }, { allowMarkOverlap: flags.allowMarkOverlap });
      const metrics = parseListenAddress('metrics-address', flags.metricsAddress);
      const status = parseStatusAddress(flags.statusAddress);
      const leaseSeconds = integer('lease-duration', flags.leaseDuration);
      if (leaseSeconds < 2 || leaseSeconds > 300) throw new EgressError('EGW_ERR_CONFIG', '--lease-duration must be 2-300 seconds');
      // Loaded here, not at the top: every other command starts without client-node and the drivers.
      const [{ loadKubeConfig, agentNamespace }, { NodeAgent }, { detectParentInterface }, { readNodeAddresses }] = await Promise.all([
        import('../../lib/kube/kubeconfig.js'),
        import('../node-agent/node-agent.js'),
        import('../node-agent/parent-nic.js'),
        import('../node-agent/node-addresses.js'),
      ]);
      const log = createLogger({ level: flags.logLevel, base: { node: nodeName } });
      const kubeConfig = loadKubeConfig(flags.kubeconfig ? { path: flags.kubeconfig } : {});
      const parentInterface = flags.interface ?? (await detectParentInterface(await readNodeAddresses(kubeConfig, nodeName, 10_000), config.defaultInterface));
      const agent = new NodeAgent({
        nodeName,
        kubeConfig,
        leaseNamespace: flags.leaseNamespace ?? agentNamespace(),
        config,
        parentInterface,
        metrics,
        status,
        sysctlRoot: flags.sysctlRoot,
        elect: flags.controller,
        leaseDurationMs: leaseSeconds * 1000,
        build: BUILD,
        log,
      });
      log.info({ op: 'start', version: BUILD.version, commit: BUILD.commit, iface: parentInterface, metrics: flags.metricsAddress, status: flags.statusAddress }, 'agent starting');
      await agent.start();
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          log.info({ op: 'stop', signal }, 'agent stopping (kernel state is kept)');
          agent.stop().finally(resolve);
        };
        process.once('SIGTERM', () => stop('SIGTERM'));
        process.once('SIGINT', () => stop('SIGINT'));
      });
    });
}
