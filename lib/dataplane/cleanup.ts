/**
 * `sluice cleanup`: removes everything sluice owns on a node, found the way the agent finds it
 * (no state needed but the sysctl journal): the nft table, the ip rules in its priority range and
 * the routes in its tables, its VXLAN device, the EIP addresses carrying its tag (the kernel stops
 * answering ARP / NDP for them as they go), and the sysctl values it changed. Anything else is
 * never touched. Run it once the agents are gone: a running agent would put everything back.
 */
import type { RoutingPlan } from '../planner/node-plan.js';
import { ownedRanges, type AgentConfig } from '../planner/config.js';
import type { OwnedConfig } from './dataplane.js';
import { AddressDriver } from './addresses/address-driver.js';
import { hostPrefix } from './addresses/address-ops.js';
import type { ObservedAddress, ObservedAddresses } from './addresses/address-types.js';
import type { Exec } from './iproute/exec.js';
import { LinkDriver } from './links/link-driver.js';
import type { ObservedLinks } from './links/link-types.js';
import { describeRouteOp } from './routes/route-describe.js';
import { RouteDriver } from './routes/route-driver.js';
import { planRouteOps, type RouteOp } from './routes/route-ops.js';
import type { ObservedRouting, OwnedRanges } from './routes/route-types.js';
import { SysctlDriver } from './sysctl/sysctl-driver.js';
import { sameSysctlValue } from './sysctl/sysctl-path.js';
import { isForwardingKey, SysctlJournal, type Journal } from './sysctl-journal.js';
import { errorMessage } from '../errors.js';
import type { ApplyError } from './report.js';

export interface CleanupTarget {
  /** The agent's config: what it names as sluice's own (table, device, ranges). */
  readonly config: Pick<AgentConfig, 'nftTable'> & OwnedConfig;
  /** Where the agent kept its sysctl journal (`--state-dir`). */
  readonly stateDir: string;
  readonly sysctlRoot?: string;
  readonly addressTag?: number;
}

export interface CleanupOptions {
  /** Report what would be removed; change nothing. */
  readonly dryRun?: boolean;
  /** Turn forwarding off again where sluice turned it on (off by default: the pod network needs it). */
  readonly restoreForwarding?: boolean;
  readonly exec?: Exec;
  /** The nft table: `NftDriver` satisfies this. */
  readonly nft: { observe(): Promise<{ readonly present: boolean }>; remove(): Promise<unknown> };
}

type CleanupSubsystem = 'nft' | 'route' | 'link' | 'address' | 'sysctl';

export interface CleanupAction {
  readonly subsystem: CleanupSubsystem;
  /** What is (or would be) removed or restored, as a sentence: `delete rule pref 9001 …`. */
  readonly text: string;
  /** Set after a real run: an error means it is still there. */
  readonly error?: string;
}

export interface CleanupReport {
  readonly dryRun: boolean;
  readonly actions: readonly CleanupAction[];
  /** What was found and deliberately left, with the reason. */
  readonly kept: readonly string[];
  readonly ok: boolean;
}

/** What the node holds of ours, read once before anything is removed. */
export interface CleanupObservation {
  readonly nft: boolean;
  readonly routing: ObservedRouting;
  readonly links: ObservedLinks;
  readonly addresses: ObservedAddresses;
  readonly journal: Journal;
  /** Why the journal could not be read (then it counts as empty and is left in place). */
  readonly journalError?: string;
  /** Current values of the journal's keys (undefined: the key no longer exists). */
  readonly sysctls: ReadonlyMap<string, string | undefined>;
}

interface SysctlRestore {
  readonly key: string;
  readonly value: string;
}

/** The work a cleanup does, decided from an observation. Pure. */
export interface CleanupPlan {
  readonly nft: boolean;
  readonly routeDeletes: readonly RouteOp[];
  readonly link: boolean;
  readonly addresses: readonly ObservedAddress[];
  readonly sysctls: readonly SysctlRestore[];
  /** What the journal keeps afterwards (forwarding left on, to restore later); empty: the file goes. */
  readonly journalAfter: Journal;
  readonly kept: readonly string[];
}

function emptyRouting(owned: OwnedRanges): RoutingPlan {
  return { tables: [], routes: [], rules: [], ownedTables: owned.tables, ownedRulePriorities: owned.rulePriorities };
}

/** The device a per-interface key belongs to (`net.ipv4.conf.egress/vxlan.rp_filter` → `egress.vxlan`). */
export function sysctlDevice(key: string): string | undefined {
  return /^net\.ipv[46]\.(?:conf|neigh)\.([^.]+)\.[^.]+$/.exec(key)?.[1]?.replaceAll('/', '.');
}

export function planCleanup(target: CleanupTarget, seen: CleanupObservation, options: Pick<CleanupOptions, 'restoreForwarding'> = {}): CleanupPlan {
  const kept: string[] = [...(seen.journalError ? [`sysctl journal: ${seen.journalError}; sysctls left as they are`] : [])];
  const link = seen.links.link;
  if (link && link.kind !== 'vxlan') kept.push(`link ${target.config.vxlan.device} is a ${link.kind} link, not the VXLAN device sluice makes: left alone`);
  const deletesLink = link?.kind === 'vxlan';
  const sysctls: SysctlRestore[] = [];
  const journalAfter: Record<string, Journal[string]> = {};
  for (const [key, entry] of Object.entries(seen.journal)) {
    const now = seen.sysctls.get(key);
    // gone with its device, or going with it (rp_filter of the tunnel)
    if (now === undefined || (deletesLink && sysctlDevice(key) === target.config.vxlan.device)) continue;
    if (sameSysctlValue(now, entry.before)) continue;
    if (!sameSysctlValue(now, entry.set)) {
      kept.push(`sysctl ${key} = ${now.trim()}: changed since sluice set it to ${entry.set}, left as it is`);
    } else if (isForwardingKey(key) && !options.restoreForwarding) {
      kept.push(`sysctl ${key} = ${entry.set}: sluice turned it on (it was ${entry.before}), but the pod network needs forwarding; --restore-forwarding turns it off`);
      journalAfter[key] = entry;
    } else {
      sysctls.push({ key, value: entry.before });
    }
  }
  return {
    nft: seen.nft,
    routeDeletes: planRouteOps(emptyRouting(ownedRanges(target.config)), seen.routing).deletes,
    link: deletesLink,
    addresses: seen.addresses.addresses.filter((a) => a.ours),
    sysctls,
    journalAfter,
    kept,
  };
}

export function describeCleanup(target: CleanupTarget, plan: CleanupPlan): CleanupAction[] {
  return [
    ...(plan.nft ? [{ subsystem: 'nft' as const, text: `delete table inet ${target.config.nftTable}` }] : []),
    ...plan.routeDeletes.map((op) => ({ subsystem: 'route' as const, text: describeRouteOp(op).text.replace(/^extra /, 'delete ') })),
    ...(plan.link
      ? [{ subsystem: 'link' as const, text: `delete link ${target.config.vxlan.device} (its tunnel addresses, neighbours, FDB entries and rp_filter go with it)` }]
      : []),
    ...plan.addresses.map((a) => ({ subsystem: 'address' as const, text: `delete address ${a.ip}/${hostPrefix(a.family)} on ${a.ifname} (no more ARP/NDP answers for it)` })),
    ...plan.sysctls.map((s) => ({ subsystem: 'sysctl' as const, text: `restore sysctl ${s.key} = ${s.value}` })),
  ];
}

type StepOutcome = { readonly errors?: readonly ApplyError[] } | void;

/** Observes, then (unless dry-run) removes in this order: nft, rules and routes, the link, EIPs, sysctls, the journal. */
export async function cleanupNode(target: CleanupTarget, options: CleanupOptions): Promise<CleanupReport> {
  const exec = options.exec ? { exec: options.exec } : {};
  const routes = new RouteDriver(exec);
  const links = new LinkDriver({ device: target.config.vxlan.device, ...exec });
  const addresses = new AddressDriver({ ...exec, ...(target.addressTag !== undefined ? { tag: target.addressTag } : {}) });
  const sysctls = new SysctlDriver(target.sysctlRoot ? { root: target.sysctlRoot } : {});
  const journal = new SysctlJournal(target.stateDir);

  const [nft, routing, linksSeen, addressesSeen, recorded] = await Promise.all([
    options.nft.observe().then((o) => o.present),
    routes.observe(ownedRanges(target.config)),
    links.observe(),
    addresses.observe(),
    journal.read().then(
      (j) => ({ journal: j }),
      (err: unknown) => ({ journal: {}, journalError: errorMessage(err) }),
    ),
  ]);
  const current = await sysctls.observe(Object.keys(recorded.journal));
  const seen: CleanupObservation = { nft, routing, links: linksSeen, addresses: addressesSeen, ...recorded, sysctls: new Map(current.map((s) => [s.key, s.value])) };
  const plan = planCleanup(target, seen, options);
  const described = describeCleanup(target, plan);
  if (options.dryRun) return { dryRun: true, actions: described, kept: plan.kept, ok: true };

  const failed = new Map<CleanupSubsystem, string[]>();
  const fail = (s: CleanupSubsystem, message: string) => failed.set(s, [...(failed.get(s) ?? []), message]);
  const step = async (s: CleanupSubsystem, run: () => Promise<StepOutcome>) => {
    try {
      for (const e of (await run())?.errors ?? []) fail(s, `${e.op}: ${e.message}`);
    } catch (err) {
      fail(s, errorMessage(err));
    }
  };
  // nft first: nothing marks into the tables or SNATs to the EIPs any more
  if (plan.nft) await step('nft', async () => void (await options.nft.remove()));
  if (plan.routeDeletes.length) await step('route', () => routes.execute(plan.routeDeletes));
  if (plan.link) await step('link', () => links.execute(links.plan(undefined, linksSeen).deletes));
  if (plan.addresses.length) await step('address', () => addresses.applyObserved([], addressesSeen));
  if (plan.sysctls.length) await step('sysctl', () => sysctls.apply(plan.sysctls));
  // the journal goes once nothing in it is left to restore; a journal that could not be read stays
  if (Object.keys(recorded.journal).length > 0 && !failed.has('sysctl')) {
    await step('sysctl', () => (Object.keys(plan.journalAfter).length > 0 ? journal.write(plan.journalAfter) : journal.remove()));
  }

  const actions = described.map((a) => (failed.has(a.subsystem) ? { ...a, error: failed.get(a.subsystem)!.join('; ') } : a));
  const unlisted = [...failed].filter(([s]) => !described.some((a) => a.subsystem === s));
  const extra = unlisted.map(([subsystem, errors]) => ({ subsystem, text: 'update the sysctl journal', error: errors.join('; ') }));
  return { dryRun: false, actions: [...actions, ...extra], kept: plan.kept, ok: failed.size === 0 };
}
