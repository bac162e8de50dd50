import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ProbeErrorCode, ProbeMetricsSink, RejectReason } from '../liveness/probe-observers.js';

/** How often the process metrics sample the event-loop delay (sluice_nodejs_eventloop_lag_*). */
export const EVENT_LOOP_SAMPLE_MS = 1000;

/** Packets and bytes an nft rule counted, with the rule's identity (see lib/planner/rule-comment.ts). */
export type RuleCounter =
  | { readonly kind: 'policy'; readonly policy: string; readonly rule: string; readonly packets: number; readonly bytes: number }
  | { readonly kind: 'guard'; readonly guard: string; readonly packets: number; readonly bytes: number }
  /** A firewall rule: `#N` (the Nth of spec.egress, from 0) or `default`. */
  | { readonly kind: 'firewall'; readonly firewall: string; readonly rule: string; readonly packets: number; readonly bytes: number };

/**
 * Totals kept elsewhere (the kernel, the API client, the informers), read when Prometheus scrapes
 * so the exported value is never older than the scrape.
 */
export interface ScrapeSources {
  ruleCounters?(): Promise<readonly RuleCounter[]>;
  /** Requests sent to the API server since start, by verb. */
  apiRequests?(): Readonly<Record<string, number>>;
  /** Restarts after errors since start, by informer. */
  informerRestarts?(): readonly { readonly informer: string; readonly restarts: number }[];
  /** Writes the controller sent since start, by step (only while it held the Lease). */
  controllerWrites?(): ReadonlyMap<string, number>;
  /** Policy status writes that followed a node's takeover report, by kind (failover, handoff). */
  statusTakeovers?(): ReadonlyMap<string, number>;
}

/** A gateway move as the agent that took over saw it: its old holder failed, or handed over. */
export type FailoverKind = 'failover' | 'handoff';

export interface BuildInfo {
  readonly version: string;
  readonly commit: string;
}

/**
 * Every metric sluice exports, behind named verbs so callers never touch prom-client directly.
 * One instance per process; tests create their own. Names follow Prometheus conventions
 * (`promtool check metrics`): counters end in `_total`, units are base units.
 */
export class Metrics implements ProbeMetricsSink {
  readonly registry = new Registry();
  #sources: ScrapeSources = {};
  private readonly buildInfo = new Gauge({
    name: 'sluice_build_info',
    help: 'always 1; the labels say which build runs',
    labelNames: ['version', 'commit', 'nodejs'],
    registers: [this.registry],
  });
  private readonly planSeconds = new Histogram({
    name: 'sluice_plan_duration_seconds',
    help: 'time to compile a NodePlan',
    buckets: [0.001, 0.005, 0.02, 0.1, 0.5, 2],
    registers: [this.registry],
  });
  private readonly reconcileSeconds = new Histogram({
    name: 'sluice_reconcile_duration_seconds',
    help: 'time of a whole reconcile: plan and apply to every kernel subsystem',
    buckets: [0.005, 0.02, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [this.registry],
  });
  private readonly applySeconds = new Histogram({
    name: 'sluice_apply_duration_seconds',
    help: 'time spent applying a NodePlan to one kernel subsystem',
    labelNames: ['subsystem'],
    buckets: [0.0005, 0.002, 0.01, 0.05, 0.25, 1, 5],
    registers: [this.registry],
  });
  private readonly kernelWrites = new Counter({
    name: 'sluice_kernel_writes_total',
    help: 'kernel changes made, by subsystem',
    labelNames: ['subsystem'],
    registers: [this.registry],
  });
  private readonly applyErrors = new Counter({
    name: 'sluice_apply_errors_total',
    help: 'applies of a subsystem that had errors, by subsystem',
    labelNames: ['subsystem'],
    registers: [this.registry],
  });
  private readonly lastApplyOk = new Gauge({
    name: 'sluice_apply_ok',
    help: '1 when the last apply of the subsystem succeeded',
    labelNames: ['subsystem'],
    registers: [this.registry],
  });
  private readonly policies = new Gauge({
    name: 'sluice_policies',
    help: 'policies known to this node, by role here and state',
    labelNames: ['role', 'state'],
    registers: [this.registry],
  });
  private readonly eipsHeld = new Gauge({ name: 'sluice_eips_held', help: 'egress IPs held by this node', labelNames: ['family'], registers: [this.registry] });
  private readonly announcements = new Counter({
    name: 'sluice_announcements_total',
    help: 'gratuitous ARP / unsolicited NA frames sent',
    labelNames: ['family'],
    registers: [this.registry],
  });
  private readonly leader = new Gauge({ name: 'sluice_leader', help: '1 while this process holds the controller lease', registers: [this.registry] });
  private readonly reconciles = new Counter({ name: 'sluice_reconciles_total', help: 'reconcile runs, by result', labelNames: ['result'], registers: [this.registry] });
  private readonly clusterInfoLastGood = new Gauge({
    name: 'sluice_cluster_info_last_good',
    help: '1 while plans use the last valid EgressClusterInfo because the stored one is invalid',
    registers: [this.registry],
  });
  private readonly rejectedObjects = new Gauge({
    name: 'sluice_rejected_objects',
    help: 'stored objects the parser rejected (rejected) or used without some controller-written fields (ignored_fields), by kind',
    labelNames: ['kind', 'handling'],
    registers: [this.registry],
  });
  private readonly dnsAnswers = new Counter({
    name: 'sluice_firewall_dns_answers_total',
    help: "answers of the firewall's DNS forwarder, by result (learned, passed, servfail, upstream-timeout, dropped, stranger)",
    labelNames: ['result'],
    registers: [this.registry],
  });
  private readonly dnsLearned = new Counter({
    name: 'sluice_firewall_dns_learned_addresses_total',
    help: 'addresses put into rules-by-name sets from DNS answers',
    registers: [this.registry],
  });
  private readonly dnsHold = new Histogram({
    name: 'sluice_firewall_dns_hold_seconds',
    help: 'time an answer was held until its addresses were in their sets',
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.25],
    registers: [this.registry],
  });
  private readonly dnsSteering = new Gauge({
    name: 'sluice_firewall_dns_steering',
    help: '1 while the DNS forwarder answers and pods with rules by name are steered to it; 0: their DNS goes straight to the cluster DNS and addresses are not learned (the firewall fails closed for new ones)',
    registers: [this.registry],
  });
  private readonly denialsLogged = new Counter({
    name: 'sluice_firewall_denials_logged_total',
    help: 'firewall denials the agent logged (read from nfnetlink_log), by firewall and rule ("other": a prefix no firewall of this node has)',
    labelNames: ['firewall', 'rule'],
    registers: [this.registry],
  });
  private readonly denialsUnlogged = new Counter({
    name: 'sluice_firewall_denials_unlogged_total',
    help: "firewall denials the kernel logged but the agent did not write: over the agent's line budget (budget, counted), or lost when its socket buffer was full (overflow, counts the times)",
    labelNames: ['reason'],
    registers: [this.registry],
  });
  private readonly denialLogReading = new Gauge({
    name: 'sluice_firewall_denial_log_reading',
    help: '1 while the agent reads the nfnetlink_log group of firewall denials; 0 when it cannot (the group is bound by another reader, say)',
    registers: [this.registry],
  });
  private readonly resyncs = new Counter({
    name: 'sluice_resyncs_total',
    help: 'periodic re-applies of the current plan (drift repair), by result',
    labelNames: ['result'],
    registers: [this.registry],
  });
  private readonly failoverSeconds = new Histogram({
    name: 'sluice_failover_seconds',
    help: 'time from detecting that a gateway node failed (or began handing over) to holding its egress IPs here, by kind (failover, handoff)',
    labelNames: ['kind'],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5],
    registers: [this.registry],
  });
  private readonly resyncWrites = new Counter({
    name: 'sluice_resync_kernel_writes_total',
    help: 'kernel changes made by periodic resyncs (drift repaired), by subsystem',
    labelNames: ['subsystem'],
    registers: [this.registry],
  });
  // Liveness probes (lib/liveness): peer labels are the current peer set only (probePeerGone).
  private readonly probeMisses = new Counter({
    name: 'sluice_probe_misses_total',
    help: 'liveness probe rounds a peer did not answer before the next one, by peer',
    labelNames: ['peer'],
    registers: [this.registry],
  });
  private readonly probeAlive = new Gauge({
    name: 'sluice_probe_peer_alive',
    help: '1 while a peer is alive by the liveness probes (heard directly or through another peer, after hold-down)',
    labelNames: ['peer'],
    registers: [this.registry],
  });
  private readonly probeRttSeconds = new Histogram({
    name: 'sluice_probe_rtt_seconds',
    help: 'round-trip time of liveness probes answered within the detection window',
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
    registers: [this.registry],
  });
  private readonly probeRejects = new Counter({
    name: 'sluice_probe_rejected_total',
    help: 'liveness datagrams dropped before use, by reason (unknown_source, name_mismatch, malformed)',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  private readonly probeErrors = new Counter({
    name: 'sluice_probe_errors_total',
    help: 'liveness prober errors (binding, sending, bad peers), by error code',
    labelNames: ['code'],
    registers: [this.registry],
  });

  constructor(options: { processMetrics?: boolean; build?: BuildInfo } = {}) {
    if (options.processMetrics) {
      // The event-loop delay is sampled by a timer: prom-client's default 10 ms woke an idle agent
      // 100 times a second (most of its wake-ups); once a second still catches a loop held for longer.
      collectDefaultMetrics({ register: this.registry, prefix: 'sluice_', eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
      // Gauges named like counters (promtool rejects them); nodejs_active_{handles,requests,resources} hold the same counts by type.
      for (const kind of ['handles', 'requests', 'resources']) this.registry.removeSingleMetric(`sluice_nodejs_active_${kind}_total`);
    }
    if (options.build) this.buildInfo.set({ version: options.build.version, commit: options.build.commit, nodejs: process.version }, 1);
    this.#registerScrapeTimeCounters();
  }

  /** Where the scrape-time totals come from; replaces earlier sources. */
  readAtScrape(sources: ScrapeSources): void {
    this.#sources = sources;
  }

  planComputed(seconds: number): void {
    this.planSeconds.observe(seconds);
  }

  reconcileTook(seconds: number): void {
    this.reconcileSeconds.observe(seconds);
  }

  /** One subsystem's part of an apply: its own time, its writes, and whether it had errors. */
  applied(subsystem: string, seconds: number, writes: number, ok: boolean): void {
    this.applySeconds.observe({ subsystem }, seconds);
    if (writes > 0) this.kernelWrites.inc({ subsystem }, writes);
    if (!ok) this.applyErrors.inc({ subsystem });
    this.lastApplyOk.set({ subsystem }, ok ? 1 : 0);
  }

  policyCounts(counts: readonly { role: string; state: string; count: number }[]): void {
    this.policies.reset();
    for (const c of counts) this.policies.set({ role: c.role, state: c.state }, c.count);
  }

  eips(v4: number, v6: number): void {
    this.eipsHeld.set({ family: 'ipv4' }, v4);
    this.eipsHeld.set({ family: 'ipv6' }, v6);
  }

  announced(family: 4 | 6, frames = 1): void {
    this.announcements.inc({ family: family === 4 ? 'ipv4' : 'ipv6' }, frames);
  }

  dnsAnswered(result: string, holdSeconds: number, learned: number): void {
    this.dnsAnswers.inc({ result });
    if (learned > 0) {
      this.dnsLearned.inc(learned);
      this.dnsHold.observe(holdSeconds);
    }
  }

  firewallDenialLogged(firewall: string, rule: string): void {
    this.denialsLogged.inc({ firewall, rule });
  }

  firewallDenialsUnlogged(reason: 'budget' | 'overflow', count: number): void {
    if (count > 0) this.denialsUnlogged.inc({ reason }, count);
  }

  firewallDenialLogReading(on: boolean): void {
    this.denialLogReading.set(on ? 1 : 0);
  }

  dnsSteeringOn(on: boolean): void {
    this.dnsSteering.set(on ? 1 : 0);
  }

  leadership(isLeader: boolean): void {
    this.leader.set(isLeader ? 1 : 0);
  }

  inputProblems(lastGoodClusterInfo: boolean, counts: readonly { kind: string; rejected: number; ignoredFields: number }[]): void {
    this.clusterInfoLastGood.set(lastGoodClusterInfo ? 1 : 0);
    for (const c of counts) {
      this.rejectedObjects.set({ kind: c.kind, handling: 'rejected' }, c.rejected);
      this.rejectedObjects.set({ kind: c.kind, handling: 'ignored_fields' }, c.ignoredFields);
    }
  }

  /** A periodic resync: its result, and the writes it made per subsystem (0 when nothing had drifted). */
  resynced(result: 'ok' | 'error', writes: Readonly<Record<string, number>>): void {
    this.resyncs.inc({ result });
    for (const [subsystem, n] of Object.entries(writes)) if (n > 0) this.resyncWrites.inc({ subsystem }, n);
  }

  /** This node took over egress IPs: `seconds` from detection (probes, or the handoff request) to holding them. */
  observeFailover(seconds: number, kind: FailoverKind): void {
    this.failoverSeconds.observe({ kind }, seconds);
  }

  probeMissed(peer: string): void {
    this.probeMisses.inc({ peer });
  }

  probePeerAlive(peer: string, alive: boolean): void {
    this.probeAlive.set({ peer }, alive ? 1 : 0);
  }

  probeRtt(seconds: number): void {
    this.probeRttSeconds.observe(seconds);
  }

  probeRejected(reason: RejectReason): void {
    this.probeRejects.inc({ reason });
  }

  probeError(code: ProbeErrorCode): void {
    this.probeErrors.inc({ code });
  }

  /** A peer left the probed set: its series go, so peer labels stay bounded to current peers. */
  probePeerGone(peer: string): void {
    this.probeMisses.remove({ peer });
    this.probeAlive.remove({ peer });
  }

  /** Called once per reconcile run. */
  reconciled(result: 'ok' | 'error'): void {
    this.reconciles.inc({ result });
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }

  /**
   * Counters whose totals live elsewhere: each scrape resets them and sets the current totals. A
   * total that went down (nft counters of a replaced table start again at 0) is a counter reset,
   * which Prometheus' rate() already handles.
   */
  #registerScrapeTimeCounters(): void {
    // Inside collect() `this` is the metric being collected.
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const metrics = this;
    const setTotals = (c: Counter<string>, rows: readonly [Record<string, string>, number][]) => {
      c.reset();
      for (const [labels, value] of rows) c.inc(labels, value);
    };
    // A scrape collects every metric at once: the four rule metrics share the one kernel read in flight.
    let inFlight: Promise<readonly RuleCounter[]> | undefined;
    const ruleRows = () => (inFlight ??= (metrics.#sources.ruleCounters?.() ?? Promise.resolve([])).catch((): readonly RuleCounter[] => []).finally(() => (inFlight = undefined)));
    const policyCounter = (name: string, help: string, field: 'packets' | 'bytes') =>
      new Counter({
        name,
        help,
        labelNames: ['policy', 'rule'],
        registers: [this.registry],
        async collect() {
          const rows = (await ruleRows()).flatMap((r) => (r.kind === 'policy' ? [[{ policy: r.policy, rule: r.rule }, r[field]] as [Record<string, string>, number]] : []));
          setTotals(this, rows);
        },
      });
    const guardCounter = (name: string, help: string, field: 'packets' | 'bytes') =>
      new Counter({
        name,
        help,
        labelNames: ['guard'],
        registers: [this.registry],
        async collect() {
          const rows = (await ruleRows()).flatMap((r) => (r.kind === 'guard' ? [[{ guard: r.guard }, r[field]] as [Record<string, string>, number]] : []));
          setTotals(this, rows);
        },
      });
    const firewallCounter = (name: string, help: string, field: 'packets' | 'bytes') =>
      new Counter({
        name,
        help,
        labelNames: ['firewall', 'rule'],
        registers: [this.registry],
        async collect() {
          const rows = (await ruleRows()).flatMap((r) => (r.kind === 'firewall' ? [[{ firewall: r.firewall, rule: r.rule }, r[field]] as [Record<string, string>, number]] : []));
          setTotals(this, rows);
        },
      });
    firewallCounter('sluice_firewall_packets_total', 'packets of new connections a firewall rule decided on this node (nft counter; rule "#N" or "default")', 'packets');
    firewallCounter('sluice_firewall_bytes_total', 'bytes of the packets a firewall rule decided on this node (nft counter)', 'bytes');
    policyCounter('sluice_policy_packets_total', 'packets matched by a policy rule on this node (nft counter)', 'packets');
    policyCounter('sluice_policy_bytes_total', 'bytes matched by a policy rule on this node (nft counter)', 'bytes');
    guardCounter('sluice_guard_packets_total', 'packets dropped by a guard rule on this node (nft counter)', 'packets');
    guardCounter('sluice_guard_bytes_total', 'bytes dropped by a guard rule on this node (nft counter)', 'bytes');
    new Counter({
      name: 'sluice_api_requests_total',
      help: 'requests sent to the Kubernetes API server, by verb',
      labelNames: ['verb'],
      registers: [this.registry],
      collect() {
        setTotals(
          this,
          Object.entries(metrics.#sources.apiRequests?.() ?? {}).map(([verb, n]) => [{ verb }, n]),
        );
      },
    });
    new Counter({
      name: 'sluice_controller_writes_total',
      help: 'writes the controller sent to the API server, by step',
      labelNames: ['step'],
      registers: [this.registry],
      collect() {
        setTotals(
          this,
          [...(metrics.#sources.controllerWrites?.() ?? new Map<string, number>())].map(([step, n]) => [{ step }, n]),
        );
      },
    });
    new Counter({
      name: 'sluice_status_takeovers_total',
      help: "policy status writes that followed a node's report that it took the policy over, before the API server knew, by kind (failover, handoff)",
      labelNames: ['kind'],
      registers: [this.registry],
      collect() {
        setTotals(
          this,
          [...(metrics.#sources.statusTakeovers?.() ?? new Map<string, number>())].map(([kind, n]) => [{ kind }, n]),
        );
      },
    });
    new Counter({
      name: 'sluice_informer_restarts_total',
      help: 'watches restarted after an error, by informer',
      labelNames: ['informer'],
      registers: [this.registry],
      collect() {
        setTotals(
          this,
          (metrics.#sources.informerRestarts?.() ?? []).map((r) => [{ informer: r.informer }, r.restarts]),
        );
      },
    });
  }
}
