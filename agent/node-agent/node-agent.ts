import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { KubeConfig } from '../../lib/kube/kubeconfig.js';
import { errorMessage } from '../../lib/errors.js';
import type { AgentConfig } from '../../lib/planner/config.js';
import type { NodePlan } from '../../lib/planner/node-plan.js';
import { markIndexes } from '../../lib/planner/tunnels.js';
import { drainedAside } from '../../lib/planner/drained.js';
import type { Snapshot } from '../../lib/planner/snapshot.js';
import { startControlPlane, type ControlPlane } from '../../lib/controller/control-plane.js';
import { followSnapshots } from '../../lib/cluster/snapshot-feed.js';
import type { Reconciler } from '../../lib/kube/reconciler.js';
import { Metrics } from '../../lib/metrics/metrics.js';
import { startMetricsServer, startStatusServer, type RunningServer } from '../../lib/metrics/server.js';
import { openLocalDataplane, type LocalDataplane } from '../local-dataplane.js';
import type { ListenAddress } from '../listen-address.js';
import type { BuildInfo } from '../version.js';
import { applySummary, livenessStatus, type AgentStatus } from './agent-state.js';
import { ApplyGate } from './apply-gate.js';
import { identifyRuleCounters } from './rule-counters.js';
import { planForNode } from '../plan-for-node.js';
import { RESYNC_REASON, Resync, type ResyncRun } from './resync.js';
import { KernelChanges } from './kernel-changes.js';
import { PlanMemo } from './plan-memo.js';
import type { ApplyReport } from '../../lib/dataplane/dataplane-types.js';
import { keepEipConflictsPublished } from '../../lib/cluster/eip-conflicts.js';
import { keepLanLinkPublished } from '../../lib/cluster/lan-link.js';
import { readLanLink } from './lan-link.js';
import { keepAppliedReportPublished, type AppliedReportPublisher } from '../../lib/cluster/applied-report.js';
import { appliedPolicies, appliedReport, type ApplyFailure } from './applied-report.js';
import { expectedDevice } from '../../lib/dataplane/links/link-drift.js';
import { DeviceWatch } from '../../lib/dataplane/links/link-watch.js';
import { firewallNameRules, firewallRulesByComment, type FirewallInput } from '../../lib/planner/firewall-rules.js';
import { localFirewallInputs, localFirewallPods } from '../../lib/planner/firewall-endpoints.js';
import { FirewallDns } from './firewall-dns.js';
import { FirewallDenials } from './firewall-denials.js';
import { probePeers } from '../../lib/planner/probe-peers.js';
import { carriersOf, hasSuccessor, othersServe, replaceable, withoutSuccessor } from './successors.js';
import type { ProbeFacts } from '../../lib/planner/probe-facts.js';
import { apiAnswers } from '../../lib/kube/api-reach.js';
import { NodeLiveness } from './node-liveness.js';
import { openProber } from './open-prober.js';
import { Handoff } from './handoff.js';
import { FailoverTrace, monotonicMs } from './failover-trace.js';
import { EipLifetime, type HeldEip } from './eip-lifetime.js';
import type { ProbeSettings } from '../probe-flags.js';
import { ConntrackCleanup } from './conntrack-cleanup.js';

export interface NodeAgentOptions {
  readonly nodeName: string;
  readonly kubeConfig: KubeConfig;
  readonly leaseNamespace: string;
  readonly config: AgentConfig;
  readonly parentInterface: string;
  /** /metrics, /healthz, /readyz. */
  readonly metrics: ListenAddress;
  /** /status, /plan: loopback only (parseStatusAddress). */
  readonly status: ListenAddress;
  /** Where /proc/sys is writable (default /proc/sys). */
  readonly sysctlRoot?: string;
  /** Where the sysctl journal for `sluice cleanup` lives (a host directory). */
  readonly stateDir: string;
  /** Take part in the controller election (`--controller`): only where no controller Deployment runs. */
  readonly elect: boolean;
  readonly lease: { readonly durationMs: number; readonly renewIntervalMs: number; readonly renewDeadlineMs: number };
  /** Period of the resync that re-applies the plan to repair drift in the kernel; 0 = off. */
  readonly resyncIntervalMs: number;
  readonly build: BuildInfo;
  readonly log: Logger;
  /** The DNS forwarder of firewalls' rules by name (with config.firewallDnsPort): the cluster DNS address it asks, and the grace added to TTLs. */
  readonly firewallDns?: { readonly upstream: string; readonly graceSeconds: number };
  /** Liveness by UDP probes between nodes (absent: the API alone decides who may carry EIPs). */
  readonly probes?: ProbeSettings;
}

/** How often the EIPs' lifetime is renewed (the lifetime is whole seconds, at least 2). */
const EIP_RENEW_MS = 1_000;

/** A reconcile that runs longer than this marks the agent unhealthy. */
const STUCK_MS = 120_000;

/**
 * One node's agent: follows the cluster, compiles this node's plan on every change, applies it to
 * the kernel and reports; every resync interval it applies the plan again, which repairs what was
 * changed behind its back. With `elect`, the Lease holder also runs the cluster-level controller.
 */
export class NodeAgent {
  readonly metrics: Metrics;
  #control?: ControlPlane;
  #feed?: Reconciler;
  #local?: LocalDataplane;
  #servers: RunningServer[] = [];
  #plan?: NodePlan;
  #status: Omit<AgentStatus, 'leader' | 'synced' | 'plan' | 'announcements' | 'ready'> & { ready: boolean };
  #runningSince?: number;
  #announcedReady = false;
  #resync?: Resync;
  #kernelChanges?: KernelChanges;
  #conflicts?: ReturnType<typeof keepEipConflictsPublished>;
  #lanLink?: ReturnType<typeof keepLanLinkPublished>;
  #lastConflicts = new Set<string>();
  #reports?: AppliedReportPublisher;
  #appliedPolicies?: ReturnType<typeof appliedPolicies>;
  #deviceWatch?: DeviceWatch;
  readonly #gate = new ApplyGate();
  #dns?: FirewallDns;
  /** Reads the log of firewall denials; started with the first plan that has a firewall on this node. */
  #denials?: FirewallDenials;
  /** A resync of an unchanged snapshot re-applies the last plan without planning again. */
  readonly #planned = new PlanMemo<Snapshot, { plan: NodePlan; applied: ReturnType<typeof appliedPolicies>; fingerprint: string }>();
  #liveness?: NodeLiveness;
  /** The EIPs on the NIC no other node could carry, for the last snapshot and probe facts (see #holdEips). */
  readonly #standing = new PlanMemo<Snapshot, ReadonlySet<string>>();
  /** The mark index of each node in the last plan: kept whatever status says (see assignTunnels). */
  #lastMarks?: Readonly<Record<string, number>>;
  /** The snapshot and the holders by the probes (their key) the probe peers were taken from. */
  #peersFrom?: { readonly snapshot: Snapshot; readonly holders: string };
  /** The last snapshot planned (a SIGTERM's handoff checks there is a successor in it). */
  #lastSnapshot?: Snapshot;
  #handoff?: Handoff;
  #handoffTimer?: NodeJS.Timeout;
  /** The egress IPs the last apply left on the NIC. */
  #held: readonly string[] = [];
  #heldChanged?: () => void;
  #probesStarted = false;
  /** Renews the lifetime of the EIPs on the NIC while this agent runs (with probes only: peers take over when it dies). */
  #lifetime?: EipLifetime;
  /** When the probes first reported the change the next apply follows (performance.now()), for the failover histogram. */
  #detectedAt?: number;
  /** Log lines that break a failover's time down (set with the probes). */
  #trace?: FailoverTrace;
  /** Deletes conntrack entries of the paths an apply removed. */
  #conntrack?: ConntrackCleanup;

  constructor(private readonly options: NodeAgentOptions) {
    this.metrics = new Metrics({ processMetrics: true, build: options.build });
    this.#status = { node: options.nodeName, version: options.build.version, commit: options.build.commit, parentInterface: options.parentInterface, ready: false };
  }

  async start(): Promise<void> {
    const { options } = this;
    const log = options.log;
    this.#local = openLocalDataplane(options.config, log, {
      announce: true,
      probeEips: true,
      onAnnounced: (family) => this.metrics.announced(family),
      ...(options.sysctlRoot ? { sysctlRoot: options.sysctlRoot } : {}),
      stateDir: options.stateDir,
    });
    if (options.config.firewallDnsPort > 0 && options.firewallDns) {
      this.#dns = new FirewallDns({
        port: options.config.firewallDnsPort,
        ...options.firewallDns,
        nft: this.#local.nft,
        metrics: this.metrics,
        log: log.child({ subsystem: 'dns' }),
      });
    }
    this.#servers = await Promise.all([
      startMetricsServer(
        this.metrics,
        {
          healthy: () => this.#runningSince === undefined || performance.now() - this.#runningSince < STUCK_MS,
          ready: () => this.#status.ready,
        },
        options.metrics.host,
        options.metrics.port,
      ),
      startStatusServer({ status: () => this.status(), plan: () => this.#plan }, options.status.host, options.status.port),
    ]);
    this.#control = startControlPlane({
      kubeConfig: options.kubeConfig,
      nodeName: options.nodeName,
      namespace: options.leaseNamespace,
      config: options.config,
      parentInterface: options.parentInterface,
      elect: options.elect,
      lease: options.lease,
      logger: log.child({ component: 'kube' }),
    });
    this.#control.elector?.onLeadershipChange((now) => {
      this.metrics.leadership(now);
      log.info({ op: 'leader', leading: now }, now ? 'now the controller (holds the lease)' : 'no longer the controller');
    });
    const control = this.#control;
    // all publish onto this node's EgressTunnel
    const publishing = { client: control.client, store: control.store, watch: control.watch, nodeName: options.nodeName, logger: log.child({ component: 'kube' }) };
    this.#conflicts = keepEipConflictsPublished(publishing);
    this.#lanLink = keepLanLinkPublished(publishing);
    this.#reports = keepAppliedReportPublished(publishing);
    this.metrics.readAtScrape({
      ruleCounters: async () => identifyRuleCounters(await this.#local!.nft.counters(), this.#plan),
      apiRequests: () => control.client.counts,
      informerRestarts: () => control.watch.informerNames.map((informer) => ({ informer, restarts: control.watch.informer(informer)?.restarts ?? 0 })),
    });
    this.#feed = followSnapshots({
      store: this.#control.store,
      watch: this.#control.watch,
      config: options.config,
      logger: log.child({ component: 'reconcile' }),
      run: (snapshot, reasons) => this.#reconcile(snapshot, reasons),
    });
    const feed = this.#feed;
    // the linger covers the workers' switch: their probes hear the successor hold the EIPs within an interval or two
    if (options.probes) this.#handoff = new Handoff(options.probes.handoffTimeoutMs, 2 * options.probes.intervalMs + 50);
    this.#conntrack = new ConntrackCleanup(log.child({ subsystem: 'conntrack' }));
    if (options.probes && options.probes.eipLifetimeSeconds > 0) {
      this.#lifetime = new EipLifetime({
        lifetimeS: options.probes.eipLifetimeSeconds,
        renewMs: EIP_RENEW_MS,
        tag: this.#local.dataplane.addresses.tag,
        onError: (message) => log.warn({ op: 'eip' }, message),
      });
    }
    this.#kernelChanges = new KernelChanges({ onError: (message) => log.warn({ op: 'resync' }, message) });
    this.#resync = new Resync(options.resyncIntervalMs, () => feed.trigger(RESYNC_REASON), undefined, this.#kernelChanges);
    // A tunnel device changed by hand is repaired at once, not at the next resync.
    this.#deviceWatch = new DeviceWatch({
      expected: () => (this.#plan?.vxlan ? expectedDevice(this.#plan.vxlan) : undefined),
      onDrift: (why) => {
        log.warn({ op: 'drift', why }, "tunnel device changed behind sluice's back; repairing it");
        this.#resync?.repairNext();
        feed.trigger(RESYNC_REASON);
      },
      onError: (message) => log.warn({ op: 'drift' }, message),
    });
  }

  async #reconcile(snapshot: Snapshot, reasons: ReadonlySet<string>): Promise<void> {
    const log = this.options.log;
    const t0 = performance.now();
    this.#runningSince = t0;
    let result: 'ok' | 'error' = 'error';
    let resync: ResyncRun | undefined;
    let report: ApplyReport | undefined;
    let failure: ApplyFailure | undefined;
    // the probes' change this pass follows, if any (one seen during the pass is the next one's)
    const detectedAt = this.#detectedAt;
    this.#detectedAt = undefined;
    try {
      if (this.options.probes && !this.#probesStarted) await this.#startLiveness(snapshot, this.options.probes);
      const live = this.#liveness;
      if (live) this.#followPeers(snapshot, live);
      this.#lastSnapshot = snapshot;
      this.#publishLanLink(snapshot);
      live?.reviewStartHold((facts) => othersServe(snapshot, facts, this.options.nodeName));
      const probed = live?.facts();
      const planned = this.#planned.get(snapshot, probed?.key);
      let nodePlan: NodePlan;
      if (planned) nodePlan = planned.plan;
      else {
        const planStart = performance.now();
        try {
          nodePlan = planForNode(snapshot, {
            node: this.options.nodeName,
            parentInterface: this.options.parentInterface,
            ...(probed ? { probes: probed.facts } : {}),
            ...(this.#lastMarks ? { lastMarks: this.#lastMarks } : {}),
          });
        } catch (err) {
          this.#status = { ...this.#status, lastError: errorMessage(err) };
          throw err;
        }
        this.metrics.planComputed((performance.now() - planStart) / 1000);
      }
      this.#lastMarks = markIndexes(nodePlan);
      const fingerprint = planned?.fingerprint ?? ApplyGate.fingerprint(nodePlan);
      const appliedNow = planned?.applied ?? appliedPolicies(nodePlan, snapshot);
      this.#planned.set(snapshot, probed?.key ?? '', { plan: nodePlan, applied: appliedNow, fingerprint });
      if (!this.#handOverFirst(nodePlan, snapshot)) {
        result = 'ok';
        return;
      }
      const reported = new Set(this.#plan?.notices ?? []);
      for (const notice of nodePlan.notices ?? []) if (!reported.has(notice)) log.warn({ op: 'plan' }, notice);
      const store = this.#control!.store;
      this.metrics.inputProblems(store.clusterInfoInUse().state === 'last-good', store.inputProblems());
      const previous = this.#plan;
      this.#plan = nodePlan;
      this.#appliedPolicies = appliedNow;
      if (!this.#gate.shouldApply(fingerprint, reasons)) {
        this.#status = { ...this.#status, lastPlanAt: new Date().toISOString() };
        // the plan is the same, but whether another node could take its EIPs may not be (a peer fit again)
        this.#holdEips(nodePlan, snapshot, probed);
        result = 'ok';
        return;
      }
      resync = this.#resync!.begin(reasons, nodePlan.nft, this.#local!.nft);
      // Between resyncs, parts of the plan the last clean apply wrote are not read again.
      this.#lifetime?.narrow(new Set(nodePlan.eips.map((e) => e.ip)));
      const firewalls = localFirewallInputs(snapshot, this.options.nodeName);
      this.#dns?.prepare(firewallNameRules(firewalls));
      const applyStart = monotonicMs();
      report = await this.#local!.dataplane.apply(nodePlan, {
        full: resync?.full ?? false,
        reportedConflicts: new Set(snapshot.tunnels.flatMap((t) => (t.eipConflicts ?? []).map((c) => c.ip))),
        ...(probed ? { heldByPeers: heldByPeers(probed.facts, this.options.nodeName) } : {}),
      });
      this.#trace?.applied(report, applyStart, eipChanges(this.#held, nodePlan));
      this.#gate.applied(fingerprint, report.ok);
      if (report.ok && detectedAt !== undefined) this.#countTakeover(nodePlan, previous, detectedAt);
      // What is on the NIC, not what was planned: a planned EIP a LAN host answers for is not held,
      // and a peer told otherwise would take it over unprobed.
      this.#setHeld(report.held);
      if (report.ok) this.#conntrack?.afterApply(previous, nodePlan);
      this.#holdEips(nodePlan, snapshot, probed);
      live?.applied(report.ok, this.#held);
      // The forwarder learns for the rules by name of this node's pods, once their sets are in the kernel.
      if (report.ok && this.#dns) {
        const self = snapshot.nodes.find((n) => n.name === this.options.nodeName);
        await this.#dns.update(
          firewallNameRules(firewalls),
          [self?.ipv4, self?.ipv6].filter((a): a is string => a !== undefined),
        );
      }
      this.#followDenials(snapshot, firewalls);
      this.#reportConflicts(report);
      const at = new Date().toISOString();
      for (const [name, r] of Object.entries(report.subsystems)) this.metrics.applied(name, r.durationMs / 1000, r.writes, r.errors.length === 0);
      this.metrics.eips(nodePlan.eips.filter((e) => e.family === 4).length, nodePlan.eips.filter((e) => e.family === 6).length);
      this.metrics.policyCounts(countPolicies(nodePlan));
      this.#status = { ...this.#status, lastPlanAt: at, lastApply: applySummary(report, at), ...(report.ok ? { lastError: undefined } : {}) };
      if (report.writes > 0 || !report.ok) {
        const drift = resync && resync.nft !== 'full' && !resync.nft.intact ? { nftDrift: resync.nft.why } : {};
        log.info(
          {
            op: 'apply',
            reasons: [...reasons].slice(0, 5),
            writes: report.writes,
            ms: Math.round(report.durationMs),
            stepMs: stepTimes(report),
            ok: report.ok,
            roles: nodePlan.roles,
            eips: nodePlan.eips.map((e) => e.ip),
            ...drift,
          },
          report.ok ? 'kernel updated' : 'apply had errors',
        );
      }
      if (!report.ok) throw new Error(this.#status.lastApply!.errors.join('; '));
      result = 'ok';
      if (!this.#announcedReady) {
        this.#announcedReady = true;
        this.#status = { ...this.#status, ready: true };
        log.info({ op: 'ready' }, 'agent ready');
      }
    } catch (err) {
      this.#status = { ...this.#status, lastError: errorMessage(err) };
      failure = report ? { report } : { thrown: err, fallback: 'EGW_ERR_PLAN' };
      throw err;
    } finally {
      if (this.#appliedPolicies) this.#reports?.publish(appliedReport(this.#appliedPolicies, result === 'ok' ? undefined : failure));
      if (resync) resync.done(report, this.metrics);
      else if (reasons.has(RESYNC_REASON) && result !== 'ok') this.metrics.resynced('error', {});
      this.metrics.reconciled(result);
      this.metrics.reconcileTook((performance.now() - t0) / 1000);
      this.#runningSince = undefined;
    }
  }

  /**
   * The nodes to probe and to answer, from the snapshot and from who holds which egress IP by the
   * probes now: a carrier handing its EIPs over stays probed (and answers every node itself) while
   * it holds them, also once status names its successor (probedCarriers).
   */
  #followPeers(snapshot: Snapshot, live: NodeLiveness): void {
    const { facts } = live.facts();
    const key = JSON.stringify([...facts.holders]);
    if (this.#peersFrom?.snapshot === snapshot && this.#peersFrom.holders === key) return;
    live.setPeers(probePeers({ ...snapshot, probes: facts }, this.options.nodeName));
    this.#peersFrom = { snapshot, holders: key };
  }

  /** Publishes this node's NIC (MAC, node addresses and prefixes) for native routing; unchanged values write nothing. */
  #publishLanLink(snapshot: Snapshot): void {
    const self = snapshot.nodes.find((n) => n.name === this.options.nodeName);
    const addresses = [self?.ipv4, self?.ipv6].filter((a): a is string => a !== undefined);
    if (addresses.length > 0) this.#lanLink?.set(readLanLink(this.options.parentInterface, addresses));
  }

  /**
   * Whether the new plan may be applied now: when it drops egress IPs this node holds, not before
   * a live peer holds them (or the handoff timeout passed; at once when fenced). Meanwhile the
   * applied plan stays, and the agent looks again when the view changes or the wait ends.
   */
  #handOverFirst(nodePlan: NodePlan, snapshot: Snapshot): boolean {
    const live = this.#liveness;
    if (!live || !this.#handoff) return true;
    clearTimeout(this.#handoffTimer);
    const waiting = this.#handoff.waiting;
    const now = Date.now();
    const carriers = carriersOf(nodePlan);
    const decision = this.#handoff.decide({
      held: this.#held,
      next: nodePlan.eips.map((e) => e.ip),
      successorOf: (ip) => carriers.get(ip),
      heldBy: (node, ip) => live.heldBy(node, ip),
      urgent: live.fence !== 'open',
      now,
    });
    const log = this.options.log;
    // giving away every EIP it holds: draining meanwhile, as on SIGTERM (handoff.ts); a drained
    // node goes on saying so once it holds none, so that a peer whose API view of the drain is late
    // does not steer to it, or hand it the EIPs back, after it let them go
    live.leaving((!decision.release && decision.leaving) || (nodePlan.eips.length === 0 && drainedAside(snapshot, this.options.nodeName)));
    if (!decision.release) {
      if (!waiting) log.info({ op: 'handoff', eips: decision.waitingFor, draining: decision.leaving }, 'keeping egress IPs until a live peer holds them');
      this.#handoffTimer = setTimeout(() => this.#feed?.trigger('handoff', { urgent: true }), Math.max(0, decision.until - now) + 1);
      this.#handoffTimer.unref();
      return false;
    }
    if (decision.dropped.length > 0) {
      const why = live.fence !== 'open' ? 'fenced' : decision.timedOut ? 'timeout' : 'their next carrier holds them, or there is none';
      log.info({ op: 'handoff', eips: decision.dropped, why }, decision.timedOut ? 'no live peer holds these egress IPs yet; withdrawing them anyway' : 'withdrawing egress IPs');
    }
    return true;
  }

  /**
   * Starts the prober once, before the first plan, on this node's own addresses as its Node object
   * lists them (the same data its peers probe it at). A prober that cannot start leaves the agent
   * on the API alone, loudly. When another node could carry what this one would, this one stays
   * aside for the hold-down first, as the peers that saw it die do (SelfState).
   */
  async #startLiveness(snapshot: Snapshot, settings: ProbeSettings): Promise<void> {
    const self = snapshot.nodes.find((n) => n.name === this.options.nodeName);
    const addresses = [self?.ipv4, self?.ipv6].filter((a): a is string => a !== undefined);
    if (addresses.length === 0) return;
    this.#probesStarted = true;
    const log = this.options.log;
    const control = this.#control!;
    let prober: Awaited<ReturnType<typeof openProber>>;
    try {
      prober = await openProber(settings, this.options.nodeName, addresses, log.child({ subsystem: 'probes' }), this.metrics);
    } catch (err) {
      log.error({ op: 'probes', err: errorMessage(err) }, 'liveness probes could not start: failover waits for the API server');
      return;
    }
    const trace = new FailoverTrace(log.child({ subsystem: 'liveness' }));
    this.#trace = trace;
    prober.onChange(() => trace.viewChanged(prober.view()));
    const holdAtStart = replaceable(snapshot, this.options.nodeName);
    this.#liveness = new NodeLiveness({
      nodeName: this.options.nodeName,
      prober,
      api: { answers: (timeoutMs) => apiAnswers(control.client, timeoutMs), relist: () => control.watch.relist(), listedSince: (since) => control.watch.listedSince(since) },
      holdDownMs: settings.holdDownMs,
      windowMs: settings.intervalMs * settings.misses,
      holdAtStart,
      // with the last snapshot, at once: no API event is needed, and a pending retry does not hold it up
      onChange: (reason) => {
        this.#detectedAt ??= performance.now();
        this.#feed?.trigger(reason, { urgent: true });
      },
      log: log.child({ subsystem: 'liveness' }),
    });
    log.info(
      { op: 'probes', addresses, port: settings.port, intervalMs: settings.intervalMs, misses: settings.misses, holdAtStartMs: holdAtStart ? settings.holdDownMs : 0 },
      'liveness probes running',
    );
  }

  /**
   * An apply that added egress IPs after the probes saw a change: the failover histogram gets the
   * time from that detection, as a handoff when the node that carried them was draining.
   */
  #countTakeover(nodePlan: NodePlan, previous: NodePlan | undefined, detectedAt: number): void {
    const held = new Set(this.#held);
    const taken = nodePlan.eips.map((e) => e.ip).filter((ip) => !held.has(ip));
    if (taken.length === 0 || !this.#liveness || !previous) return;
    const before = carriersOf(previous);
    const peers = this.#liveness.view().peers;
    const handoff = taken.some((ip) => {
      const from = before.get(ip);
      const peer = from === undefined ? undefined : peers.get(from);
      return peer !== undefined && peer.alive && peer.draining;
    });
    this.metrics.observeFailover((performance.now() - detectedAt) / 1000, handoff ? 'handoff' : 'failover');
  }

  /** Renews the lifetime of the EIPs on the NIC; those no other node could take now are held for good. */
  #holdEips(nodePlan: NodePlan, snapshot: Snapshot, probed: { facts: ProbeFacts; key: string } | undefined): void {
    if (!this.#lifetime) return;
    const onNic = this.#onNic(nodePlan);
    const ips = onNic.map((e) => e.ip);
    if (!probed) return this.#lifetime.hold(onNic, new Set(ips));
    // one assignment per change of the cluster, the probes' word or the EIPs on the NIC, not per pass
    const key = `${probed.key}|${ips.join(',')}`;
    let orphans = this.#standing.get(snapshot, key);
    if (!orphans) this.#standing.set(snapshot, key, (orphans = withoutSuccessor(snapshot, probed.facts, this.options.nodeName, ips)));
    this.#lifetime.hold(onNic, orphans);
  }

  /** The planned EIPs that are on the NIC now (announced: the apply took them). */
  #onNic(nodePlan: NodePlan): HeldEip[] {
    const announced = new Set((this.#local?.announcer?.status() ?? []).map((a) => a.ip));
    return nodePlan.eips.filter((e) => announced.has(e.ip));
  }

  /** Denials are logged (config.firewallLogRate) once a firewall selects a pod of this node; lines name its firewalls' rules and pods. */
  #followDenials(snapshot: Snapshot, firewalls: readonly FirewallInput[]): void {
    const config = this.options.config;
    if (config.firewallLogRate === 0) return;
    if (!this.#denials && !firewalls.some((f) => f.local[4].length + f.local[6].length > 0)) return;
    this.#denials ??= new FirewallDenials({ group: config.firewallLogGroup, log: this.options.log.child({ subsystem: 'firewall' }), metrics: this.metrics });
    this.#denials.update({ rules: firewallRulesByComment(firewalls), pods: localFirewallPods(snapshot, this.options.nodeName) });
  }

  #setHeld(eips: readonly string[]): void {
    this.#held = eips;
    this.#heldChanged?.();
  }

  /**
   * On SIGTERM: answer as draining, so the successor adds the EIPs and announces them, and withdraw
   * them once it holds them (or after the handoff timeout). Only when every EIP held here has a
   * successor: a node that no other can replace keeps its EIPs in the kernel over a restart.
   * Resolves with what was handed over and how long it took.
   */
  async handOver(): Promise<{ eips: readonly string[]; ms: number } | undefined> {
    const live = this.#liveness;
    const held = this.#held;
    if (!live || !this.#lastSnapshot || held.length === 0 || !this.options.probes) return undefined;
    const log = this.options.log;
    if (!hasSuccessor(this.#lastSnapshot, live.facts().facts, this.options.nodeName, held)) {
      log.info({ op: 'handoff', eips: held }, 'no other node can carry these egress IPs now: keeping them in the kernel');
      return undefined;
    }
    const t0 = performance.now();
    const done = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, this.options.probes!.handoffTimeoutMs + 500);
      this.#heldChanged = () => {
        if (this.#held.length > 0) return;
        clearTimeout(timer);
        resolve();
      };
    });
    live.drain();
    await done;
    this.#heldChanged = undefined;
    const ms = Math.round(performance.now() - t0);
    log.info({ op: 'handoff', eips: held, ms, left: this.#held }, this.#held.length === 0 ? 'egress IPs handed over' : 'egress IPs not handed over in time');
    return { eips: held, ms };
  }

  /** EIPs another LAN host answers for: logged when they change, published on the node's EgressTunnel. */
  #reportConflicts(report: ApplyReport): void {
    const conflicts = report.eipConflicts ?? [];
    const before = this.#lastConflicts;
    this.#lastConflicts = new Set(conflicts.map((c) => c.ip));
    for (const c of conflicts)
      if (!before.has(c.ip)) this.options.log.warn({ op: 'eip', eip: c.ip, iface: c.ifname, mac: c.mac }, 'another host on the LAN answers for this egress IP: not taken');
    for (const ip of before) if (!this.#lastConflicts.has(ip)) this.options.log.info({ op: 'eip', eip: ip }, 'no other host answers for this egress IP any more');
    this.#conflicts?.set(conflicts);
  }

  status(): AgentStatus {
    return {
      ...this.#status,
      leader: this.#control?.elector?.isLeader ?? false,
      synced: this.#control?.watch.synced ?? false,
      ...(this.#plan ? { plan: this.#plan } : {}),
      announcements: (this.#local?.announcer?.status() ?? []).map((a) => ({
        ip: a.ip,
        ifname: a.ifname,
        framesSent: a.framesSent,
        ...(a.lastError ? { lastError: a.lastError.message } : {}),
      })),
      ...(this.#liveness ? { liveness: livenessStatus(this.#liveness.view()) } : {}),
    };
  }

  /**
   * Hands the EIPs to their successor (see handOver), then stops watching and hands the Lease over;
   * the kernel keeps the rest of its state so flows survive a restart.
   */
  async stop(): Promise<void> {
    await this.handOver().catch((err: unknown) => this.options.log.warn({ op: 'handoff', err: errorMessage(err) }, 'handoff failed'));
    // what was not handed over stays in the kernel over the restart
    await this.#lifetime?.stop(true);
    this.#resync?.stop();
    this.#kernelChanges?.stop();
    this.#deviceWatch?.stop();
    await this.#feed?.stop();
    clearTimeout(this.#handoffTimer);
    this.#liveness?.close();
    await this.#conntrack?.idle();
    await this.#conflicts?.reconciler.stop();
    await this.#lanLink?.reconciler.stop();
    await this.#reports?.stop();
    await this.#dns?.stop();
    await this.#denials?.close();
    await this.#control?.stop();
    await this.#local?.close();
    await Promise.all(this.#servers.map((srv) => srv.close()));
  }
}

/** Milliseconds each subsystem spent in an apply, for those that ran. */
function stepTimes(report: ApplyReport): Record<string, number> {
  return Object.fromEntries(
    Object.entries(report.subsystems)
      .filter(([, r]) => r.durationMs > 0)
      .map(([name, r]) => [name, Math.round(r.durationMs)]),
  );
}

function countPolicies(p: NodePlan): { role: string; state: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const x of p.policies) {
    const key = `${x.role}|${x.active ? 'active' : 'inactive'}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([k, count]) => {
    const [role, state] = k.split('|') as [string, string];
    return { role, state, count };
  });
}

/** The egress IPs an apply of `next` takes and releases, from those held now. */
function eipChanges(held: readonly string[], next: NodePlan): { taken: string[]; released: string[] } {
  const planned = new Set(next.eips.map((e) => e.ip));
  const now = new Set(held);
  return { taken: [...planned].filter((ip) => !now.has(ip)), released: held.filter((ip) => !planned.has(ip)) };
}

/** The egress IPs a node other than this one holds by the probes. */
function heldByPeers(facts: ProbeFacts, nodeName: string): Set<string> {
  return new Set([...facts.holders].filter(([, nodes]) => nodes.some((n) => n !== nodeName)).map(([ip]) => ip));
}
