import { EgressError, errorMessage } from '../errors.js';
import { deepFreeze } from '../api/freeze.js';
import { parseCidr } from '../api/ip.js';
import { INTERFACE_NAME_RULE, isInterfaceName } from '../api/names.js';
import { interfaceName } from './nft/values.js';
import { hex, markOverlaps } from './known-marks.js';

/** Agent settings that shape the plan. Validated once by `resolveConfig`, then frozen. */
export interface AgentConfig {
  /** nftables table (family inet) owned by sluice; nothing else is touched. */
  readonly nftTable: string;
  readonly vxlan: {
    readonly device: string;
    readonly vni: number;
    readonly port: number;
    /** 0 = parent NIC MTU minus encapsulation overhead, resolved by the link driver. */
    readonly mtu: number;
  };
  readonly tunnelCidrV4: string;
  readonly tunnelCidrV6: string;
  /**
   * Contiguous bit mask of the packet mark sluice may use; kube-proxy and the CNI must not use
   * these bits (known-marks.ts). Marks live from sluice's prerouting chain to postrouting only.
   */
  readonly markMask: number;
  /** First routing table id; sluice uses tableBase .. tableBase + maxMarkIndex. */
  readonly tableBase: number;
  /** First ip rule priority; sluice uses rulePriorityBase .. rulePriorityBase + 2. */
  readonly rulePriorityBase: number;
  /** NIC name used when a node's EgressTunnel does not report its parent interface. */
  readonly defaultInterface: string;
  /** Service CIDRs used when EgressClusterInfo status does not list any. */
  readonly serviceCidrs: readonly string[];
  readonly mssClamp: boolean;
  /** Port of the DNS forwarder of firewalls' rules by name on every node; 0 = off (rules by name match nothing). */
  readonly firewallDnsPort: number;
  /** The nfnetlink_log group firewall denials are logged to; the agent reads it (firewall-denial-log). */
  readonly firewallLogGroup: number;
  /** Denials logged per second and rule (twice that at once); 0 = denials are not logged. */
  readonly firewallLogRate: number;
}

export const DEFAULT_CONFIG: AgentConfig = deepFreeze({
  nftTable: 'sluice',
  vxlan: { device: 'egress.vxlan', vni: 100, port: 4789, mtu: 0 },
  tunnelCidrV4: '172.31.0.0/16',
  tunnelCidrV6: 'fd00:5c:e::/112',
  // Clear of kube-proxy, Calico, Cilium's magic nibble, AWS VPC CNI and Antrea's high bits: see known-marks.ts.
  markMask: 0x7f,
  tableBase: 3000,
  rulePriorityBase: 9000,
  defaultInterface: 'eth0',
  serviceCidrs: ['10.96.0.0/12'],
  mssClamp: true,
  firewallDnsPort: 0,
  // Away from the groups 0-2 that ulogd's and most examples use.
  firewallLogGroup: 7040,
  firewallLogRate: 5,
});

function fail(flag: string, message: string): never {
  throw new EgressError('EGW_ERR_CONFIG', `${flag}: ${message}`);
}

export interface ResolveOptions {
  /** Take a `markMask` that overlaps marks kube-proxy or a CNI uses by default (the user knows their cluster). */
  readonly allowMarkOverlap?: boolean;
}

/**
 * Merges overrides into the defaults and checks every value; throws EGW_ERR_CONFIG naming the
 * option, or EGW_ERR_MARK_OVERLAP for a mark mask that others' marks overlap.
 */
export function resolveConfig(overrides: Partial<Omit<AgentConfig, 'vxlan'>> & { vxlan?: Partial<AgentConfig['vxlan']> } = {}, options: ResolveOptions = {}): AgentConfig {
  const config: AgentConfig = {
    ...DEFAULT_CONFIG,
    ...overrides,
    vxlan: { ...DEFAULT_CONFIG.vxlan, ...(overrides.vxlan ?? {}) },
  };
  if (!/^[A-Za-z][A-Za-z0-9_]{0,30}$/.test(config.nftTable)) fail('nftTable', `"${config.nftTable}" is not a valid nft table name`);
  if (!isInterfaceName(config.vxlan.device)) fail('vxlan.device', `must be ${INTERFACE_NAME_RULE}`);
  try {
    interfaceName(config.defaultInterface);
  } catch (err) {
    fail('defaultInterface', errorMessage(err));
  }
  if (!Number.isInteger(config.vxlan.vni) || config.vxlan.vni < 1 || config.vxlan.vni > 16777215) fail('vxlan.vni', 'must be 1-16777215');
  if (!Number.isInteger(config.vxlan.port) || config.vxlan.port < 1 || config.vxlan.port > 65535) fail('vxlan.port', 'must be 1-65535');
  if (!Number.isInteger(config.vxlan.mtu) || (config.vxlan.mtu !== 0 && (config.vxlan.mtu < 1280 || config.vxlan.mtu > 9000))) fail('vxlan.mtu', 'must be 0 (auto) or 1280-9000');
  for (const [flag, text, family] of [
    ['tunnelCidrV4', config.tunnelCidrV4, 4],
    ['tunnelCidrV6', config.tunnelCidrV6, 6],
  ] as const) {
    try {
      if (parseCidr(text).family !== family) fail(flag, `must be an IPv${family} CIDR`);
    } catch (err) {
      if (err instanceof EgressError && err.code === 'EGW_ERR_CONFIG') throw err;
      fail(flag, `"${text}" is not a CIDR`);
    }
  }
  const mask = config.markMask;
  if (!Number.isInteger(mask) || mask <= 0 || mask > 0xffffffff) fail('markMask', 'must be a 32-bit mask');
  const shifted = mask / 2 ** markShift(mask);
  if (((shifted + 1) & shifted) !== 0 || shifted < 3) fail('markMask', 'must be one contiguous run of at least 2 bits');
  const overlaps = markOverlaps(mask);
  if (overlaps.length > 0 && !options.allowMarkOverlap) {
    const whose = overlaps.map((m) => `${m.owner} ${hex(m.bits)} (${m.use})`).join('; ');
    throw new EgressError(
      'EGW_ERR_MARK_OVERLAP',
      `markMask ${hex(mask)} overlaps packet marks that others use by default: ${whose}. Choose bits outside them (the default is ${hex(DEFAULT_CONFIG.markMask)}), ` +
        'or, if your cluster does not use these bits, allow the overlap (--allow-mark-overlap)',
    );
  }
  if (!Number.isInteger(config.tableBase) || config.tableBase < 1 || config.tableBase + maxMarkIndex(config) > 0xfffffff0) fail('tableBase', 'out of range');
  if ([253, 254, 255].some((t) => t >= config.tableBase && t <= config.tableBase + maxMarkIndex(config))) fail('tableBase', 'range must not include the kernel tables 253-255');
  if (!Number.isInteger(config.firewallDnsPort) || config.firewallDnsPort < 0 || config.firewallDnsPort > 65535) fail('firewallDnsPort', 'must be 0 (off) or a port 1-65535');
  if (!Number.isInteger(config.firewallLogGroup) || config.firewallLogGroup < 0 || config.firewallLogGroup > 65535)
    fail('firewallLogGroup', 'must be an nfnetlink_log group 0-65535');
  if (!Number.isInteger(config.firewallLogRate) || config.firewallLogRate < 0 || config.firewallLogRate > 10000) fail('firewallLogRate', 'must be 0 (off) to 10000 per second');
  if (!Number.isInteger(config.rulePriorityBase) || config.rulePriorityBase < 1 || config.rulePriorityBase > 32000)
    fail('rulePriorityBase', 'must be 1-32000 (ahead of the main table rule)');
  for (const c of config.serviceCidrs) {
    try {
      parseCidr(c);
    } catch {
      fail('serviceCidrs', `"${c}" is not a CIDR`);
    }
  }
  return deepFreeze(config);
}

function markShift(mask: number): number {
  let shift = 0;
  while (shift < 32 && Math.floor(mask / 2 ** shift) % 2 === 0) shift++;
  return shift;
}

/** Largest index a gateway node can have; the all-ones value is reserved for "SNAT here". */
export function maxMarkIndex(config: Pick<AgentConfig, 'markMask'>): number {
  return config.markMask / 2 ** markShift(config.markMask) - 1;
}

export function markValue(config: Pick<AgentConfig, 'markMask'>, index: number): number {
  return index * 2 ** markShift(config.markMask);
}

/** The index of a gateway mark value (inverse of markValue). */
export function markIndexOf(config: Pick<AgentConfig, 'markMask'>, value: number): number {
  return value / 2 ** markShift(config.markMask);
}

/** The routing tables and ip rule priorities a config reserves for sluice (and nothing else may use). */
export function ownedRanges(config: Pick<AgentConfig, 'tableBase' | 'rulePriorityBase' | 'markMask'>): {
  readonly tables: { readonly min: number; readonly max: number };
  readonly rulePriorities: { readonly min: number; readonly max: number };
} {
  return {
    tables: { min: config.tableBase, max: config.tableBase + maxMarkIndex(config) },
    rulePriorities: { min: config.rulePriorityBase, max: config.rulePriorityBase + 2 },
  };
}

/** The mark meaning "this node SNATs the packet" (all mask bits set). */
export function hereMark(config: Pick<AgentConfig, 'markMask'>): number {
  return config.markMask;
}
