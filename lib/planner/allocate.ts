import { formatIp, type Family } from '../api/ip.js';
import { addressVerdict, type GatewayPools } from './pools.js';

interface Claim {
  readonly gateway: string;
  /** Set when a round-robin policy holds the address: it is that policy's alone (but see `shareable`). */
  readonly roundRobinPolicy?: string;
}

/**
 * Who holds which egress IP during one allocation. Keys are canonical address text. An address a
 * spec fixes (explicit, or the gateway's default) may be shared; a round-robin address belongs to
 * one policy, except the gateway's default EIP: round-robin takes it last, when nothing else is
 * free, and policies that use the default EIP still join it (`shareable`).
 */
export class EipLedger {
  private readonly claims = new Map<string, Claim>();

  /** Why a spec-fixed address cannot be used, or undefined when it can. */
  sharedConflict(ip: string, gateway: string, shareable = false): string | undefined {
    const claim = this.claims.get(ip);
    if (!claim) return undefined;
    if (claim.gateway !== gateway) return `is already the egress IP of gateway "${claim.gateway}"`;
    if (claim.roundRobinPolicy && !shareable) return `is the round-robin address of the older policy "${claim.roundRobinPolicy}"`;
    return undefined;
  }

  isTaken(ip: string): boolean {
    return this.claims.has(ip);
  }

  /** Whether a round-robin policy may keep `ip`: nobody holds it, or (shareable) no other round-robin policy of the gateway. */
  isFreeFor(ip: string, gateway: string, policyKey: string, shareable = false): boolean {
    const claim = this.claims.get(ip);
    if (!claim || claim.roundRobinPolicy === policyKey) return true;
    return shareable && claim.gateway === gateway && !claim.roundRobinPolicy;
  }

  claimShared(ip: string, gateway: string): void {
    if (!this.claims.has(ip)) this.claims.set(ip, { gateway });
  }

  claimExclusive(ip: string, gateway: string, policyKey: string): void {
    this.claims.set(ip, { gateway, roundRobinPolicy: policyKey });
  }
}

/** Where round-robin resumes per gateway and family: addresses before it were taken in this pass. */
export class RoundRobinCursors {
  private readonly positions = new Map<string, { interval: number; next: bigint }>();

  of(gateway: string, family: Family): { interval: number; next: bigint } {
    const key = `${family}|${gateway}`;
    let cursor = this.positions.get(key);
    if (!cursor) {
      cursor = { interval: 0, next: -1n };
      this.positions.set(key, cursor);
    }
    return cursor;
  }
}

/**
 * The lowest free allocatable address of the gateway's pool, and when none is left, its default
 * EIP if nobody uses it: a pool of n addresses serves n round-robin policies. Claims only grow
 * during a pass, so the scan resumes where the previous policy's ended: one pass over the pool
 * for all policies together, skipping only addresses already held.
 */
export function allocateRoundRobin(pools: GatewayPools, family: Family, ledger: EipLedger, cursors: RoundRobinCursors): string | undefined {
  const pool = pools.families[family];
  const cursor = cursors.of(pools.gateway.name, family);
  while (cursor.interval < pool.allocatable.length) {
    const iv = pool.allocatable[cursor.interval]!;
    if (cursor.next < iv.start) cursor.next = iv.start;
    if (cursor.next > iv.end) {
      cursor.interval++;
      continue;
    }
    const ip = formatIp(cursor.next, family);
    cursor.next++;
    if (ip !== pool.defaultEip && !ledger.isTaken(ip)) return ip;
  }
  const last = pool.defaultEip;
  return last !== undefined && !ledger.isTaken(last) && !addressVerdict(pools, last) ? last : undefined;
}
