/**
 * The last changes the store committed, each with the server's wall-clock time (epoch milliseconds,
 * sub-millisecond resolution), so a benchmark can time what happened in the cluster on the server's
 * side: when an object was created, when a controller's status write landed, when a Pod turned
 * Ready. Bounded: the oldest entries go first.
 */
import { performance } from 'node:perf_hooks';
import type { JsonObject } from './json.js';
import { nameOf, namespaceOf } from './object-meta.js';
import type { StoreChange } from './object-store.js';

export interface JournalEntry {
  readonly resourceVersion: number;
  /** When the store committed the change (epoch ms). */
  readonly at: number;
  readonly type: StoreChange['type'];
  /** `pods`, `egresspolicies.egress.sluice.dev`, … */
  readonly resource: string;
  readonly namespace?: string;
  readonly name: string;
  readonly object: JsonObject;
}

export class ChangeJournal {
  private readonly entries: JournalEntry[] = [];

  constructor(private readonly limit: number) {}

  record(change: StoreChange): void {
    const namespace = namespaceOf(change.object);
    this.entries.push({
      resourceVersion: change.resourceVersion,
      at: performance.timeOrigin + performance.now(),
      type: change.type,
      resource: change.resource,
      ...(namespace ? { namespace } : {}),
      name: nameOf(change.object),
      object: change.object,
    });
    if (this.entries.length > this.limit) this.entries.splice(0, this.entries.length - this.limit);
  }

  /** Entries after `resourceVersion`, of the given resources only when any are named. */
  since(resourceVersion: number, resources: readonly string[] = []): JournalEntry[] {
    return this.entries.filter((e) => e.resourceVersion > resourceVersion && (resources.length === 0 || resources.includes(e.resource)));
  }
}
