import { performance } from 'node:perf_hooks';
import { Serial } from '../serial.js';
import { deepFreeze, memoByObject } from '../api/freeze.js';
import { DEFAULT_CONFIG, ownedRanges, type AgentConfig } from '../planner/config.js';
import type { EipPlan, NodePlan, SysctlEntry } from '../planner/node-plan.js';
import { AddressDriver } from './addresses/address-driver.js';
import type { HeldAddress, ObservedAddresses } from './addresses/address-types.js';
import type { AnnouncerHook, ApplyReport, NftDriverLike, ObservedDataplane } from './dataplane-types.js';
import type { Exec } from './iproute/exec.js';
import type { KernelReads } from './iproute/rows.js';
import { LinkDriver } from './links/link-driver.js';
import type { LinkOpPlan } from './links/link-ops.js';
import { Collector } from './apply-collector.js';
import { alreadyHeld, EIP_HOLD_LIMIT, FailureStreak, type EipHoldLimit, type StreakState } from './eip-hold.js';
import type { EipClaims } from './eip-claims.js';
import { fromThrown } from './report.js';
import { RouteDriver, withRejected } from './routes/route-driver.js';
import { ownedRangesOf, type RouteOpPlan } from './routes/route-ops.js';
import type { OwnedRanges } from './routes/route-types.js';
import { SysctlDriver, type SysctlWriteJournal } from './sysctl/sysctl-driver.js';

/** What a config names as sluice's own on a node: the tunnel device, the routing tables and rule priorities. */
export type OwnedConfig = Pick<AgentConfig, 'vxlan' | 'tableBase' | 'rulePriorityBase' | 'markMask'>;

export interface DataplaneOptions {
  /** The device and ranges sluice owns (default DEFAULT_CONFIG's); a plan's own ranges win in apply() and observe(plan). */
  readonly config?: OwnedConfig;
  readonly addressTag?: number;
  /** The guards. Required: nothing that forwards is set up unless its table loaded. */
  readonly nft: NftDriverLike;
  readonly announcer?: AnnouncerHook;
  /** Runs `ip` and `bridge` for writes (and for reads, unless `reads` is given). */
  readonly exec?: Exec;
  /** How links, addresses, rules and routes are read (default: over rtnetlink, see kernel-reads.ts). */
  readonly reads?: KernelReads;
  readonly sysctlRoot?: string;
  /** Where each sysctl change is recorded before it is written, for `sluice cleanup`. */
  readonly sysctlJournal?: SysctlWriteJournal;
  readonly sysClassNet?: string;
  /** How long EIPs already held survive applies that fail (default EIP_HOLD_LIMIT). */
  readonly eipHold?: EipHoldLimit;
  /** Milliseconds, for the hold limit; tests pass a clock of their own. */
  readonly now?: () => number;
  /**
   * Duplicate address detection before an EIP is first taken (eip-claims.ts). The agent sets it;
   * `sluice apply` does not (it has no earlier plan to tell a first allocation from a takeover).
   */
  readonly claims?: EipClaims;
}

export interface ApplyOptions {
  /**
   * Read every subsystem and diff it against the kernel (the default). With false, a subsystem
   * whose part of the plan equals what the last clean apply wrote is neither read nor written, so
   * a plan that changed only pod sets costs its nft transaction alone. A periodic full apply is
   * what repairs drift.
   */
  readonly full?: boolean;
  /**
   * Egress IPs other nodes say they hold now (their liveness probe answers): taking one is a move
   * between nodes, not a first allocation, so it is not probed for a LAN conflict (eip-claims.ts).
   */
  readonly heldByPeers?: ReadonlySet<string>;
  /** Egress IPs some node reports a LAN host answering for: probed even when the plan took them from another node (eip-claims.ts). */
  readonly reportedConflicts?: ReadonlySet<string>;
}

/** The parts of a plan that the iproute2 and sysctl subsystems apply, each in a comparable form. */
type PlanParts = Readonly<Record<'links' | 'sysctls' | 'routes' | 'addresses', string>>;

/** By plan: a resync applies the same plan object again. */
const planParts = memoByObject((plan: NodePlan): PlanParts => ({
  links: JSON.stringify(deepFreeze(plan.vxlan) ?? null),
  sysctls: JSON.stringify(deepFreeze(plan.sysctls)),
  routes: JSON.stringify(deepFreeze(plan.routing)),
  addresses: JSON.stringify(deepFreeze(plan.eips)),
}));

/** Sysctls that make the node forward packets: written only once the guards are loaded. */
export function isForwardingSysctl(key: string): boolean {
  return key === 'net.ipv4.ip_forward' || /^net\.ipv[46]\.conf\.[^.]+\.forwarding$/.test(key);
}

/**
 * Drives every kernel subsystem from one NodePlan: guards first, forwarding last, removals after
 * what replaces them, EIPs only on a complete dataplane. apply() loads nft while it reads links,
 * routes and addresses (routes again only if the device was created or recreated), then writes:
 *
 *   0. releases           EIPs held after the last apply that the plan no longer holds at all,
 *                         before the new table, which no longer guards them: in between, a stray
 *                         packet of a connection that moved to another node (an ACK the conntrack
 *                         entry here cannot place, so it is not de-NATed) would reach this node's
 *                         TCP stack on the EIP and be answered with a reset that ends the connection
 *   1. nft                one atomic table load: VXLAN only from nodes, anti-relay, the EIP
 *                         input guard, SNAT, marks. Rules name interfaces (iifname/oifname), so
 *                         the table loads before the tunnel device exists.
 *   2. links (adds)       device, tunnel addresses, neighbours and FDB of planned peers
 *   3. sysctls            all but forwarding (rp_filter of the device made in step 2, …)
 *   4. routes (adds)      routes, then the rules leading into them
 *   5. sysctls            forwarding (ip_forward, ipv6 forwarding), now that the guards are in
 *   6. routes (deletes)   rules, then routes: the table loaded in step 1 no longer marks into them
 *   7. links (deletes)    stale peers' neighbours/FDB, the device itself when unplanned
 *   8. addresses          EIPs, adds before deletes; added only when steps 1-7 had no error, and
 *                         (with `claims`) only when no other host on the LAN answers for them:
 *                         the probes run while steps 2-7 do
 *   9. announcer          announce EIPs now held, withdraw those gone
 *
 * Between steps 1 and 4 a packet may carry the mark of a gateway whose rule or table is not there
 * yet: with no rule, or no route in that table, the lookup goes on to the next rule (main). The
 * table loaded in step 1 drops a marked packet routed anywhere but the tunnel (fails closed): a
 * selected pod's packet leaves through its gateway or not at all, never with its own address or
 * the node's.
 *
 * With `full: false`, links, sysctls, routes and addresses whose part of the plan equals what the
 * last clean apply wrote are skipped, neither read nor written (nft always diffs, in memory).
 *
 * A failing step is reported and the rest still run, except:
 * - when nft fails, steps 2-7 are not run: nothing new may forward without its guards, and the old
 *   table (if any) may still mark into what 6 and 7 would remove. The next apply retries.
 * - when any of steps 1-7 failed (the apply is not `complete`), no EIP is added. EIPs the plan no
 *   longer holds are always released (another node may be taking them over); EIPs it still holds
 *   are kept through `eipHold` of consecutive failures, then withdrawn until an apply completes.
 */
export class Dataplane {
  readonly sysctls: SysctlDriver;
  readonly links: LinkDriver;
  readonly routes: RouteDriver;
  readonly addresses: AddressDriver;
  readonly #nft: NftDriverLike;
  readonly #announcer: AnnouncerHook | undefined;
  readonly #owned: OwnedRanges;
  readonly #streak: FailureStreak;
  readonly #now: () => number;
  readonly #claims: EipClaims | undefined;
  /** EIPs this node held after the last apply, by address: released first when the plan drops them. */
  #held = new Map<string, HeldAddress>();
  /** EIPs handed to the announcer, keyed `ip|ifname`: what is announced is decided here alone. */
  readonly #announced = new Map<string, HeldAddress>();
  /** Applies run one at a time, in call order. */
  readonly #serial = new Serial();
  /** The plan parts the last apply wrote without any error: what a partial apply may trust. */
  #settled: PlanParts | undefined;

  constructor(options: DataplaneOptions) {
    const exec = { ...(options.exec ? { exec: options.exec } : {}), ...(options.reads ? { reads: options.reads } : {}) };
    this.sysctls = new SysctlDriver({ ...(options.sysctlRoot ? { root: options.sysctlRoot } : {}), ...(options.sysctlJournal ? { journal: options.sysctlJournal } : {}) });
    const config = options.config ?? DEFAULT_CONFIG;
    this.links = new LinkDriver({ ...exec, device: config.vxlan.device, ...(options.sysClassNet ? { sysClassNet: options.sysClassNet } : {}) });
    this.routes = new RouteDriver(exec);
    this.addresses = new AddressDriver({ ...exec, ...(options.addressTag !== undefined ? { tag: options.addressTag } : {}) });
    this.#nft = options.nft;
    this.#announcer = options.announcer;
    this.#owned = ownedRanges(config);
    this.#streak = new FailureStreak(options.eipHold ?? EIP_HOLD_LIMIT);
    this.#now = options.now ?? Date.now;
    this.#claims = options.claims;
  }

  /** Everything the drivers own, read in parallel. `plan` only names sysctl keys, the parent NIC and the ranges. */
  async observe(plan?: NodePlan): Promise<ObservedDataplane> {
    const [sysctls, links, routes, addresses, nft] = await Promise.all([
      this.sysctls.observe((plan?.sysctls ?? []).map((s) => s.key)),
      this.links.observe(plan?.vxlan?.parent),
      this.routes.observe(plan ? ownedRangesOf(plan.routing) : this.#owned),
      this.addresses.observe(),
      this.#nft.observe(),
    ]);
    return { sysctls, links, routes, addresses, nft };
  }

  /** Never rejects: every failure is in the report. Concurrent calls are serialized. */
  apply(plan: NodePlan, options: ApplyOptions = {}): Promise<ApplyReport> {
    return this.#serial.run(() => this.#apply(plan, options.full ?? true, options.heldByPeers ?? new Set(), options.reportedConflicts ?? new Set()));
  }

  async #apply(plan: NodePlan, full: boolean, heldByPeers: ReadonlySet<string>, reportedConflicts: ReadonlySet<string>): Promise<ApplyReport> {
    const started = performance.now();
    const c = new Collector();
    const owned = ownedRangesOf(plan.routing);
    const nftOp = `load nft table ${plan.nft.name}`;
    const parts = planParts(plan);
    const settled = full ? undefined : this.#settled;
    // Known EIP conflicts are probed again when due, which takes an apply that reads the addresses.
    const unchanged = (part: keyof PlanParts) => settled?.[part] === parts[part] && (part !== 'addresses' || !this.#claims?.conflicts().length);
    this.#settled = undefined;

    const planned = new Set(plan.eips.map((e) => e.ip));
    const releasing = [...this.#held.values()].filter((h) => !planned.has(h.ip));
    const report = { announced: [] as string[], withdrawn: [] as string[] };
    if (releasing.length > 0) {
      await c.step('addresses', 'release EIPs the plan no longer holds', () => this.addresses.release(releasing));
      for (const h of releasing) this.#held.delete(h.ip);
      this.#syncAnnouncer(
        [...this.#held.values()].filter((h) => planned.has(h.ip)),
        c,
        report,
        { withdrawOnly: true },
      );
    }

    // The guards' transaction goes out first, before the reads (netlink dumps that hold the thread
    // for a moment each) and before any write process is spawned (spawning blocks the event loop,
    // for hundreds of milliseconds on a loaded node), so a change of pod sets is not held up.
    const nftApplied = c.run('nft', nftOp, () => this.#nft.apply(plan.nft));
    await new Promise<void>((resolve) => setImmediate(resolve));
    const [nftOutcome, linksSeen, routesSeen, addressesRead] = await Promise.all([
      nftApplied,
      unchanged('links') ? undefined : c.run('links', `observe link ${this.links.device}`, () => this.links.observe(plan.vxlan?.parent)),
      unchanged('routes') ? undefined : c.run('routes', 'observe rules and routes', () => this.routes.observe(owned)),
      unchanged('addresses') ? undefined : c.run('addresses', 'observe addresses', () => this.addresses.observe()),
    ]);
    if (nftOutcome) c.add('nft', { writes: nftOutcome.writes ?? 0, errors: (nftOutcome.errors ?? []).map((e) => fromThrown(nftOp, e, 'EGW_ERR_NFT')) });
    if (unchanged('addresses')) this.#claims?.note(plan);
    const vetting = addressesRead && this.#claims?.vet(plan, new Set(this.addresses.plan(plan.eips, addressesRead).present.map((a) => a.ip)), heldByPeers, reportedConflicts);

    const missingSysctls: string[] = [];
    if (c.failed('nft')) {
      const why = 'not run: the nft table (the guards) did not load, and nothing may forward without it';
      for (const s of ['links', 'sysctls', 'routes'] as const) c.skip(s, why);
    } else {
      const linkOps = linksSeen && (await c.run('links', `plan link ${this.links.device}`, async (): Promise<LinkOpPlan> => this.links.plan(plan.vxlan, linksSeen)));
      if (linkOps) await c.step('links', 'link adds', () => this.links.execute(linkOps.adds));

      // A device made anew comes with its sysctls at their defaults.
      const sysctlsSettled = unchanged('sysctls') && !(linkOps?.adds.some((op) => op.kind === 'create') ?? false);
      const setSysctls = async (op: string, entries: readonly SysctlEntry[]) => {
        if (sysctlsSettled) return;
        const result = await c.run('sysctls', op, () => this.sysctls.apply(entries));
        if (result) c.add('sysctls', result);
        missingSysctls.push(...(result?.missing ?? []));
      };
      await setSysctls(
        'sysctls',
        plan.sysctls.filter((s) => !isForwardingSysctl(s.key)),
      );

      // Creating or deleting the device drops every route through it: read the routes again then.
      const relinked = linkOps?.adds.some((op) => op.kind === 'create' || op.kind === 'delete') ?? false;
      const routesNow = relinked ? await c.run('routes', 'observe rules and routes', () => this.routes.observe(owned)) : routesSeen;
      const routeOps = routesNow && (await c.run('routes', 'plan rules and routes', async (): Promise<RouteOpPlan> => this.routes.plan(plan.routing, routesNow)));
      if (routeOps) await c.step('routes', 'route and rule adds', async () => withRejected(await this.routes.execute(routeOps.adds), routeOps.rejected));

      await setSysctls(
        'forwarding sysctls',
        plan.sysctls.filter((s) => isForwardingSysctl(s.key)),
      );

      if (routeOps && routeOps.deletes.length > 0) await c.step('routes', 'rule and route deletes', () => this.routes.execute(routeOps.deletes));
      if (linkOps && linkOps.deletes.length > 0) await c.step('links', 'link deletes', () => this.links.execute(linkOps.deletes));
    }

    const complete = !c.failed('nft', 'links', 'sysctls', 'routes');
    const streak = this.#streak.record(complete, this.#now());
    // EIPs as the last clean apply left them stay as they are; an incomplete apply reads them to decide what it keeps.
    const addressesSeen = addressesRead ?? (unchanged('addresses') && !complete ? await c.run('addresses', 'observe addresses', () => this.addresses.observe()) : undefined);
    if (addressesSeen) {
      const vetted = vetting ? await vetting : undefined;
      for (const note of vetted?.notes ?? []) c.skip('addresses', note);
      const claimed = vetted ? { ...plan, eips: vetted.eips } : plan;
      const eips = complete ? claimed.eips : this.#heldThroughFailure(claimed, addressesSeen, streak, c);
      const addresses = await c.run('addresses', 'addresses', () => this.addresses.applyObserved(eips, addressesSeen));
      if (addresses) {
        c.add('addresses', addresses);
        this.#held = new Map(addresses.held.map((h) => [h.ip, h]));
        this.#syncAnnouncer(addresses.held, c, report);
      }
    }

    const subsystems = c.reports();
    const all = Object.values(subsystems);
    if (complete && all.every((r) => r.errors.length === 0)) this.#settled = parts;
    return {
      subsystems,
      missingSysctls,
      complete,
      failedApplies: streak.failedApplies,
      ...(this.#claims ? { eipConflicts: this.#claims.conflicts() } : {}),
      ...report,
      held: [...this.#held.keys()].sort(),
      writes: all.reduce((n, s) => n + s.writes, 0),
      ok: all.every((s) => s.errors.length === 0),
      durationMs: performance.now() - started,
    };
  }

  /** The EIPs an incomplete apply keeps: those already held, until the failures pass the hold limit. */
  #heldThroughFailure(plan: NodePlan, observed: ObservedAddresses, streak: StreakState, c: Collector): readonly EipPlan[] {
    const held = alreadyHeld(plan.eips, this.addresses.plan(plan.eips, observed).present);
    const failing = `${streak.failedApplies} incomplete apply(s) in a row over ${(streak.failingForMs / 1000).toFixed(1)} s`;
    if (streak.expired) {
      if (held.length > 0) c.skip('addresses', `${held.length} held EIP(s) withdrawn: ${failing} passed the hold limit`);
      return [];
    }
    const unheld = plan.eips.length - held.length;
    if (unheld > 0) c.skip('addresses', `${unheld} EIP(s) not added: the dataplane is not complete`);
    if (held.length > 0) c.skip('addresses', `${held.length} held EIP(s) kept through ${failing}`);
    return held;
  }

  /**
   * Announces every held EIP and withdraws it when it goes. EIPs
   * adopted after a restart are announced once too, which refreshes the neighbours' caches.
   */
  #syncAnnouncer(held: readonly HeldAddress[], c: Collector, report: { announced: string[]; withdrawn: string[] }, options: { withdrawOnly?: boolean } = {}): void {
    const announcer = this.#announcer;
    if (!announcer) return;
    const wanted = new Map(held.map((h) => [`${h.ip}|${h.ifname}`, h]));
    const attempt = (op: string, fn: () => unknown): boolean => {
      try {
        fn();
        return true;
      } catch (err) {
        c.add('announcer', { writes: 0, errors: [fromThrown(op, err, 'EGW_ERR_ANNOUNCE_SEND')] });
        return false;
      }
    };
    for (const [key, h] of wanted) {
      if (options.withdrawOnly || this.#announced.has(key)) continue;
      if (attempt(`announce ${h.ip} on ${h.ifname}`, () => announcer.announce(h.ip, h.ifname))) {
        this.#announced.set(key, h);
        report.announced.push(key);
      }
    }
    for (const [key, h] of [...this.#announced]) {
      if (wanted.has(key)) continue;
      attempt(`withdraw ${h.ip} from ${h.ifname}`, () => announcer.withdraw(h.ip, h.ifname));
      this.#announced.delete(key);
      report.withdrawn.push(key);
    }
  }
}
