import type { EipPlan, NodePlan } from '../planner/node-plan.js';
import { errorMessage } from '../errors.js';
import type { DuplicateAddressProbe } from './announcer/duplicate-probe.js';

/** An egress IP that another host on the LAN answers for: this node does not take it while it does. */
export interface EipConflict {
  readonly ip: string;
  readonly ifname: string;
  /** The other host's MAC address. */
  readonly mac: string;
  /** When it was first seen (ms, the Dataplane's clock). */
  readonly since: number;
}

/** How often a known conflict is probed again: once the other host is gone, the EIP can be taken. */
const CONFLICT_RECHECK_MS = 30_000;
/** Conflicts remembered at most; the oldest go first (a pool full of LAN hosts is a mistake, not a workload). */
const MAX_CONFLICTS = 64;

/** ip → the node that held it, by the assignment in a plan (every node's plans carry all of it). */
function holdersOf(plan: NodePlan): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of plan.policies) {
    if (!p.active || !p.node) continue;
    if (p.eipV4) out.set(p.eipV4, p.node);
    if (p.eipV6) out.set(p.eipV6, p.node);
  }
  return out;
}

/**
 * Duplicate address detection for egress IPs. Before this node first takes an egress IP it asks
 * the LAN whether another host answers for it (an ARP or NDP probe, duplicate-probe.ts); if one
 * does, the EIP is not added and the conflict is kept, reported, and probed again every
 * CONFLICT_RECHECK_MS. A pool entry that is some LAN host's address would otherwise be taken
 * over: its traffic would reach the gateway and the host would drop off the network.
 *
 * Only a first allocation is probed: an EIP that another node held in the last plan applied is
 * a failover or a planned move. There the old holder may still answer (partitioned from the API
 * server, or not yet done releasing it), and the probe would cost the move ~0.4 s. Nor is an EIP
 * this node already holds: it answers for itself. Nor is one that another node says it holds
 * (`heldByPeers`, from the liveness probes): a move between nodes, also right after a restart.
 * After a restart every other EIP not on the NIC is probed once. A probe that cannot be made (no NET_RAW, link down) is noted, and the EIP is
 * taken as before.
 *
 * A plan names a holder before that node has looked: the node it named may have found a LAN host
 * there and taken nothing. So an address some node reports a LAN host answering for
 * (`reportedConflicts`, the EgressTunnels' reports, from any node, eligible or not) is probed even
 * when the plan took it from another node. Otherwise a peer that stalls for a moment (and so
 * leaves the eligible set, its report no longer counting) hands a LAN host's address to the next
 * node unprobed. A report only ever costs a probe.
 */
export class EipClaims {
  readonly #probe: DuplicateAddressProbe;
  readonly #now: () => number;
  readonly #recheckMs: number;
  #holders: Map<string, string> | undefined;
  /** By address, with when each was last probed. */
  readonly #conflicts = new Map<string, EipConflict & { readonly checkedAt: number }>();

  constructor(options: { probe: DuplicateAddressProbe; now?: () => number; recheckMs?: number }) {
    this.#probe = options.probe;
    this.#now = options.now ?? Date.now;
    this.#recheckMs = options.recheckMs ?? CONFLICT_RECHECK_MS;
  }

  /**
   * The planned EIPs this apply may add or keep, after probing the ones first taken and the known
   * conflicts that are due. `present` holds the planned EIPs already on their interface.
   */
  async vet(
    plan: NodePlan,
    present: ReadonlySet<string>,
    heldByPeers: ReadonlySet<string> = new Set(),
    reportedConflicts: ReadonlySet<string> = new Set(),
  ): Promise<{ eips: EipPlan[]; notes: string[] }> {
    const now = this.#now();
    const before = this.#holders;
    this.#holders = holdersOf(plan);
    const takenFrom = (ip: string) => {
      if (heldByPeers.has(ip)) return true;
      const holder = before?.get(ip);
      if (holder === undefined || holder === plan.node) return false;
      return !reportedConflicts.has(ip);
    };
    // the host that answered was the node that holds it
    for (const ip of heldByPeers) this.#conflicts.delete(ip);
    const first = plan.eips.filter((e) => !present.has(e.ip) && !this.#conflicts.has(e.ip) && !takenFrom(e.ip)).map((e) => ({ ip: e.ip, ifname: e.interface }));
    const due = [...this.#conflicts.values()].filter((c) => now - c.checkedAt >= this.#recheckMs);
    const notes: string[] = [];
    await Promise.all(
      [...first, ...due].map(async ({ ip, ifname }) => {
        try {
          const mac = await this.#probe.probe(ip, ifname);
          if (mac) this.#conflicts.set(ip, { ip, ifname, mac, since: this.#conflicts.get(ip)?.since ?? now, checkedAt: now });
          else this.#conflicts.delete(ip);
        } catch (err) {
          notes.push(`could not probe the LAN for ${ip} on ${ifname} (taken without): ${errorMessage(err)}`);
        }
      }),
    );
    const excess = [...this.#conflicts.values()].sort((a, b) => a.since - b.since).slice(0, Math.max(0, this.#conflicts.size - MAX_CONFLICTS));
    for (const c of excess) this.#conflicts.delete(c.ip);
    return { eips: plan.eips.filter((e) => !this.#conflicts.has(e.ip)), notes };
  }

  /** Remembers who holds what in a plan applied without vetting (this node's EIPs in it were unchanged). */
  note(plan: NodePlan): void {
    this.#holders = holdersOf(plan);
  }

  /** The conflicts known now, by address. */
  conflicts(): EipConflict[] {
    return [...this.#conflicts.values()].map(({ checkedAt: _, ...c }) => c).sort((a, b) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0));
  }
}
