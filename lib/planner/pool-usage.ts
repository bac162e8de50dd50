import type { Family } from '../api/ip.js';
import type { Assignment } from './assign.js';
import { addressVerdict, type GatewayPools } from './pools.js';

export interface FamilyUsage {
  /** Pool addresses that may be handed out: CIDR network and broadcast, non-unicast, node and pod addresses left out. */
  readonly total: bigint;
  /** Of those, the ones no policy of the gateway holds (placed on a node or not). */
  readonly free: bigint;
}

/**
 * How much of a gateway's pools is in use, from the pass's assignment: an address counts once
 * however many policies share it, and as long as a policy holds it, whether a node carries it
 * now or none can (so the figures do not jump when the gateway matches no node). The default EIP
 * counts only while a policy uses it.
 */
export function poolUsage(pools: GatewayPools, assignments: Iterable<Assignment>): Record<Family, FamilyUsage> {
  const held: Record<Family, Set<string>> = { 4: new Set(), 6: new Set() };
  for (const a of assignments) {
    if (a.gatewayName !== pools.gateway.name || a.useNodeIP) continue;
    for (const [family, ip] of [
      [4, a.eipV4],
      [6, a.eipV6],
    ] as const) {
      if (ip && !addressVerdict(pools, ip)) held[family].add(ip);
    }
  }
  const usage = (family: Family): FamilyUsage => {
    const total = pools.families[family].allocatable.reduce((n, iv) => n + (iv.end - iv.start + 1n), 0n);
    return { total, free: total - BigInt(held[family].size) };
  };
  return { 4: usage(4), 6: usage(6) };
}

/** A count as a JSON number: exact up to 2^53 - 1, which larger counts (IPv6 pools wider than /75) are written as. */
export function countNumber(n: bigint): number {
  return n > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(n);
}
