import { canonicalIp, isIp, type Family } from '../../api/ip.js';
import { errorMessage } from '../../errors.js';
import { ifnameToken } from '../iproute/tokens.js';
import type { EipPlan } from '../../planner/node-plan.js';
import type { HeldAddress, ObservedAddress, ObservedAddresses } from './address-types.js';

export type AddressOp = { readonly kind: 'add'; readonly address: HeldAddress } | { readonly kind: 'del'; readonly address: ObservedAddress };

export interface AddressConflict {
  readonly address: HeldAddress;
  readonly reason: string;
}

export interface AddressOpPlan {
  /** Adds before deletes, so an EIP moving between interfaces is never absent. */
  readonly ops: readonly AddressOp[];
  /** Planned EIPs already on their interface without our tag: the node's own, never touched. */
  readonly conflicts: readonly AddressConflict[];
  /** Planned EIPs that are already ours in the kernel. */
  readonly present: readonly HeldAddress[];
  /** Planned EIPs with an unusable IP or interface name: never written. */
  readonly rejected: readonly string[];
}

export const hostPrefix = (family: Family) => (family === 4 ? 32 : 128);
const key = (ip: string, ifname: string) => `${ip}|${ifname}`;

/** Pure: planned EIPs against the kernel's addresses; only tagged addresses are ever deleted. */
export function planAddressOps(eips: readonly EipPlan[], observed: ObservedAddresses): AddressOpPlan {
  const rejected: string[] = [];
  const want: HeldAddress[] = [];
  for (const e of eips) {
    try {
      if (!isIp(e.ip, e.family)) throw new Error(`"${e.ip}" is not an IPv${e.family} address`);
      want.push({ ip: canonicalIp(e.ip), family: e.family, ifname: ifnameToken(e.interface) });
    } catch (err) {
      rejected.push(`EIP ${e.ip} on ${e.interface}: ${errorMessage(err)}`);
    }
  }
  const wantKeys = new Set(want.map((w) => key(w.ip, w.ifname)));
  const byKey = new Map<string, ObservedAddress[]>();
  for (const a of observed.addresses) byKey.set(key(a.ip, a.ifname), [...(byKey.get(key(a.ip, a.ifname)) ?? []), a]);

  const ops: AddressOp[] = [];
  const conflicts: AddressConflict[] = [];
  const present: HeldAddress[] = [];
  for (const w of want) {
    const have = byKey.get(key(w.ip, w.ifname)) ?? [];
    if (have.some((a) => a.ours && a.prefixlen === hostPrefix(w.family))) present.push(w);
    else if (have.length > 0) conflicts.push({ address: w, reason: `${w.ip} is already on ${w.ifname} (/${have[0]!.prefixlen}) and was not added by sluice` });
    else ops.push({ kind: 'add', address: w });
  }
  for (const a of observed.addresses) {
    if (a.ours && !(wantKeys.has(key(a.ip, a.ifname)) && a.prefixlen === hostPrefix(a.family))) ops.push({ kind: 'del', address: a });
  }
  return { ops, conflicts, present, rejected };
}
