import type { Gateway, Policy } from '../api/model.js';
import type { ProblemReason } from '../api/problems.js';
import type { Family, IpInterval } from '../api/ip.js';
import { DEFAULT_GATEWAY_LABEL } from '../api/group.js';
import { compareForAllocation } from './order.js';
import { addressVerdict, assessPools, type GatewayPools, type LanConflict } from './pools.js';
import { allocateRoundRobin, EipLedger, RoundRobinCursors } from './allocate.js';
import { placeOwners, type OwnedGroup } from './owners.js';

export interface NodeAddresses {
  readonly ipv4?: string;
  readonly ipv6?: string;
}

/** Everything the assignment depends on; status is read from the policies themselves. */
export interface AssignInput {
  readonly policies: readonly Policy[];
  readonly gateways: readonly Gateway[];
  /**
   * Gateway name → the nodes that may carry its egress IPs now. What makes a node eligible is
   * the caller's business (today: it matches the nodeSelector, is Ready and has a tunnel address
   * and a mark, see resolve.ts); this function only takes the set.
   */
  readonly eligible: ReadonlyMap<string, readonly string[]>;
  /** InternalIPs of nodes, the source address of useNodeIP policies. */
  readonly nodeAddresses: ReadonlyMap<string, NodeAddresses>;
  /** Node addresses and pod CIDRs: never an egress IP. */
  readonly clusterAddresses: readonly IpInterval[];
  /** Egress IPs another host on the LAN answers for, as a node that may carry them found: not handed out. */
  readonly conflicts?: ReadonlyMap<string, LanConflict>;
  /** Egress IP → the nodes alive by the probes that hold it now (see placeOwners' two-holder rule). */
  readonly holders?: ReadonlyMap<string, readonly string[]>;
}

/** Where a policy's traffic leaves: the controller writes it to status, every agent computes it too. */
export interface Assignment {
  readonly policyKey: string;
  readonly gatewayName: string;
  readonly eipV4?: string;
  readonly eipV6?: string;
  readonly useNodeIP: boolean;
  /** The node carrying the policy (only when active). */
  readonly node?: string;
  /** Where workers still send its traffic while `node` takes the EIP over (OwnedGroup.steerTo). */
  readonly steerTo?: string;
  /** The source address per family that traffic leaves with (only when active). */
  readonly snatV4?: string;
  readonly snatV6?: string;
  readonly active: boolean;
  readonly reason?: ProblemReason;
  readonly message?: string;
  /** Values of the policy's status that were not used because they are not valid now. */
  readonly ignoredStatus: readonly string[];
}

export interface AssignmentResult {
  readonly policies: ReadonlyMap<string, Assignment>;
  /** Every gateway's pools as assessed (rejection, addresses held back). */
  readonly pools: ReadonlyMap<string, GatewayPools>;
}

/** The reasons `assign` can give; the controller's Ready condition and the plan share them. */
export const ASSIGNMENT_REASONS = [
  'GatewayNotFound',
  'PoolOverlap',
  'IPNotInPool',
  'ReservedAddress',
  'ClusterAddress',
  'EIPConflict',
  'EIPInUse',
  'PoolExhausted',
  'NoReadyGatewayNode',
  'NoNodeIP',
] as const satisfies readonly ProblemReason[];

const FAMILIES: readonly Family[] = [4, 6];

interface Draft {
  readonly policy: Policy;
  readonly pools?: GatewayPools;
  readonly eip: Partial<Record<Family, string>>;
  reason?: ProblemReason;
  message?: string;
}

function fail(draft: Draft, reason: ProblemReason, message: string): void {
  if (!draft.reason) {
    draft.reason = reason;
    draft.message = message;
  }
}

function statusEip(policy: Policy, family: Family): string | undefined {
  return family === 4 ? policy.status.eipV4 : policy.status.eipV6;
}

function explicitEip(policy: Policy, family: Family): string | undefined {
  return family === 4 ? policy.spec.ipv4 : policy.spec.ipv6;
}

/** An address the spec fixes (explicit, or the gateway's default): usable, and not another's. */
function claimFixed(draft: Draft, family: Family, ledger: EipLedger): void {
  const pools = draft.pools!;
  const explicit = explicitEip(draft.policy, family);
  const pool = pools.families[family];
  const ip = explicit ?? (draft.policy.spec.allocatorPolicy === 'default' ? pool.defaultEip : undefined);
  if (!ip) {
    if (!explicit && !pool.index.empty) fail(draft, 'ReservedAddress', `no address of the IPv${family} pools of gateway "${pools.gateway.name}" is a unicast address`);
    return;
  }
  const verdict = addressVerdict(pools, ip);
  if (verdict) {
    const what = explicit ? `spec.egressIP.ipv${family}: ` : `the default IPv${family} EIP of gateway "${pools.gateway.name}": `;
    return fail(draft, verdict.reason, `${what}${verdict.message}`);
  }
  const taken = ledger.sharedConflict(ip, pools.gateway.name, ip === pool.defaultEip);
  if (taken) return fail(draft, 'EIPInUse', `${ip} ${taken}`);
  ledger.claimShared(ip, pools.gateway.name);
  draft.eip[family] = ip;
}

/**
 * Round-robin keeps the address its status names while that is still valid and nobody older holds
 * it; the gateway's default EIP (taken last, when the pool had nothing else) is kept beside the
 * policies that use the default, never beside another round-robin policy.
 */
function keepRoundRobin(draft: Draft, family: Family, ledger: EipLedger): void {
  const pools = draft.pools!;
  const previous = statusEip(draft.policy, family);
  if (!previous || addressVerdict(pools, previous)) return;
  if (!ledger.isFreeFor(previous, pools.gateway.name, draft.policy.key, previous === pools.families[family].defaultEip)) return;
  ledger.claimExclusive(previous, pools.gateway.name, draft.policy.key);
  draft.eip[family] = previous;
}

function wantsRoundRobin(draft: Draft, family: Family): boolean {
  return draft.policy.spec.allocatorPolicy === 'rr' && !explicitEip(draft.policy, family) && !draft.pools!.families[family].index.empty;
}

/** Why a policy has no gateway, naming where its gateway should have come from. */
function gatewayNotFound(policy: Policy): string {
  const name = policy.spec.gatewayName;
  const ns = `namespace "${policy.namespace}"`;
  switch (policy.spec.gatewaySource) {
    case 'spec':
    case 'cluster':
      return `EgressGateway "${name}" does not exist`;
    case 'namespace':
      return name
        ? `EgressGateway "${name}" does not exist (the default of ${ns}, label ${DEFAULT_GATEWAY_LABEL})`
        : `spec.egressGatewayName is unset and the label ${DEFAULT_GATEWAY_LABEL} of ${ns} is not an EgressGateway name`;
    case 'none':
      return policy.kind === 'EgressPolicy'
        ? `spec.egressGatewayName is unset and there is no default gateway: label ${ns} ${DEFAULT_GATEWAY_LABEL}=<gateway>, or set spec.clusterDefault: true on one EgressGateway`
        : 'spec.egressGatewayName is unset and there is no default gateway: set spec.clusterDefault: true on one EgressGateway';
  }
}

function ignoredStatusOf(draft: Draft): string[] {
  const out: string[] = [];
  // useNodeIP status shows the node's own address; a rejected gateway's reason says it all
  if (!draft.pools || draft.pools.rejected || draft.policy.spec.useNodeIP) return out;
  for (const family of FAMILIES) {
    const s = statusEip(draft.policy, family);
    if (!s || s === draft.eip[family]) continue;
    const verdict = addressVerdict(draft.pools, s);
    if (verdict) out.push(`status.eip.ipv${family} ${s} ignored: ${verdict.message}`);
  }
  return out;
}

/**
 * Allocates egress IPs and places every EIP on one node. Pure and deterministic: the controller
 * calls it once per pass and writes the result to status; every agent calls it on the same input
 * and reaches the same result without waiting for that status.
 *
 * Allocation: older policies claim addresses first (explicit, the gateway's default, or the
 * round-robin address their status names); then round-robin policies without an address take the
 * lowest free one, and the gateway's default EIP last, when nothing else is free and no policy
 * uses it (policies that use the default EIP later share it). Addresses outside the gateway's
 * current pools, not unicast, CIDR network or broadcast addresses, node addresses, pod CIDRs and
 * addresses another LAN host answers for are never used, whatever status says.
 *
 * Placement is per EIP (see owners.ts): every policy sharing an address is on one node.
 */
export function assign(input: AssignInput): AssignmentResult {
  const pools = assessPools(input.gateways, input.clusterAddresses, input.conflicts);
  const drafts: Draft[] = [...input.policies].sort(compareForAllocation).map((policy) => {
    const found = pools.get(policy.spec.gatewayName);
    const draft: Draft = { policy, ...(found ? { pools: found } : {}), eip: {} };
    if (!found) fail(draft, 'GatewayNotFound', gatewayNotFound(policy));
    else if (found.rejected) fail(draft, found.rejected.reason, found.rejected.message);
    return draft;
  });
  const ledger = new EipLedger();
  const needsAddress = (d: Draft) => !!d.pools && !d.reason && !d.policy.spec.useNodeIP;
  for (const draft of drafts) {
    if (!needsAddress(draft)) continue;
    for (const family of FAMILIES) {
      if (wantsRoundRobin(draft, family)) keepRoundRobin(draft, family, ledger);
      else claimFixed(draft, family, ledger);
    }
  }
  const cursors = new RoundRobinCursors();
  for (const draft of drafts) {
    if (!needsAddress(draft)) continue;
    for (const family of FAMILIES) {
      if (draft.eip[family] || !wantsRoundRobin(draft, family)) continue;
      const ip = allocateRoundRobin(draft.pools!, family, ledger, cursors);
      if (!ip) {
        fail(draft, 'PoolExhausted', `no free IPv${family} address left in the pool of gateway "${draft.pools!.gateway.name}" for round-robin allocation`);
        break;
      }
      ledger.claimExclusive(ip, draft.pools!.gateway.name, draft.policy.key);
      draft.eip[family] = ip;
    }
    if (needsAddress(draft) && !draft.eip[4] && !draft.eip[6]) {
      fail(draft, 'PoolExhausted', `gateway "${draft.pools!.gateway.name}" has no IPv4 or IPv6 pool to take an egress IP from (or set spec.egressIP.useNodeIP)`);
    }
  }
  const owners = placeOwners(
    drafts.filter((d) => d.pools && !d.reason),
    input.eligible,
    input.holders,
  );
  const result = new Map<string, Assignment>();
  for (const draft of drafts) result.set(draft.policy.key, finish(draft, owners.get(draft.policy.key), input));
  return { policies: result, pools };
}

function finish(draft: Draft, group: OwnedGroup | undefined, input: AssignInput): Assignment {
  const { policy } = draft;
  let node: string | undefined;
  const snat: Partial<Record<Family, string>> = {};
  if (!draft.reason && group) {
    node = group.owner;
    if (!node)
      fail(
        draft,
        'NoReadyGatewayNode',
        `no node can carry gateway "${policy.spec.gatewayName}" now: none that matches its nodeSelector is Ready with a tunnel address and a routing mark`,
      );
    else if (policy.spec.useNodeIP) {
      const addresses = input.nodeAddresses.get(node);
      if (addresses?.ipv4) snat[4] = addresses.ipv4;
      if (addresses?.ipv6) snat[6] = addresses.ipv6;
      if (!snat[4] && !snat[6]) fail(draft, 'NoNodeIP', `gateway node "${node}" reports no InternalIP to leave with`);
    } else {
      if (draft.eip[4]) snat[4] = draft.eip[4];
      if (draft.eip[6]) snat[6] = draft.eip[6];
    }
  }
  const active = !draft.reason;
  return {
    policyKey: policy.key,
    gatewayName: policy.spec.gatewayName,
    ...(draft.eip[4] ? { eipV4: draft.eip[4] } : {}),
    ...(draft.eip[6] ? { eipV6: draft.eip[6] } : {}),
    useNodeIP: policy.spec.useNodeIP,
    ...(active && node ? { node } : {}),
    ...(active && node && group?.steerTo && !policy.spec.useNodeIP ? { steerTo: group.steerTo } : {}),
    ...(active && snat[4] ? { snatV4: snat[4] } : {}),
    ...(active && snat[6] ? { snatV6: snat[6] } : {}),
    active,
    ...(draft.reason ? { reason: draft.reason, message: draft.message ?? '' } : {}),
    ignoredStatus: ignoredStatusOf(draft),
  };
}
