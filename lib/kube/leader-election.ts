import * as k8s from '@kubernetes/client-node';
import { EgressError, errorMessage } from '../errors.js';
import { silentLogger, type Logger } from './logger.js';

export const DEFAULT_LEASE_NAME = 'sluice-controller';

export interface LeaderElectorOptions {
  readonly kubeConfig: k8s.KubeConfig;
  /** Namespace of the Lease: the agent's own namespace. */
  readonly namespace: string;
  readonly name?: string;
  /** Unique per agent process (node name plus a random suffix). */
  readonly identity: string;
  /** How long a Lease stays valid without renewal (sent as whole seconds, at least 1). */
  readonly leaseDurationMs?: number;
  /** Renewal and retry period. */
  readonly renewIntervalMs?: number;
  /** The holder steps down when it could not renew for this long; must be below leaseDurationMs. */
  readonly renewDeadlineMs?: number;
  /** Called when this agent becomes leader; the signal aborts the moment leadership is lost. */
  readonly onStartedLeading: (signal: AbortSignal) => void | Promise<void>;
  /** Called after the signal was aborted; awaited before the Lease is released on stop(). */
  readonly onStoppedLeading: () => void | Promise<void>;
  readonly logger?: Logger;
}

type Attempt = 'leading' | 'held' | 'conflict';

function leaseCode(err: unknown): number | undefined {
  return err instanceof k8s.ApiException ? err.code : undefined;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new EgressError('EGW_ERR_KUBE', `${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function timeText(value: unknown): string {
  return value instanceof Date ? value.toISOString() : String(value ?? '');
}

/**
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go does it: a candidate takes
 * the Lease when it is free or its holder did not renew for leaseDurationSeconds (measured on
 * the local clock from when this agent last saw the Lease change, so clock skew does not
 * matter); the holder renews every renewInterval and steps down, aborting all controller work,
 * as soon as a renewal is refused or none succeeded for renewDeadline. stop() steps down and
 * then releases the Lease so a successor takes over without waiting for expiry.
 */
export class LeaderElector {
  isLeader = false;
  /** Times this agent became leader. */
  acquisitions = 0;

  private readonly api: k8s.CoordinationV1Api;
  private readonly name: string;
  private readonly leaseDurationMs: number;
  private readonly renewIntervalMs: number;
  private readonly renewDeadlineMs: number;
  private readonly logger: Logger;
  private timer: NodeJS.Timeout | undefined;
  private deadline: NodeJS.Timeout | undefined;
  private work: AbortController | undefined;
  private observedVersion = '';
  private observedAt = 0;
  /** When the Lease another agent holds expires if it is not renewed (local clock). */
  private heldUntil = 0;
  private stopped = true;
  private ticking: Promise<void> | undefined;
  private transition: Promise<void> = Promise.resolve();
  private readonly leadershipListeners = new Set<(leading: boolean) => void>();

  constructor(private readonly options: LeaderElectorOptions) {
    this.api = options.kubeConfig.makeApiClient(k8s.CoordinationV1Api);
    this.name = options.name ?? DEFAULT_LEASE_NAME;
    this.leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.renewIntervalMs = options.renewIntervalMs ?? 5_000;
    this.renewDeadlineMs = options.renewDeadlineMs ?? Math.round((this.leaseDurationMs * 2) / 3);
    this.logger = options.logger ?? silentLogger();
    if (!(this.renewIntervalMs > 0 && this.renewIntervalMs < this.renewDeadlineMs && this.renewDeadlineMs < this.leaseDurationMs)) {
      throw new EgressError('EGW_ERR_CONFIG', 'leader election: need 0 < renewInterval < renewDeadline < leaseDuration');
    }
  }

  get identity(): string {
    return this.options.identity;
  }

  /**
   * Calls `listener` each time this agent becomes leader (true) or steps down (false), at the moment
   * isLeader changes; returns a function that removes it. For what must follow leadership without
   * polling isLeader (metrics, logs).
   */
  onLeadershipChange(listener: (leading: boolean) => void): () => void {
    this.leadershipListeners.add(listener);
    return () => this.leadershipListeners.delete(listener);
  }

  private tellLeadership(leading: boolean): void {
    for (const listener of [...this.leadershipListeners]) {
      try {
        listener(leading);
      } catch (err) {
        this.logger.error({ op: 'lease', err: errorMessage(err) }, 'leadership listener failed');
      }
    }
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /** Steps down (awaiting onStoppedLeading) and releases the Lease if held. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.ticking;
    const wasLeader = this.isLeader;
    if (wasLeader) this.stepDown('stopping');
    await this.transition;
    if (wasLeader) await this.release();
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => {
      this.ticking = this.tick().finally(() => (this.ticking = undefined));
    }, ms);
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    let attempt: Attempt | 'error';
    try {
      attempt = await withTimeout(this.tryAcquireOrRenew(), this.renewDeadlineMs, 'lease');
    } catch (err) {
      attempt = 'error';
      this.logger.warn({ op: 'lease', lease: this.name, err: errorMessage(err) }, 'lease update failed');
    }
    if (this.stopped) return;
    if (attempt === 'leading') {
      this.armDeadline();
      if (!this.isLeader) this.becomeLeader();
    } else if (this.isLeader && attempt !== 'error') {
      // someone else holds it now (or won the write): stop at once
      this.stepDown(attempt === 'held' ? 'lease taken by another agent' : 'renewal lost a write race');
    }
    // poll on the renew period, but try again the moment a held Lease would expire
    const untilExpiry = attempt === 'held' ? Math.max(0, this.heldUntil - Date.now() + 5) : Infinity;
    this.schedule(Math.min(this.renewIntervalMs, untilExpiry));
  }

  private leaseSeconds(): number {
    return Math.max(1, Math.ceil(this.leaseDurationMs / 1000));
  }

  private async tryAcquireOrRenew(): Promise<Attempt> {
    const { namespace } = this.options;
    const now = new k8s.V1MicroTime(Date.now());
    let lease: k8s.V1Lease;
    try {
      lease = await this.api.readNamespacedLease({ name: this.name, namespace });
    } catch (err) {
      if (leaseCode(err) !== 404) throw err;
      try {
        const created = await this.api.createNamespacedLease({
          namespace,
          body: {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name: this.name, namespace },
            spec: { holderIdentity: this.identity, leaseDurationSeconds: this.leaseSeconds(), acquireTime: now, renewTime: now, leaseTransitions: 0 },
          },
        });
        this.observe(created);
        return 'leading';
      } catch (createErr) {
        if (leaseCode(createErr) === 409) return 'conflict';
        throw createErr;
      }
    }
    this.observe(lease);
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const durationMs = (spec.leaseDurationSeconds ?? this.leaseSeconds()) * 1000;
    this.heldUntil = this.observedAt + durationMs;
    if (holder && holder !== this.identity && this.heldUntil > Date.now()) return 'held';
    const mine = holder === this.identity;
    const body: k8s.V1Lease = {
      ...lease,
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      spec: {
        ...spec,
        holderIdentity: this.identity,
        leaseDurationSeconds: this.leaseSeconds(),
        acquireTime: mine && spec.acquireTime ? spec.acquireTime : now,
        renewTime: now,
        leaseTransitions: (spec.leaseTransitions ?? 0) + (mine ? 0 : 1),
      },
    };
    try {
      this.observe(await this.api.replaceNamespacedLease({ name: this.name, namespace, body }));
    } catch (err) {
      if (leaseCode(err) === 409) return 'conflict';
      throw err;
    }
    if (!mine) this.logger.info({ op: 'lease', lease: this.name, previous: holder || '(none)' }, 'lease acquired');
    return 'leading';
  }

  private observe(lease: k8s.V1Lease): void {
    const version = `${lease.metadata?.resourceVersion ?? ''}|${lease.spec?.holderIdentity ?? ''}|${timeText(lease.spec?.renewTime)}`;
    if (version !== this.observedVersion) {
      this.observedVersion = version;
      this.observedAt = Date.now();
    }
  }

  private armDeadline(): void {
    if (this.deadline) clearTimeout(this.deadline);
    // fires even when a renewal hangs: the holder must stop before anyone else may start
    this.deadline = setTimeout(() => this.isLeader && this.stepDown(`no renewal for ${this.renewDeadlineMs} ms`), this.renewDeadlineMs);
  }

  private becomeLeader(): void {
    this.isLeader = true;
    this.acquisitions++;
    this.work = new AbortController();
    const signal = this.work.signal;
    this.logger.info({ op: 'lease', lease: this.name, identity: this.identity }, 'became leader');
    this.tellLeadership(true);
    this.transition = this.transition.then(async () => {
      try {
        if (!signal.aborted) await this.options.onStartedLeading(signal);
      } catch (err) {
        this.logger.error({ op: 'lease', err: errorMessage(err) }, 'onStartedLeading failed');
      }
    });
  }

  private stepDown(why: string): void {
    if (!this.isLeader) return;
    this.isLeader = false;
    if (this.deadline) clearTimeout(this.deadline);
    this.deadline = undefined;
    this.work?.abort(new EgressError('EGW_ERR_NOT_LEADER', `lost the ${this.name} Lease: ${why}`));
    this.logger.warn({ op: 'lease', lease: this.name, why }, 'stopped leading');
    this.tellLeadership(false);
    this.transition = this.transition.then(async () => {
      try {
        await this.options.onStoppedLeading();
      } catch (err) {
        this.logger.error({ op: 'lease', err: errorMessage(err) }, 'onStoppedLeading failed');
      }
    });
  }

  private async release(): Promise<void> {
    try {
      const lease = await withTimeout(this.api.readNamespacedLease({ name: this.name, namespace: this.options.namespace }), this.renewDeadlineMs, 'lease');
      if (lease.spec?.holderIdentity !== this.identity) return;
      const now = new k8s.V1MicroTime(Date.now());
      await withTimeout(
        this.api.replaceNamespacedLease({
          name: this.name,
          namespace: this.options.namespace,
          body: { ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: now, acquireTime: now } },
        }),
        this.renewDeadlineMs,
        'lease',
      );
      this.logger.info({ op: 'lease', lease: this.name }, 'lease released');
    } catch (err) {
      this.logger.warn({ op: 'lease', lease: this.name, err: errorMessage(err) }, 'could not release the lease; it expires by itself');
    }
  }
}
