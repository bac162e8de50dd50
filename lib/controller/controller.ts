import { reconcileFirewallStatus } from './firewall-status.js';
import type { AgentConfig } from '../planner/config.js';
import type { ClusterStore } from '../cluster/store.js';
import { ObjectWriter } from '../cluster/object-writer.js';
import type { EventRecorder } from '../kube/events.js';
import type { KubeClient } from '../kube/rest-client.js';
import { Reconciler, type ReconcileContext } from '../kube/reconciler.js';
import { kubeTime } from '../kube/conditions.js';
import { silentLogger, type Logger } from '../kube/logger.js';
import { EgressError } from '../errors.js';
import { RESOURCES, type StoreKind } from '../cluster/kinds.js';
import type { ControllerContext, PassReport } from './context.js';
import type { Snapshot } from '../planner/snapshot.js';
import { reconcileClusterInfo } from './cluster-info.js';
import { reconcileTunnels } from './tunnel-status.js';
import { reconcilePolicyStatus } from './policy-status.js';
import { reconcileGatewayStatus } from './gateway-status.js';
import { reportInvalidDrains } from './node-drain-events.js';
import { reconcileEndpointSlices } from './endpoint-slices.js';
import { ClaimOrder } from './claim-order.js';
import { reportLookup } from './policy-programmed.js';
import { resolveFollowingTakeovers, withTakeovers, type FollowedResolution } from './takeovers.js';
import { planRebalance, withRebalanceMoves, type RebalancePlan } from './rebalance.js';
import { readRebalanceStatus } from './rebalance-status.js';
import { resolveCluster } from '../planner/resolve.js';
import type { MoveKind } from './gateway-moves.js';

export interface ControllerOptions {
  readonly client: KubeClient;
  readonly store: ClusterStore;
  /** True once every informer the controller depends on has listed (ClusterWatch.synced as leader). */
  readonly isSynced: () => boolean;
  readonly config: AgentConfig;
  readonly events: EventRecorder;
  readonly logger?: Logger;
  readonly minIntervalMs?: number;
  readonly retryInitialMs?: number;
  readonly retryMaxMs?: number;
  /**
   * Whether this process may take the Lease (default true). Only then does it date the reports it
   * sees from the start (see ClaimOrder): an agent that never leads need not parse every node's.
   */
  readonly mayLead?: boolean;
}

/** Only reported status changed: a node's applied report, or a policy's conditions (StoreChange 'report'). */
const REPORT = 'Report';
type StepInput = StoreKind | typeof REPORT;

interface Step {
  readonly name: string;
  /** Store kinds whose changes can change this step's output; other changes skip it. */
  readonly inputs: readonly StepInput[];
  readonly run: (ctx: ControllerContext) => Promise<PassReport>;
}

const POLICIES: readonly StoreKind[] = ['EgressPolicy', 'EgressClusterPolicy'];
const FIREWALLS: readonly StoreKind[] = ['EgressFirewall', 'EgressClusterFirewall'];
const SLICES: readonly StoreKind[] = ['EgressEndpointSlice', 'EgressClusterEndpointSlice'];

/**
 * The steps of one pass, in order: tunnels and cluster info first, since node plans need them;
 * slices before policy status, whose Programmed condition waits for the nodes they list.
 */
const STEPS: readonly Step[] = [
  { name: 'cluster-info', inputs: ['Node', 'EgressClusterInfo'], run: reconcileClusterInfo },
  { name: 'tunnels', inputs: ['Node', 'EgressGateway', 'EgressTunnel'], run: reconcileTunnels },
  { name: 'endpoint-slices', inputs: ['Pod', 'Namespace', ...POLICIES, ...FIREWALLS, ...SLICES], run: reconcileEndpointSlices },
  // The assignment also reads tunnels (a node needs a mark to be eligible) and cluster info (node and pod addresses).
  // Namespaces: the default gateway of policies that name none comes from a namespace label.
  { name: 'policy-status', inputs: ['Node', 'Namespace', 'EgressGateway', 'EgressTunnel', 'EgressClusterInfo', ...POLICIES, ...SLICES, REPORT], run: reconcilePolicyStatus },
  { name: 'firewall-status', inputs: FIREWALLS, run: reconcileFirewallStatus },
  { name: 'node-drain', inputs: ['Node'], run: reportInvalidDrains },
  // Reports: a rebalance moves its next unit once the last one's new node applied it.
  { name: 'gateway-status', inputs: ['Node', 'Namespace', 'EgressGateway', 'EgressTunnel', 'EgressClusterInfo', ...POLICIES, REPORT], run: reconcileGatewayStatus },
];

const STORE_KINDS = new Set<string>(Object.keys(RESOURCES));

/**
 * Which steps a set of trigger reasons needs (Cilium's events bitmap): a change of one kind runs
 * only the steps reading it, so pod churn touches the slices alone. Any other reason (leader,
 * synced, retry) runs everything.
 */
export function stepsFor(reasons: ReadonlySet<string>): Set<string> {
  const kinds = [...reasons].map((r) => {
    const [kind = '', type] = r.split(' ');
    return type === 'report' ? REPORT : kind;
  });
  if (kinds.some((k) => !STORE_KINDS.has(k) && k !== REPORT)) return new Set(STEPS.map((s) => s.name));
  return new Set(STEPS.filter((s) => s.inputs.some((k) => kinds.includes(k))).map((s) => s.name));
}

/**
 * Cluster-level work, run only by the Lease holder: one serialized reconcile loop over the
 * store, triggered by every store change, doing nothing until the informers have synced.
 * start() takes the leadership signal: when it aborts, in-flight requests are cancelled and
 * no further write is sent.
 */
export class Controller {
  /** Writes sent, by step (tests read it; a quiet cluster keeps it still). */
  readonly writes = new Map<string, number>();
  /** Policy status writes that followed a node's takeover report, by kind (sluice_status_takeovers_total). */
  readonly takeovers = new Map<MoveKind, number>();
  private reconciler: Reconciler | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly writer: ObjectWriter;
  private readonly logger: Logger;
  /** Dates reports from construction when this process may lead, so once it takes the Lease it knows which came first. */
  private claimOrder: ClaimOrder | undefined;
  /** Refused claims already logged (the current ones only). */
  private refusedLogged = new Set<string>();
  /** The tunnel marks written while this process leads (see ControllerContext.tunnelMarks). */
  private tunnelMarks: { last: Readonly<Record<string, number>> } = { last: {} };

  constructor(private readonly options: ControllerOptions) {
    this.writer = new ObjectWriter(options.client, options.store);
    this.logger = options.logger ?? silentLogger();
    if (options.mayLead !== false) this.claimOrder = this.newClaimOrder();
  }

  private newClaimOrder(): ClaimOrder {
    return new ClaimOrder(this.options.store, reportLookup(this.options.store, this.logger));
  }

  get running(): boolean {
    return this.reconciler !== undefined;
  }

  get passes(): number {
    return this.reconciler?.runs ?? 0;
  }

  start(leadership: AbortSignal): void {
    if (this.reconciler) return;
    const reconciler = new Reconciler({
      name: 'controller',
      run: (rc) => this.pass(rc, leadership),
      ...(this.options.minIntervalMs !== undefined ? { minIntervalMs: this.options.minIntervalMs } : {}),
      ...(this.options.retryInitialMs !== undefined ? { retryInitialMs: this.options.retryInitialMs } : {}),
      ...(this.options.retryMaxMs !== undefined ? { retryMaxMs: this.options.retryMaxMs } : {}),
      logger: this.logger,
    });
    this.reconciler = reconciler;
    // another leader may have given marks meanwhile: status is the truth until this one writes
    this.tunnelMarks = { last: {} };
    const offStore = this.options.store.subscribe((change) => reconciler.trigger(`${change.kind} ${change.type}`));
    // writes the outage failed (a followed takeover's status above all) go out when the API server is back
    const offAnswering = this.options.client.onAnsweringAgain(() => reconciler.retryNow());
    this.unsubscribe = () => {
      offStore();
      offAnswering();
    };
    leadership.addEventListener('abort', () => void this.stop(), { once: true });
    reconciler.trigger('leader');
  }

  /** Asks for a pass (e.g. after the informers synced). */
  trigger(reason: string): void {
    this.reconciler?.trigger(reason);
  }

  /** Resolves when no pass is pending or running (tests). */
  async idle(): Promise<void> {
    await this.reconciler?.idle();
  }

  async stop(): Promise<void> {
    const reconciler = this.reconciler;
    this.reconciler = undefined;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    await reconciler?.stop();
  }

  private async pass(rc: ReconcileContext, leadership: AbortSignal): Promise<void> {
    if (!this.options.isSynced()) return;
    const signal = AbortSignal.any([rc.signal, leadership]);
    if (leadership.aborted) throw new EgressError('EGW_ERR_NOT_LEADER', 'not the Lease holder');
    const { store, config, events } = this.options;
    const errors: unknown[] = [];
    const wanted = stepsFor(rc.reasons);
    let followed: (FollowedResolution & { rebalance: RebalancePlan }) | undefined;
    const follow = (snapshot: Snapshot) => {
      if (!followed) {
        const reports = reportLookup(store, this.logger);
        const taken = resolveFollowingTakeovers(snapshot, (this.claimOrder ??= this.newClaimOrder()), reports);
        this.logRefused(taken);
        const withTaken = withTakeovers(snapshot, taken.takeovers);
        const rebalance = planRebalance(withTaken, taken.resolution, (gateway) => readRebalanceStatus(store.get('EgressGateway', gateway)?.raw), reports);
        const resolution = rebalance.moves.size > 0 ? resolveCluster(withRebalanceMoves(withTaken, rebalance.moves)) : taken.resolution;
        followed = { ...taken, resolution, rebalance };
      }
      return followed;
    };
    for (const step of STEPS.filter((s) => wanted.has(s.name))) {
      const snapshot = store.snapshot(config);
      const ctx: ControllerContext = {
        snapshot,
        resolution: () => follow(snapshot).resolution,
        takeovers: () => follow(snapshot).takeovers,
        rebalance: () => follow(snapshot).rebalance,
        store,
        writer: this.writer,
        events,
        config,
        signal,
        logger: this.logger,
        now: kubeTime(),
        tunnelMarks: this.tunnelMarks,
      };
      const report = await step.run(ctx);
      for (const [kind, n] of report.takeovers) this.takeovers.set(kind, (this.takeovers.get(kind) ?? 0) + n);
      if (report.total) {
        this.writes.set(step.name, (this.writes.get(step.name) ?? 0) + report.total);
        this.logger.debug({ op: 'reconcile', step: step.name, writes: Object.fromEntries(report.writes) }, 'controller wrote');
      }
      errors.push(...report.errors);
    }
    if (errors.length) throw new AggregateError(errors, `${errors.length} controller writes failed`);
  }

  private logRefused({ refused }: FollowedResolution): void {
    const now = new Set<string>();
    for (const r of refused) {
      const id = `${r.node} ${r.policyKey} ${r.since}`;
      now.add(id);
      if (!this.refusedLogged.has(id)) this.logger.warn({ op: 'takeover', node: r.node, policy: r.policyKey, why: r.why }, 'takeover claim refused');
    }
    this.refusedLogged = now;
  }
}
