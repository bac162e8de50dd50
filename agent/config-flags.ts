/**
 * The settings sluice's commands share (the nft table, the tunnel, marks, routing ranges, service
 * CIDRs), registered once: `sluice agent`, `sluice controller`, `sluice cleanup` and the offline
 * `sluice plan`, `explain` and `validate` take the same flag with the same default and the same
 * environment variable, and resolve it the same way (so `sluice plan` with an agent's flags gives
 * that agent's plan). The
 * manifests set the variables from one ConfigMap (`sluice-config`), so the controller and every
 * agent read one value.
 */
import { Option, type Command } from 'commander';
import { DEFAULT_CONFIG, resolveConfig, type AgentConfig } from '../lib/planner/config.js';
import { EgressError } from '../lib/errors.js';

type Writable<T> = { -readonly [K in keyof T]?: T[K] };
type Overrides = Writable<Omit<AgentConfig, 'vxlan'>> & { vxlan?: Writable<AgentConfig['vxlan']> };

interface ConfigFlag {
  /** Flag name without dashes; commander's option key is its camelCase. */
  readonly name: string;
  readonly arg: string;
  readonly description: string;
  readonly defaultText: string;
  /** Several values (repeated flag, or comma-separated in the variable). */
  readonly list?: boolean;
  readonly set: (o: Overrides, value: string & string[]) => void;
}

function integer(flag: string, text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isInteger(n)) throw new EgressError('EGW_ERR_CONFIG', `--${flag}: "${text}" is not an integer`);
  return n;
}

const vxlan = (o: Overrides) => (o.vxlan = { ...(o.vxlan ?? {}) });

/** Every shared setting; which command takes which is listed below. */
const FLAGS = {
  'nft-table': { arg: '<name>', description: 'the nft table (family inet) sluice owns', defaultText: DEFAULT_CONFIG.nftTable, set: (o, v) => (o.nftTable = v) },
  'vxlan-device': { arg: '<name>', description: 'the VXLAN device sluice owns', defaultText: DEFAULT_CONFIG.vxlan.device, set: (o, v) => (vxlan(o).device = v) },
  'vxlan-id': { arg: '<vni>', description: 'VXLAN id', defaultText: String(DEFAULT_CONFIG.vxlan.vni), set: (o, v) => (vxlan(o).vni = integer('vxlan-id', v)) },
  'vxlan-port': { arg: '<port>', description: 'VXLAN UDP port', defaultText: String(DEFAULT_CONFIG.vxlan.port), set: (o, v) => (vxlan(o).port = integer('vxlan-port', v)) },
  'vxlan-mtu': {
    arg: '<mtu>',
    description: 'tunnel MTU (0 = parent MTU minus overhead)',
    defaultText: String(DEFAULT_CONFIG.vxlan.mtu),
    set: (o, v) => (vxlan(o).mtu = integer('vxlan-mtu', v)),
  },
  'tunnel-cidr-v4': { arg: '<cidr>', description: 'tunnel addresses (IPv4), one per node', defaultText: DEFAULT_CONFIG.tunnelCidrV4, set: (o, v) => (o.tunnelCidrV4 = v) },
  'tunnel-cidr-v6': { arg: '<cidr>', description: 'tunnel addresses (IPv6), one per node', defaultText: DEFAULT_CONFIG.tunnelCidrV6, set: (o, v) => (o.tunnelCidrV6 = v) },
  'mark-mask': {
    arg: '<mask>',
    description: "packet-mark bits sluice may use, clear of kube-proxy's and the CNI's (see README)",
    defaultText: `0x${DEFAULT_CONFIG.markMask.toString(16)}`,
    set: (o, v) => (o.markMask = integer('mark-mask', v)),
  },
  'table-base': {
    arg: '<id>',
    description: 'first of the reserved routing tables',
    defaultText: String(DEFAULT_CONFIG.tableBase),
    set: (o, v) => (o.tableBase = integer('table-base', v)),
  },
  'rule-priority-base': {
    arg: '<prio>',
    description: 'first of the three reserved ip rule priorities',
    defaultText: String(DEFAULT_CONFIG.rulePriorityBase),
    set: (o, v) => (o.rulePriorityBase = integer('rule-priority-base', v)),
  },
  'firewall-dns-port': {
    arg: '<port>',
    description: "port of the node's DNS forwarder for firewalls' rules by name (0: off, rules by name match nothing)",
    defaultText: String(DEFAULT_CONFIG.firewallDnsPort),
    set: (o, v) => (o.firewallDnsPort = integer('firewall-dns-port', v)),
  },
  'firewall-log-group': {
    arg: '<group>',
    description: 'nfnetlink_log group that firewall denials are logged to and the agent reads (0-65535)',
    defaultText: String(DEFAULT_CONFIG.firewallLogGroup),
    set: (o, v) => (o.firewallLogGroup = integer('firewall-log-group', v)),
  },
  'firewall-log-rate': {
    arg: '<per-second>',
    description: 'firewall denials logged per second and rule (0: none)',
    defaultText: String(DEFAULT_CONFIG.firewallLogRate),
    set: (o, v) => (o.firewallLogRate = integer('firewall-log-rate', v)),
  },
  'service-cidr': {
    arg: '<cidr...>',
    description: 'service CIDRs, used when EgressClusterInfo lists none',
    defaultText: DEFAULT_CONFIG.serviceCidrs.join(','),
    list: true,
    set: (o, v) => (o.serviceCidrs = v),
  },
} satisfies Record<string, Omit<ConfigFlag, 'name'>>;

export type ConfigFlagName = keyof typeof FLAGS;

/** What each command reads. The controller needs what shapes tunnels, marks and cluster info. */
export const CONTROLLER_FLAGS: readonly ConfigFlagName[] = ['tunnel-cidr-v4', 'tunnel-cidr-v6', 'mark-mask', 'service-cidr'];
/** What names the state sluice owns on a node. */
export const OWNED_STATE_FLAGS: readonly ConfigFlagName[] = ['nft-table', 'vxlan-device', 'mark-mask', 'table-base', 'rule-priority-base'];
export const AGENT_FLAGS = Object.keys(FLAGS) as ConfigFlagName[];

/** `SLUICE_TUNNEL_CIDR_V4` for `tunnel-cidr-v4`. */
function envName(flag: ConfigFlagName): string {
  return `SLUICE_${flag.toUpperCase().replace(/-/g, '_')}`;
}

const camel = (flag: string) => flag.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());

/** Taken with --mark-mask: a mask over bits kube-proxy or a CNI uses by default is refused without it. */
const ALLOW_MARK_OVERLAP_ENV = 'SLUICE_ALLOW_MARK_OVERLAP';

/** Adds the named settings to a command, each with its environment variable. */
export function addConfigFlags(command: Command, names: readonly ConfigFlagName[]): Command {
  if (names.includes('mark-mask')) {
    command.addOption(new Option('--allow-mark-overlap', `take a --mark-mask that overlaps marks kube-proxy or a CNI uses by default (env: ${ALLOW_MARK_OVERLAP_ENV}=true)`));
  }
  for (const name of names) {
    const f: Omit<ConfigFlag, 'name'> = FLAGS[name];
    const option = new Option(`--${name} ${f.arg}`, `${f.description} (default: ${f.defaultText})`).env(envName(name));
    // No commander default: an unset flag keeps the config default, which is written once in lib/planner/config.ts.
    if (f.list)
      option.argParser((value: string, previous: string[] | undefined) => [
        ...(previous ?? []),
        ...value
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      ]);
    command.addOption(option);
  }
  return command;
}

/** The validated, frozen config from the flags a command received (EGW_ERR_CONFIG names the flag). */
export function configFromFlags(flags: Readonly<Record<string, unknown>>, names: readonly ConfigFlagName[], extra: Overrides = {}): AgentConfig {
  const overrides: Overrides = { ...extra };
  for (const name of names) {
    const value = flags[camel(name)];
    if (value === undefined) continue;
    FLAGS[name].set(overrides, value as string & string[]);
  }
  try {
    return resolveConfig(overrides, { allowMarkOverlap: allowMarkOverlap(flags) });
  } catch (err) {
    if (err instanceof EgressError && err.code === 'EGW_ERR_CONFIG') {
      // resolveConfig names the config field; say which flag that is.
      const field = /^([A-Za-z.]+):/.exec(err.message)?.[1];
      const flag = field ? FIELD_FLAGS[field] : undefined;
      if (flag) throw new EgressError('EGW_ERR_CONFIG', `--${flag}${err.message.slice(field!.length)}`, { cause: err });
    }
    throw err;
  }
}

/** The config of an agent with these flags: its own NIC is the default wherever the cluster has not said otherwise. */
export function agentConfigFromFlags(flags: Readonly<Record<string, unknown>>, parentInterface?: string): AgentConfig {
  return configFromFlags(flags, AGENT_FLAGS, parentInterface === undefined ? {} : { defaultInterface: parentInterface });
}

/** The flag, or the variable the ConfigMap sets: `true` or `false`, nothing else. */
function allowMarkOverlap(flags: Readonly<Record<string, unknown>>): boolean {
  if (flags.allowMarkOverlap === true) return true;
  const env = process.env[ALLOW_MARK_OVERLAP_ENV];
  if (env === undefined || env === '' || env === 'false') return false;
  if (env === 'true') return true;
  throw new EgressError('EGW_ERR_CONFIG', `${ALLOW_MARK_OVERLAP_ENV}: "${env}" must be true or false`);
}

const FIELD_FLAGS: Readonly<Record<string, ConfigFlagName>> = {
  nftTable: 'nft-table',
  'vxlan.device': 'vxlan-device',
  'vxlan.vni': 'vxlan-id',
  'vxlan.port': 'vxlan-port',
  'vxlan.mtu': 'vxlan-mtu',
  tunnelCidrV4: 'tunnel-cidr-v4',
  tunnelCidrV6: 'tunnel-cidr-v6',
  markMask: 'mark-mask',
  tableBase: 'table-base',
  rulePriorityBase: 'rule-priority-base',
  serviceCidrs: 'service-cidr',
  firewallDnsPort: 'firewall-dns-port',
  firewallLogGroup: 'firewall-log-group',
  firewallLogRate: 'firewall-log-rate',
};
