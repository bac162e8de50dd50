import { EgressError, errorMessage } from '../errors.js';
import { isRecord } from '../api/fields.js';
import { isKubeStatus, isNotFound } from './api-error.js';
import { LEASE_RESOURCE, resourcePath } from './resource.js';
import type { JsonObject, KubeClient } from './rest-client.js';
import { silentLogger, type Logger } from './logger.js';

export const DEFAULT_LEASE_NAME = 'sluice-controller';

export interface LeaderElectorOptions {
  readonly client: KubeClient;
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

/** The fields of a coordination.k8s.io/v1 LeaseSpec this election reads, validated (another writer may have put anything there). */
interface LeaseSpec {
  readonly holderIdentity: string;
  readonly leaseDurationSeconds?: number;
  readonly acquireTime?: string;
  readonly renewTime?: string;
  readonly leaseTransitions: number;
}

function leaseSpecOf(lease: JsonObject): LeaseSpec {
  const spec = isRecord(lease.spec) ? lease.spec : {};
  const count = (v: unknown) => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined);
  const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const duration = count(spec.leaseDurationSeconds);
  const acquireTime = text(spec.acquireTime);
  const renewTime = text(spec.renewTime);
  return {
    holderIdentity: text(spec.holderIdentity) ?? '',
    ...(duration ? { leaseDurationSeconds: duration } : {}),
    ...(acquireTime ? { acquireTime } : {}),
    ...(renewTime ? { renewTime } : {}),
    leaseTransitions: count(spec.leaseTransitions) ?? 0,
  };
}

/** metav1.MicroTime: RFC 3339 with six fractional digits, as client-go writes a Lease's times. */
function microTime(ms: number = Date.now()): string {
  return new Date(ms).toISOString().replace(/Z$/, '000Z');
}

/** A write lost to another writer: a stale resourceVersion (Conflict) or a Lease created meanwhile (AlreadyExists). */
const lostRace = (err: unknown): boolean => isKubeStatus(err, 409);

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new EgressError('EGW_ERR_KUBE', `${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go does it: a candidate takes
 * the Lease when it is free or its holder did not renew for leaseDurationSeconds (measured on
 * the local clock from when this agent last saw the Lease change, so clock skew does not
 * matter); the holder renews every renewInterval and steps down, aborting all controller work,
 * as soon as a renewal is refused or none succeeded for renewDeadline. stop() steps down and
 * then releases the Lease if it still names this agent (also after such a step-down), so a
 * successor takes over without waiting for expiry.
 */
export class LeaderElector {
  isLeader = false;
  /** Times this agent became leader. */
  acquisitions = 0;
  /** Whether this process ever wrote the Lease in its own name (stop() releases it then). */
  private wroteLease = false;

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
  private offAnsweringAgain: (() => void) | undefined;

  constructor(private readonly options: LeaderElectorOptions) {
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
    // the API server back after an outage: renew or take the Lease now, not at the next period
    this.offAnsweringAgain = this.options.client.onAnsweringAgain(() => this.tickNow());
    this.schedule(0);
  }

  private tickNow(): void {
    if (this.stopped || this.ticking || !this.timer) return;
    clearTimeout(this.timer);
    this.schedule(0);
  }

  /** Steps down (awaiting onStoppedLeading) and releases the Lease if held. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.offAnsweringAgain?.();
    this.offAnsweringAgain = undefined;
    if (this.timer) clearTimeout(this.timer);
    await this.ticking;
    if (this.isLeader) this.stepDown('stopping');
    await this.transition;
    // Also after a missed renew deadline, or when a tick running as stop() began wrote the Lease:
    // it may still name this process, and a successor would otherwise wait for it to expire.
    // release() leaves a Lease someone else holds alone.
    if (this.wroteLease) await this.release();
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
    if (attempt === 'leading') this.wroteLease = true;
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

  private leasePath(): string {
    return resourcePath(LEASE_RESOURCE, { namespace: this.options.namespace, name: this.name });
  }

  private async tryAcquireOrRenew(): Promise<Attempt> {
    const { client, namespace } = this.options;
    const now = microTime();
    let lease: JsonObject;
    try {
      lease = await client.get(this.leasePath());
    } catch (err) {
      if (!isNotFound(err)) throw err;
      try {
        const created = await client.create(resourcePath(LEASE_RESOURCE, { namespace }), {
          apiVersion: LEASE_RESOURCE.apiVersion,
          kind: LEASE_RESOURCE.kind,
          metadata: { name: this.name, namespace },
          spec: { holderIdentity: this.identity, leaseDurationSeconds: this.leaseSeconds(), acquireTime: now, renewTime: now, leaseTransitions: 0 },
        });
        this.observe(created);
        return 'leading';
      } catch (createErr) {
        if (lostRace(createErr)) return 'conflict';
        throw createErr;
      }
    }
    this.observe(lease);
    const spec = leaseSpecOf(lease);
    const holder = spec.holderIdentity;
    const durationMs = (spec.leaseDurationSeconds ?? this.leaseSeconds()) * 1000;
    this.heldUntil = this.observedAt + durationMs;
    if (holder && holder !== this.identity && this.heldUntil > Date.now()) return 'held';
    const mine = holder === this.identity;
    const body: JsonObject = {
      ...lease,
      apiVersion: LEASE_RESOURCE.apiVersion,
      kind: LEASE_RESOURCE.kind,
      spec: {
        ...(isRecord(lease.spec) ? lease.spec : {}),
        holderIdentity: this.identity,
        leaseDurationSeconds: this.leaseSeconds(),
        acquireTime: mine && spec.acquireTime ? spec.acquireTime : now,
        renewTime: now,
        leaseTransitions: spec.leaseTransitions + (mine ? 0 : 1),
      },
    };
    try {
      this.observe(await client.replace(this.leasePath(), body));
    } catch (err) {
      if (lostRace(err)) return 'conflict';
      throw err;
    }
    if (!mine) this.logger.info({ op: 'lease', lease: this.name, previous: holder || '(none)' }, 'lease acquired');
    return 'leading';
  }

  private observe(lease: JsonObject): void {
    const meta = isRecord(lease.metadata) ? lease.metadata : {};
    const spec = leaseSpecOf(lease);
    const version = `${typeof meta.resourceVersion === 'string' ? meta.resourceVersion : ''}|${spec.holderIdentity}|${spec.renewTime ?? ''}`;
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
    const { client } = this.options;
    try {
      const lease = await withTimeout(client.get(this.leasePath()), this.renewDeadlineMs, 'lease');
      if (leaseSpecOf(lease).holderIdentity !== this.identity) return;
      const now = microTime();
      const spec = { ...(isRecord(lease.spec) ? lease.spec : {}), holderIdentity: '', leaseDurationSeconds: 1, renewTime: now, acquireTime: now };
      await withTimeout(client.replace(this.leasePath(), { ...lease, spec }), this.renewDeadlineMs, 'lease');
      this.logger.info({ op: 'lease', lease: this.name }, 'lease released');
    } catch (err) {
      this.logger.warn({ op: 'lease', lease: this.name, err: errorMessage(err) }, 'could not release the lease; it expires by itself');
    }
  }
}
