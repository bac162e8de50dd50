/**
 * Fans store changes out to watchers and keeps a bounded per-resource history, so a watch can resume from a
 * resourceVersion. Asking for a version older than the history is the 410 Expired case.
 */
import { expired } from './api-error.js';
import type { JsonObject } from './json.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: WatchEventType;
  resourceVersion: number;
  object: JsonObject;
  /** The object before a MODIFIED change; lets selector watches turn it into ADDED or DELETED. */
  previous?: JsonObject;
}

export interface WatchSubscriber {
  matches(object: JsonObject): boolean;
  deliver(type: WatchEventType, object: JsonObject): void;
  /** Ends the watch (resource removed, server paused or closed). */
  close(): void;
}

interface History {
  events: StoreEvent[];
  /** Every event with a resourceVersion above this one is still in `events`. */
  compactedThrough: number;
}

export class WatchHub {
  private readonly histories = new Map<string, History>();
  private readonly subscribers = new Map<string, Set<WatchSubscriber>>();
  private baseCompactedThrough = 0;

  constructor(private readonly historyLimit: number) {}

  private history(key: string): History {
    let history = this.histories.get(key);
    if (!history) {
      history = { events: [], compactedThrough: this.baseCompactedThrough };
      this.histories.set(key, history);
    }
    return history;
  }

  publish(key: string, event: StoreEvent): void {
    const history = this.history(key);
    history.events.push(event);
    while (history.events.length > this.historyLimit) {
      const dropped = history.events.shift();
      if (dropped) history.compactedThrough = dropped.resourceVersion;
    }
    for (const subscriber of [...(this.subscribers.get(key) ?? [])]) deliverTo(subscriber, event);
  }

  /**
   * Replays the events after `sinceResourceVersion`, then keeps the subscriber informed.
   * Throws 410 Expired when those events are no longer kept.
   */
  subscribe(key: string, sinceResourceVersion: number | undefined, subscriber: WatchSubscriber): () => void {
    if (sinceResourceVersion !== undefined) {
      const history = this.history(key);
      if (sinceResourceVersion < history.compactedThrough) {
        throw expired(`too old resource version: ${sinceResourceVersion} (${history.compactedThrough + 1})`);
      }
      for (const event of history.events) {
        if (event.resourceVersion > sinceResourceVersion) deliverTo(subscriber, event);
      }
    }
    let set = this.subscribers.get(key);
    if (!set) {
      set = new Set();
      this.subscribers.set(key, set);
    }
    set.add(subscriber);
    return () => {
      this.subscribers.get(key)?.delete(subscriber);
    };
  }

  closeResource(key: string): void {
    for (const subscriber of [...(this.subscribers.get(key) ?? [])]) subscriber.close();
    this.subscribers.delete(key);
    this.histories.delete(key);
  }

  closeAll(): void {
    for (const set of this.subscribers.values()) for (const subscriber of [...set]) subscriber.close();
    this.subscribers.clear();
  }

  /** Forgets every kept event: a watch from any older resourceVersion now gets 410 (restart or test hook). */
  compactAll(throughResourceVersion: number): void {
    this.baseCompactedThrough = throughResourceVersion;
    for (const history of this.histories.values()) {
      history.events = [];
      history.compactedThrough = throughResourceVersion;
    }
  }

  watcherCount(): number {
    let count = 0;
    for (const set of this.subscribers.values()) count += set.size;
    return count;
  }
}

function deliverTo(subscriber: WatchSubscriber, event: StoreEvent): void {
  const matchesNow = subscriber.matches(event.object);
  if (event.type !== 'MODIFIED') {
    if (matchesNow) subscriber.deliver(event.type, event.object);
    return;
  }
  const matchedBefore = event.previous ? subscriber.matches(event.previous) : false;
  if (matchesNow) subscriber.deliver(matchedBefore ? 'MODIFIED' : 'ADDED', event.object);
  else if (matchedBefore && event.previous) {
    const leaving = structuredClone(event.previous);
    (leaving.metadata as JsonObject).resourceVersion = String(event.resourceVersion);
    subscriber.deliver('DELETED', leaving);
  }
}
