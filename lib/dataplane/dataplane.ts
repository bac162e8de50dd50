import { performance } from 'node:perf_hooks';
import { DEFAULT_CONFIG, maxMarkIndex, type AgentConfig } from '../planner/config.js';
import type { NodePlan } from '../planner/node-plan.js';
import { AddressDriver } from './addresses/address-driver.js';
import type { HeldAddress } from './addresses/address-types.js';
import type { AnnouncerHook, ApplyReport, NftDriverLike, ObservedDataplane } from './dataplane-types.js';
import type { Exec } from './iproute/exec.js';
import { LinkDriver } from './links/link-driver.js';
import type { LinkOpPlan } from './links/link-ops.js';
import { Collector } from './apply-collector.js';
import { fromThrown } from './report.js';
import { RouteDriver, withRejected } from './routes/route-driver.js';
import { ownedRangesOf, type RouteOpPlan } from './routes/route-ops.js';
import type { OwnedRanges } from './routes/route-types.js';
import { SysctlDriver } from './sysctl/sysctl-driver.js';

export interface DataplaneOptions {
  /** The one link sluice owns (config vxlan.device). */
  readonly vxlanDevice?: string;
  /** Ranges observe() filters by when it is not given a plan; apply() always uses the plan's. */
  readonly owned?: OwnedRanges;
  readonly addressTag?: number;
  readonly nft?: NftDriverLike;
  readonly announcer?: AnnouncerHook;
  readonly exec?: Exec;
  readonly sysctlRoot?: string;
  readonly sysClassNet?: string;
}

/** The table and rule-priority ranges an agent config reserves; the same ones the planner writes into plans. */
export function ownedRangesFromConfig(config: Pick<AgentConfig, 'tableBase' | 'rulePriorityBase' | 'markMask'>): OwnedRanges {
  return {
    tables: { min: config.tableBase, max: config.tableBase + maxMarkIndex(config) },
    rulePriorities: { min: config.rulePriorityBase, max: config.rulePriorityBase + 2 },
  };
}

/**
 * Drives every kernel subsystem from one NodePlan. apply() reads links, routes and addresses
 * once, in parallel, up front (routes again only if the device was created or recreated), then
 * writes make-before-break:
 *
 *   1. sysctls            forwarding on before anything routes through us
 *   2. links (adds)       device, tunnel addresses, neighbours and FDB of planned peers
 *   3. sysctls (retry)    keys of a device created in step 2 (rp_filter on egress.vxlan)
 *   4. routes (adds)      routes, then the rules leading into them
 *   5. nft                one atomic table load: marks now point only at tables that exist
 *   6. routes (deletes)   rules, then routes, nothing marks into any more
 *   7. links (deletes)    stale peers' neighbours/FDB, the device itself when unplanned
 *   8. addresses          EIPs after nft has their SNAT and input guard; adds before deletes
 *   9. announcer          announce EIPs now held, withdraw those gone
 *
 * A failing step is reported and the rest still run, except that when nft fails the removals
 * (6, 7, 8) are held back: the old ruleset may still mark into what they would remove, and an EIP
 * must not be taken or dropped without its nft rules. The next apply retries them.
 */
export class Dataplane {
  readonly sysctls: SysctlDriver;
  readonly links: LinkDriver;
  readonly routes: RouteDriver;
  readonly addresses: AddressDriver;
  readonly #nft: NftDriverLike | undefined;
  readonly #announcer: AnnouncerHook | undefined;
  readonly #owned: OwnedRanges;
  /** EIPs handed to the announcer, keyed `ip|ifname`; each holds exactly one announcer reference. */
  readonly #announced = new Map<string, HeldAddress>();
  /** Applies run one at a time, in call order. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: DataplaneOptions = {}) {
    const exec = options.exec ? { exec: options.exec } : {};
    this.sysctls = new SysctlDriver(options.sysctlRoot ? { root: options.sysctlRoot } : {});
    this.links = new LinkDriver({ ...exec, ...(options.vxlanDevice ? { device: options.vxlanDevice } : {}), ...(options.sysClassNet ? { sysClassNet: options.sysClassNet } : {}) });
    this.routes = new RouteDriver(exec);
    this.addresses = new AddressDriver({ ...exec, ...(options.addressTag !== undefined ? { tag: options.addressTag } : {}) });
    this.#nft = options.nft;
    this.#announcer = options.announcer;
    this.#owned = options.owned ?? ownedRangesFromConfig(DEFAULT_CONFIG);
  }

  /** Everything the drivers own, read in parallel. `plan` only names sysctl keys, the parent NIC and the ranges. */
  async observe(plan?: NodePlan): Promise<ObservedDataplane> {
    const [sysctls, links, routes, addresses, nft] = await Promise.all([
      this.sysctls.observe((plan?.sysctls ?? []).map((s) => s.key)),
      this.links.observe(plan?.vxlan?.parent),
      this.routes.observe(plan ? ownedRangesOf(plan.routing) : this.#owned),
      this.addresses.observe(),
      this.#nft?.observe(),
    ]);
    return { sysctls, links, routes, addresses, ...(this.#nft ? { nft } : {}) };
  }

  /** Never rejects: every failure is in the report. Concurrent calls are serialized. */
  apply(plan: NodePlan): Promise<ApplyReport> {
    const run = this.#queue.then(() => this.#apply(plan));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #apply(plan: NodePlan): Promise<ApplyReport> {
    const started = performance.now();
    const c = new Collector();
    const owned = ownedRangesOf(plan.routing);

    // Reads first, all at once: a process costs far more than the read it does.
    const [firstSysctls, linksSeen, routesSeen, addressesSeen] = await Promise.all([
      c.run('sysctls', 'sysctls', () => this.sysctls.apply(plan.sysctls)),
      c.run('links', `observe link ${this.links.device}`, () => this.links.observe(plan.vxlan?.parent)),
      c.run('routes', 'observe rules and routes', () => this.routes.observe(owned)),
      c.run('addresses', 'observe addresses', () => this.addresses.observe()),
    ]);
    if (firstSysctls) c.add('sysctls', firstSysctls);

    const linkOps = linksSeen && (await c.run('links', `plan link ${this.links.device}`, async (): Promise<LinkOpPlan> => this.links.plan(plan.vxlan, linksSeen)));
    if (linkOps) await c.step('links', 'link adds', () => this.links.execute(linkOps.adds));

    let missingSysctls = firstSysctls?.missing ?? [];
    if (missingSysctls.length > 0) {
      const missing = new Set(missingSysctls);
      const retry = await c.run('sysctls', 'sysctls (retry)', () => this.sysctls.apply(plan.sysctls.filter((s) => missing.has(s.key))));
      if (retry) c.add('sysctls', retry);
      missingSysctls = retry?.missing ?? missingSysctls;
    }

    // Creating or deleting the device drops every route through it: read the routes again then.
    const relinked = linkOps?.adds.some((op) => op.kind === 'create' || op.kind === 'delete') ?? false;
    const routesNow = relinked ? await c.run('routes', 'observe rules and routes', () => this.routes.observe(owned)) : routesSeen;
    const routeOps = routesNow && (await c.run('routes', 'plan rules and routes', async (): Promise<RouteOpPlan> => this.routes.plan(plan.routing, routesNow)));
    if (routeOps) await c.step('routes', 'route and rule adds', async () => withRejected(await this.routes.execute(routeOps.adds), routeOps.rejected));

    if (this.#nft) {
      const nft = this.#nft;
      const outcome = await c.run('nft', `load nft table ${plan.nft.name}`, () => nft.apply(plan.nft));
      if (outcome) c.add('nft', { writes: outcome.writes ?? 0, errors: (outcome.errors ?? []).map((e) => fromThrown(`load nft table ${plan.nft.name}`, e, 'EGW_ERR_NFT')) });
    } else {
      c.skip('nft', 'no nft driver configured');
    }
    const holdRemovals = c.failed('nft');
    const held = 'nft failed; removals wait for the next apply';

    if (routeOps && routeOps.deletes.length > 0) {
      if (holdRemovals) c.skip('routes', `${routeOps.deletes.length} deletions: ${held}`);
      else await c.step('routes', 'rule and route deletes', () => this.routes.execute(routeOps.deletes));
    }
    if (linkOps && linkOps.deletes.length > 0) {
      if (holdRemovals) c.skip('links', `${linkOps.deletes.length} deletions: ${held}`);
      else await c.step('links', 'link deletes', () => this.links.execute(linkOps.deletes));
    }

    const report = { announced: [] as string[], withdrawn: [] as string[] };
    if (holdRemovals) {
      c.skip('addresses', 'EIP changes: nft failed, so SNAT and the input guard for them are not in place');
    } else {
      const addresses = addressesSeen && (await c.run('addresses', 'addresses', () => this.addresses.applyObserved(plan.eips, addressesSeen)));
      if (addresses) {
        c.add('addresses', addresses);
        this.#syncAnnouncer(addresses.held, c, report);
      }
    }

    const subsystems = c.reports();
    const all = Object.values(subsystems);
    return {
      subsystems,
      missingSysctls,
      ...report,
      writes: all.reduce((n, s) => n + s.writes, 0),
      ok: all.every((s) => s.errors.length === 0),
      durationMs: performance.now() - started,
    };
  }

  /**
   * Gives the announcer one reference per held EIP and takes it back when the EIP goes. EIPs
   * adopted after a restart are announced once too, which refreshes the neighbours' caches.
   */
  #syncAnnouncer(held: readonly HeldAddress[], c: Collector, report: { announced: string[]; withdrawn: string[] }): void {
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
      if (this.#announced.has(key)) continue;
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
