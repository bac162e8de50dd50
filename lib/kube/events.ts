import { randomBytes } from 'node:crypto';
import type { KubeClient } from './rest-client.js';
import { EVENT_RESOURCE, resourcePath } from './resource.js';
import { kubeTime } from './conditions.js';
import { errorMessage } from '../errors.js';
import { silentLogger, type Logger } from './logger.js';

/** The object an Event is about. */
export interface EventSubject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  /** Empty for cluster-scoped objects; their Events go to the `default` namespace, as Kubernetes does. */
  readonly namespace?: string;
  readonly uid?: string;
}

export type EventType = 'Normal' | 'Warning';

/** Longest object name Kubernetes accepts (a DNS subdomain). */
const MAX_NAME = 253;

/**
 * `<subject>.<time><random>`, as kubectl shows Event names, cut so that it stays a valid name
 * when the subject's own name is already at the limit.
 */
export function eventName(subject: string): string {
  const suffix = `.${Date.now().toString(16)}${randomBytes(3).toString('hex')}`;
  return `${subject.slice(0, MAX_NAME - suffix.length).replace(/[.-]+$/, '')}${suffix}`;
}

/**
 * Posts core v1 Events. Best effort: a failure is logged, never thrown, so reporting cannot
 * stop reconciliation. Callers emit only on transitions (the writers know what changed).
 */
export class EventRecorder {
  /** Events posted successfully, by reason (tests and metrics). */
  readonly posted = new Map<string, number>();

  constructor(
    private readonly client: KubeClient,
    private readonly options: { component?: string; instance?: string; logger?: Logger } = {},
  ) {}

  async record(subject: EventSubject, type: EventType, reason: string, message: string, signal?: AbortSignal): Promise<void> {
    const namespace = subject.namespace || 'default';
    const now = kubeTime();
    const component = this.options.component ?? 'sluice-controller';
    const body = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: eventName(subject.name), namespace },
      involvedObject: {
        apiVersion: subject.apiVersion,
        kind: subject.kind,
        name: subject.name,
        ...(subject.namespace ? { namespace: subject.namespace } : {}),
        ...(subject.uid ? { uid: subject.uid } : {}),
      },
      type,
      reason,
      message,
      source: { component },
      reportingComponent: component,
      ...(this.options.instance ? { reportingInstance: this.options.instance } : {}),
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
    try {
      await this.client.create(resourcePath(EVENT_RESOURCE, { namespace }), body, signal);
      this.posted.set(reason, (this.posted.get(reason) ?? 0) + 1);
    } catch (err) {
      (this.options.logger ?? silentLogger()).warn({ op: 'event', reason, name: subject.name, err: errorMessage(err) }, 'could not post event');
    }
  }
}
