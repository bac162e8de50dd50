import type { Endpoint } from '../api/model.js';

const MAX_ENDPOINTS_PER_SLICE = 100;

export interface SliceContent {
  readonly name: string;
  readonly endpoints: readonly Endpoint[];
}

/** What to do with a policy's slices; unchanged slices appear in none of the lists. */
export interface SliceLayout {
  readonly create: SliceContent[];
  readonly update: SliceContent[];
  readonly remove: string[];
}

function endpointKey(e: Endpoint): string {
  return `${e.namespace}/${e.pod}`;
}

function sameEndpoint(a: Endpoint, b: Endpoint): boolean {
  return a.node === b.node && a.ipv4.join() === b.ipv4.join() && a.ipv6.join() === b.ipv6.join();
}

const byKey = (a: Endpoint, b: Endpoint) => (endpointKey(a) < endpointKey(b) ? -1 : endpointKey(a) > endpointKey(b) ? 1 : 0);

interface Working {
  readonly name: string;
  endpoints: Endpoint[];
  changed: boolean;
  readonly fresh: boolean;
}

/**
 * Distributes a policy's endpoints over slices of at most `max`, changing as few slices as
 * possible (as the Kubernetes EndpointSlice controller does): an endpoint stays in the slice
 * that holds it, gone ones are dropped in place, new ones go first into slices that are written
 * anyway, then into other slices with room, then into new slices. One pod joining or leaving
 * touches one slice. Empty slices are removed: a policy that selects no pod has no slice at all,
 * as in spidernet, and gets one again with its next pod.
 */
export function layoutSlices(desired: readonly Endpoint[], existing: readonly SliceContent[], newName: () => string, max = MAX_ENDPOINTS_PER_SLICE): SliceLayout {
  const wanted = new Map(desired.map((e) => [endpointKey(e), e]));
  const placed = new Set<string>();
  const slices: Working[] = [...existing]
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .map((s) => {
      const w: Working = { name: s.name, endpoints: [], changed: false, fresh: false };
      for (const e of s.endpoints) {
        const key = endpointKey(e);
        const want = wanted.get(key);
        if (!want || placed.has(key) || w.endpoints.length >= max) {
          w.changed = true;
          continue;
        }
        placed.add(key);
        if (!sameEndpoint(e, want)) w.changed = true;
        w.endpoints.push(want);
      }
      return w;
    });
  const waiting = desired.filter((e) => !placed.has(endpointKey(e)));
  const fill = (w: Working) => {
    const room = max - w.endpoints.length;
    if (room <= 0 || waiting.length === 0) return;
    w.endpoints.push(...waiting.splice(0, room));
    w.changed = true;
  };
  slices.filter((w) => w.changed).forEach(fill);
  slices
    .filter((w) => !w.changed)
    .sort((a, b) => a.endpoints.length - b.endpoints.length)
    .forEach(fill);
  while (waiting.length > 0) {
    const w: Working = { name: newName(), endpoints: [], changed: true, fresh: true };
    fill(w);
    slices.push(w);
  }
  const kept = slices.filter((w) => w.endpoints.length > 0);
  const remove = slices.filter((w) => !kept.includes(w) && !w.fresh).map((w) => w.name);
  const out = (w: Working): SliceContent => ({ name: w.name, endpoints: [...w.endpoints].sort(byKey) });
  return {
    create: kept.filter((w) => w.fresh).map(out),
    update: kept.filter((w) => !w.fresh && w.changed).map(out),
    remove,
  };
}
