import type { Gateway } from '../api/model.js';
import type { ProblemReason } from '../api/problems.js';
import { formatInterval, formatIp, IPV4_MAPPED_RANGE, parseCidr, parseIpSpec, type Family, type IpInterval } from '../api/ip.js';
import { ipValue } from './fast-ip.js';
import { IntervalIndex } from './interval-index.js';
import { compareGateways } from './order.js';

const FAMILIES: readonly Family[] = [4, 6];

/**
 * Addresses that are never an egress IP whatever the pool says: "this network", loopback,
 * link-local, multicast, reserved and limited broadcast (IPv4); unspecified, loopback,
 * IPv4-mapped, link-local and multicast (IPv6). A gateway would otherwise put them on its NIC.
 */
const NOT_UNICAST = new IntervalIndex([
  ...['0.0.0.0/8', '127.0.0.0/8', '169.254.0.0/16', '224.0.0.0/4', '240.0.0.0/4', '::/128', '::1/128', 'fe80::/10', 'ff00::/8'].map((c) => parseCidr(c)),
  IPV4_MAPPED_RANGE,
]);

/** Why an address may not be handed out, as a stable reason and a sentence. */
export interface AddressVerdict {
  readonly reason: ProblemReason;
  readonly message: string;
}

/** One family of a gateway's pools, ready for allocation. */
interface FamilyPool {
  readonly family: Family;
  readonly index: IntervalIndex;
  /** Network (and IPv4 broadcast) addresses of CIDR entries: reachable, but not safe as a host address. */
  readonly edges: IntervalIndex;
  /** The pool without reserved and cluster addresses, in address order: where round-robin looks. */
  readonly allocatable: readonly IpInterval[];
  readonly defaultEip?: string;
}

export interface PoolExclusion {
  readonly reason: 'ReservedAddress' | 'ClusterAddress' | 'EIPConflict';
  readonly text: string;
  /** Says more than the reason does (who answers for it). */
  readonly detail?: string;
}

/** A pool address another host on the LAN answered for, when `node` probed before taking it. */
export interface LanConflict {
  readonly mac: string;
  readonly node: string;
}

export interface GatewayPools {
  readonly gateway: Gateway;
  /** Set when the gateway is not used at all: its pool entries overlap each other or an older gateway's pools. */
  readonly rejected?: AddressVerdict;
  readonly families: Readonly<Record<Family, FamilyPool>>;
  /** Parts of the pools that are never handed out (besides CIDR network/broadcast addresses). */
  readonly excluded: readonly PoolExclusion[];
  /** Node addresses and pod CIDRs of the cluster. */
  readonly cluster: IntervalIndex;
  /** Addresses other LAN hosts answer for (any gateway's). */
  readonly conflicts: ReadonlyMap<string, LanConflict>;
}

function entriesOf(gateway: Gateway, family: Family): { iv: IpInterval; text: string | undefined }[] {
  const ivs = family === 4 ? gateway.poolV4 : gateway.poolV6;
  const texts = family === 4 ? gateway.poolTextV4 : gateway.poolTextV6;
  const aligned = texts.length === ivs.length;
  return ivs.map((iv, i) => ({ iv, text: aligned ? texts[i] : undefined }));
}

/**
 * The network address of an IPv4 CIDR up to /30 and its broadcast address, and the Subnet-Router
 * anycast (network) address of an IPv6 CIDR up to /126. A pool CIDR is often the LAN's own
 * subnet; on it the broadcast address reaches every host and the network address is the old
 * broadcast that many hosts and firewalls still drop or answer. /31, /32, /127, /128 and ranges
 * name their addresses exactly (RFC 3021, RFC 6164): nothing is held back there.
 */
function edgesOf(iv: IpInterval, text: string | undefined): IpInterval[] {
  const isCidr = text !== undefined ? text.includes('/') : false;
  const size = iv.end - iv.start + 1n;
  if (!isCidr) return [];
  if (iv.family === 4)
    return size >= 4n
      ? [
          { ...iv, end: iv.start },
          { ...iv, start: iv.end },
        ]
      : [];
  return size >= 4n ? [{ ...iv, end: iv.start }] : [];
}

function subtract(ivs: readonly IpInterval[], holes: IntervalIndex): IpInterval[] {
  const out: IpInterval[] = [];
  for (const iv of ivs) {
    let start = iv.start;
    for (const hole of holes.overlapOf(iv)) {
      if (hole.start > start) out.push({ family: iv.family, start, end: hole.start - 1n });
      start = hole.end + 1n;
    }
    if (start <= iv.end) out.push({ family: iv.family, start, end: iv.end });
  }
  return out;
}

function familyPool(gateway: Gateway, family: Family, cluster: IntervalIndex, conflicts: ReadonlyMap<string, LanConflict>): { pool: FamilyPool; excluded: PoolExclusion[] } {
  const entries = entriesOf(gateway, family);
  const edges = new IntervalIndex(entries.flatMap((e) => edgesOf(e.iv, e.text)));
  const index = new IntervalIndex(entries.map((e) => e.iv));
  const staticHoles = new IntervalIndex([...entries.flatMap((e) => edgesOf(e.iv, e.text)), ...entries.flatMap((e) => NOT_UNICAST.overlapOf(e.iv))]);
  const named = family === 4 ? gateway.defaultEipV4 : gateway.defaultEipV6;
  // The default EIP follows the spec alone (never the cluster's addresses), so that a node joining
  // with an address inside the pool makes the default EIP unusable rather than silently moving it.
  const firstUsable = entries.map((e) => subtract([e.iv], staticHoles)[0]).find((iv) => iv !== undefined);
  const defaultEip = named ?? (firstUsable ? formatIp(firstUsable.start, family) : undefined);
  const sorted = [...entries.map((e) => e.iv)].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const taken = [...conflicts].map(([ip, c]) => ({ iv: parseIpSpec(ip), ip, c })).filter((x) => x.iv.family === family && index.has(family, x.iv.start));
  const allocatable = subtract(subtract(subtract(sorted, staticHoles), cluster), new IntervalIndex(taken.map((x) => x.iv)));
  const excluded: PoolExclusion[] = [
    ...entries.flatMap((e) => NOT_UNICAST.overlapOf(e.iv)).map((iv) => ({ reason: 'ReservedAddress' as const, text: formatInterval(iv) })),
    ...entries.flatMap((e) => cluster.overlapOf(e.iv)).map((iv) => ({ reason: 'ClusterAddress' as const, text: formatInterval(iv) })),
    ...taken.map((x) => ({ reason: 'EIPConflict' as const, text: x.ip, detail: `another LAN host answers for it: ${conflictText(x.c)}` })),
  ];
  return { pool: { family, index, edges, allocatable, ...(defaultEip ? { defaultEip } : {}) }, excluded };
}

/** Accepted intervals of all gateways so far, sorted and disjoint: finds the owner of an overlap in O(log n). */
class PoolClaims {
  private readonly items: { iv: IpInterval; owner: string }[] = [];

  private lastStartingBy(iv: IpInterval): number {
    let lo = 0;
    let hi = this.items.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const x = this.items[mid]!.iv;
      if (x.family < iv.family || (x.family === iv.family && x.start <= iv.end)) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  ownerOfOverlap(iv: IpInterval): string | undefined {
    const x = this.items[this.lastStartingBy(iv)];
    return x && x.iv.family === iv.family && x.iv.end >= iv.start ? x.owner : undefined;
  }

  add(iv: IpInterval, owner: string): void {
    this.items.splice(this.lastStartingBy(iv) + 1, 0, { iv, owner });
  }
}

/**
 * Two entries of one gateway's pools that share an address, if any. Like the check between
 * gateways, this is no CRD rule (the CEL IP library cannot order addresses, and a pairwise rule
 * costs the square of the list on every write), so the parser leaves both to this module and the
 * gateway's condition reports them.
 */
function selfOverlap(entries: readonly { iv: IpInterval; text: string | undefined }[]): [IpInterval, IpInterval] | undefined {
  const sorted = [...entries].sort((a, b) => (a.iv.start < b.iv.start ? -1 : a.iv.start > b.iv.start ? 1 : 0));
  let widest: IpInterval | undefined;
  for (const { iv } of sorted) {
    if (widest && iv.start <= widest.end) return [widest, iv];
    if (!widest || iv.end > widest.end) widest = iv;
  }
  return undefined;
}

function overlapVerdict(gateway: Gateway, claims: PoolClaims): AddressVerdict | undefined {
  for (const family of FAMILIES) {
    const pair = selfOverlap(entriesOf(gateway, family));
    if (pair) return { reason: 'PoolOverlap', message: `pools ${formatInterval(pair[0])} and ${formatInterval(pair[1])} of gateway "${gateway.name}" overlap` };
  }
  for (const iv of FAMILIES.flatMap((f) => entriesOf(gateway, f).map((e) => e.iv))) {
    const owner = claims.ownerOfOverlap(iv);
    if (owner !== undefined)
      return { reason: 'PoolOverlap', message: `pool ${formatInterval(iv)} of gateway "${gateway.name}" overlaps the pools of the older gateway "${owner}"` };
  }
  return undefined;
}

/**
 * Every gateway's pools, checked against each other and the cluster: a gateway whose pool
 * entries overlap each other, or an older gateway's pools, is rejected (older first, as with
 * addresses); addresses of nodes and pod CIDRs, non-unicast addresses and CIDR
 * network/broadcast addresses are never handed out. O(n log n) in the number of pool entries.
 */
export function assessPools(
  gateways: readonly Gateway[],
  clusterAddresses: readonly IpInterval[],
  conflicts: ReadonlyMap<string, LanConflict> = new Map(),
): Map<string, GatewayPools> {
  const cluster = new IntervalIndex(clusterAddresses);
  const claims = new PoolClaims();
  const out = new Map<string, GatewayPools>();
  for (const gateway of [...gateways].sort(compareGateways)) {
    const rejected = overlapVerdict(gateway, claims);
    if (!rejected) for (const f of FAMILIES) for (const { iv } of entriesOf(gateway, f)) claims.add(iv, gateway.name);
    const v4 = familyPool(gateway, 4, cluster, conflicts);
    const v6 = familyPool(gateway, 6, cluster, conflicts);
    out.set(gateway.name, {
      gateway,
      ...(rejected ? { rejected } : {}),
      families: { 4: v4.pool, 6: v6.pool },
      excluded: [...v4.excluded, ...v6.excluded],
      cluster,
      conflicts,
    });
  }
  return out;
}

/** Why `ip` may not be an egress IP of this gateway (undefined: it may). */
export function addressVerdict(pools: GatewayPools, ip: string): AddressVerdict | undefined {
  const { family, value } = ipValue(ip);
  const pool = pools.families[family];
  const name = pools.gateway.name;
  if (!pool.index.has(family, value)) return { reason: 'IPNotInPool', message: `${ip} is not inside any pool of gateway "${name}"` };
  if (NOT_UNICAST.has(family, value)) return { reason: 'ReservedAddress', message: `${ip} is not a unicast address` };
  if (pool.edges.has(family, value)) {
    return {
      reason: 'ReservedAddress',
      message: `${ip} is the ${family === 4 && (value & 1n) === 1n ? 'broadcast' : 'network'} address of a CIDR in the pools of gateway "${name}"`,
    };
  }
  if (pools.cluster.has(family, value)) return { reason: 'ClusterAddress', message: `${ip} is a node address or inside a pod CIDR` };
  const conflict = pools.conflicts.get(ip);
  if (conflict) return { reason: 'EIPConflict', message: `another host on the LAN answers for ${ip} (${conflictText(conflict)})` };
  return undefined;
}

function conflictText(c: LanConflict): string {
  return `MAC ${c.mac}, found by node "${c.node}"`;
}

/** Text of what a gateway's pools hold back, for its status. */
export function exclusionText(excluded: readonly PoolExclusion[]): string {
  const what = (r: PoolExclusion['reason']) => (r === 'ClusterAddress' ? 'node or pod address' : r === 'EIPConflict' ? 'another LAN host answers for it' : 'not unicast');
  return excluded.map((e) => `${e.text} (${e.detail ?? what(e.reason)})`).join(', ');
}
