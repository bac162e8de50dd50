import type { Policy } from '../api/model.js';
import type { Family } from '../api/ip.js';
import { ipValue } from './fast-ip.js';
import { rendezvousPick } from './hrw.js';

/** A policy that has its addresses and now needs a node. */
export interface Placeable {
  readonly policy: Policy;
  readonly eip: Partial<Record<Family, string>>;
}

export interface OwnedGroup {
  /** The egress IPs that live together on one node (none for a useNodeIP policy). */
  readonly eips: readonly string[];
  /** The node that holds them now; undefined when no node is eligible. */
  readonly owner?: string;
  /**
   * Where workers send the unit's traffic when that is not the owner: the previous owner (status),
   * alive by the probes and still holding the addresses, while the new owner does not say it holds
   * them yet (make-before-break on workers; the previous owner waits for the new one, handoff.ts).
   */
  readonly steerTo?: string;
}

/**
 * Places egress IPs on nodes. The unit is an EIP, not a policy: policies that share an address
 * (the gateway's default EIP, or an explicit one) are linked, and so are the IPv4 and IPv6
 * addresses of one policy, so every linked address and policy is on one node. A useNodeIP
 * policy is a unit of its own.
 *
 * Sticky: the current owner keeps a unit while it is eligible. The current owner is the
 * status.node of the oldest policy of the unit whose status names one of its addresses (the
 * controller writes that policy first). When the owner is not eligible (or there is none yet),
 * the unit goes to the rendezvous-hash winner of its lowest address over the eligible nodes: a
 * function of the unit and the eligible set only, so every agent picks the same successor without
 * waiting for status. A node that comes back takes nothing back; only new units land on it.
 *
 * Two holders (`holders`, from the probes: after a partition heals, two eligible nodes alive by
 * the probes may both hold a unit's addresses): status decides when it names one of them, else
 * the rendezvous-hash winner over the holders keeps the unit. Every other holder withdraws. A
 * holder that is not eligible (dead, draining, out of the selector) is no contender.
 */
export function placeOwners(
  placeables: readonly Placeable[],
  eligible: ReadonlyMap<string, readonly string[]>,
  holders: ReadonlyMap<string, readonly string[]> = new Map(),
): Map<string, OwnedGroup> {
  const parent = new Map<string, string>();
  const find = (ip: string): string => {
    let root = ip;
    while (parent.get(root) !== root) root = parent.get(root)!;
    let x = ip;
    while (x !== root) {
      const next = parent.get(x)!;
      parent.set(x, root);
      x = next;
    }
    return root;
  };
  const addressesOf = (p: Placeable) => [p.eip[4], p.eip[6]].filter((ip): ip is string => !!ip);
  for (const p of placeables) {
    const ips = addressesOf(p);
    for (const ip of ips) if (!parent.has(ip)) parent.set(ip, ip);
    for (const ip of ips.slice(1)) {
      const a = find(ips[0]!);
      const b = find(ip);
      if (a !== b) parent.set(b, a);
    }
  }
  const units = new Map<string, { members: Placeable[]; eips: Set<string> }>();
  for (const p of placeables) {
    const ips = addressesOf(p);
    const id = ips.length && !p.policy.spec.useNodeIP ? `eip:${find(ips[0]!)}` : `policy:${p.policy.key}`;
    const unit = units.get(id) ?? { members: [], eips: new Set<string>() };
    unit.members.push(p);
    if (!p.policy.spec.useNodeIP) for (const ip of ips) unit.eips.add(ip);
    units.set(id, unit);
  }
  const eligibleSets = new Map<string, Set<string>>();
  const eligibleOf = (gateway: string) => {
    let set = eligibleSets.get(gateway);
    if (!set) eligibleSets.set(gateway, (set = new Set(eligible.get(gateway) ?? [])));
    return set;
  };
  const out = new Map<string, OwnedGroup>();
  for (const unit of units.values()) {
    const first = unit.members[0]!;
    const gateway = first.policy.spec.gatewayName;
    const current = currentOwner(unit.members, unit.eips);
    const candidates = eligibleOf(gateway);
    const eips = sortAddresses([...unit.eips]);
    const key = eips[0] ?? first.policy.key;
    const contenders = holdersOf(eips, holders).filter((n) => candidates.has(n));
    let owner: string | undefined;
    if (contenders.length > 1) owner = current !== undefined && contenders.includes(current) ? current : rendezvousPick(key, contenders);
    else if (current !== undefined && candidates.has(current)) owner = current;
    else owner = rendezvousPick(key, [...(eligible.get(gateway) ?? [])]);
    const steerTo = owner !== undefined ? keepSteering(eips, holders, current, owner) : undefined;
    const group: OwnedGroup = { eips, ...(owner ? { owner } : {}), ...(steerTo ? { steerTo } : {}) };
    for (const m of unit.members) out.set(m.policy.key, group);
  }
  return out;
}

/**
 * The previous owner while it still holds every address of the unit and the new owner holds none.
 * The previous owner is the status node when status names another; once status names the new
 * owner (a planned move the controller wrote first: a rebalance, or a drain it followed at once),
 * it is the one node alive by the probes that holds every address.
 */
function keepSteering(eips: readonly string[], holders: ReadonlyMap<string, readonly string[]>, current: string | undefined, owner: string): string | undefined {
  if (eips.length === 0) return undefined;
  const holding = (node: string, ip: string) => (holders.get(ip) ?? []).includes(node);
  if (eips.some((ip) => holding(owner, ip))) return undefined;
  const previous = current !== undefined && current !== owner ? current : soleHolder(eips, holders);
  if (previous === undefined || previous === owner || !eips.every((ip) => holding(previous, ip))) return undefined;
  return previous;
}

/** The node that alone holds the first of the addresses, if one does. */
function soleHolder(eips: readonly string[], holders: ReadonlyMap<string, readonly string[]>): string | undefined {
  const nodes = holders.get(eips[0]!) ?? [];
  return nodes.length === 1 ? nodes[0] : undefined;
}

/** The nodes that hold any of the unit's addresses, sorted. */
function holdersOf(eips: readonly string[], holders: ReadonlyMap<string, readonly string[]>): string[] {
  if (holders.size === 0) return [];
  const out = new Set<string>();
  for (const ip of eips) for (const node of holders.get(ip) ?? []) out.add(node);
  return [...out].sort();
}

/** The status.node of the first member (allocation order) whose status names one of the unit's addresses. */
function currentOwner(members: readonly Placeable[], eips: ReadonlySet<string>): string | undefined {
  for (const m of members) {
    const { node, eipV4, eipV6 } = m.policy.status;
    if (!node) continue;
    if (eips.size === 0 || (eipV4 && eips.has(eipV4)) || (eipV6 && eips.has(eipV6))) return node;
  }
  return undefined;
}

function sortAddresses(ips: string[]): string[] {
  if (ips.length < 2) return ips;
  return ips
    .map((ip) => ({ ip, ...ipValue(ip) }))
    .sort((a, b) => a.family - b.family || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0))
    .map((x) => x.ip);
}
