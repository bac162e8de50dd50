import type { Endpoint, EndpointSlice } from '../api/model.js';
import { deepFreeze } from '../api/freeze.js';

const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);
const sameEndpoint = (a: Endpoint, b: Endpoint) => a.node === b.node && sameList(a.ipv4, b.ipv4) && sameList(a.ipv6, b.ipv6);
const podKey = (e: Endpoint) => `${e.namespace}/${e.pod}`;

/**
 * One Endpoint object per pod for all the slices that list it alike. A pod selected by several
 * policies is in a slice of each (335300 endpoints of 100k pods at bench/scale's size), and every
 * slice parses into endpoints of its own: about 120 bytes each, twice as much as the table that
 * shares them costs per pod. Counted per slice that holds it, so a pod leaves the table with the
 * last slice: a slice that `adopt` returned is given back to `release` when the store drops it.
 * An endpoint that differs from the shared one of its pod (the pod moved or changed addresses,
 * and not every slice says so yet) stays the slice's own.
 */
export class SharedEndpoints {
  readonly #byPod = new Map<string, { readonly endpoint: Endpoint; refs: number }>();

  /** Pods in the table. */
  get size(): number {
    return this.#byPod.size;
  }

  /** The slice with the shared endpoints in place of its own (the same slice when it has no shared one yet). */
  adopt(slice: EndpointSlice): EndpointSlice {
    let replaced = false;
    const endpoints = slice.endpoints.map((e) => {
      const key = podKey(e);
      const entry = this.#byPod.get(key);
      if (entry === undefined) {
        this.#byPod.set(key, { endpoint: e, refs: 1 });
        return e;
      }
      if (entry.endpoint !== e && !sameEndpoint(entry.endpoint, e)) return e;
      entry.refs++;
      replaced ||= entry.endpoint !== e;
      return entry.endpoint;
    });
    return replaced ? deepFreeze({ ...slice, endpoints }) : slice;
  }

  /** Gives back the endpoints of a slice `adopt` returned. */
  release(slice: EndpointSlice): void {
    for (const e of slice.endpoints) {
      const key = podKey(e);
      const entry = this.#byPod.get(key);
      if (entry?.endpoint !== e) continue;
      if (--entry.refs === 0) this.#byPod.delete(key);
    }
  }
}
