/**
 * An informer in miniature: lists a resource, then watches it from the list's resourceVersion, keeping a
 * local copy. Resumes a watch the server ended; lists again after 410 Expired or any error (the API
 * server went away), with a short backoff. `onChange` fires after every change and every (re)list.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiStatusError, type ApiClient } from './api-client.js';
import type { ObjectMeta, WatchEvent } from './kube-types.js';
import { watchStream } from './watch-stream.js';

const BACKOFF_MS = [200, 500, 1000, 2000];

export class WatchCache<T extends { metadata: ObjectMeta }> {
  private readonly objects = new Map<string, T>();
  private listed = false;

  constructor(
    private readonly api: ApiClient,
    private readonly baseUrl: string,
    private readonly path: string,
    private readonly onChange: () => void,
    private readonly onError: (err: unknown) => void,
  ) {}

  get synced(): boolean {
    return this.listed;
  }

  values(): T[] {
    return [...this.objects.values()];
  }

  /** Runs until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      try {
        const list = await this.api.list<T>(this.path);
        this.objects.clear();
        for (const o of list.items) this.objects.set(key(o), o);
        this.listed = true;
        failures = 0;
        this.onChange();
        await this.watchFrom(list.resourceVersion, signal);
      } catch (err) {
        if (signal.aborted) return;
        this.onError(err);
        await sleep(BACKOFF_MS[Math.min(failures++, BACKOFF_MS.length - 1)], undefined, { signal }).catch(() => undefined);
      }
    }
  }

  /** Watches until the history is gone (410) or an error; a stream the server ended is resumed. */
  private async watchFrom(resourceVersion: string, signal: AbortSignal): Promise<void> {
    let rv = resourceVersion;
    let expired = false;
    const apply = (e: WatchEvent<T>) => {
      if (e.type === 'ERROR') {
        expired = true;
        return;
      }
      rv = e.object.metadata.resourceVersion ?? rv;
      if (e.type === 'BOOKMARK') return;
      if (e.type === 'DELETED') this.objects.delete(key(e.object));
      else this.objects.set(key(e.object), e.object);
      this.onChange();
    };
    while (!signal.aborted && !expired) {
      try {
        await watchStream<T>(this.baseUrl, this.path, rv, signal, apply);
      } catch (err) {
        if (err instanceof ApiStatusError && err.status === 410) return;
        throw err;
      }
    }
  }
}

function key(o: { metadata: ObjectMeta }): string {
  return `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}
