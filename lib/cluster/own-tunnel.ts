import { isNotFound } from '../kube/api-error.js';
import type { JsonObject, KubeClient } from '../kube/rest-client.js';
import { Reconciler } from '../kube/reconciler.js';
import type { Logger } from '../kube/logger.js';
import { isRecord } from '../api/fields.js';
import { resourcePath } from '../kube/resource.js';
import { RESOURCES, watchSourceOf } from './kinds.js';
import type { ClusterStore } from './store.js';
import type { ClusterWatch } from './cluster-watch.js';

export interface OwnTunnelOptions {
  readonly client: KubeClient;
  readonly store: ClusterStore;
  readonly watch: ClusterWatch;
  readonly nodeName: string;
  readonly logger?: Logger;
}

/**
 * One thing a node keeps on its own EgressTunnel. `write` gets the stored tunnel (undefined while
 * there is none) and sends what makes it as wanted, returning the server's answer, or undefined
 * when nothing had to be written.
 */
export interface OwnTunnelPart {
  readonly name: string;
  write(stored: JsonObject | undefined, signal: AbortSignal): Promise<JsonObject | undefined>;
}

/**
 * Keeps a part of this node's EgressTunnel as the node wants it: `write` runs once the watch has
 * synced, again after every change to that tunnel (so a value someone else overwrote is written
 * back), whenever the returned Reconciler is triggered (the wanted value changed), and a write
 * that failed again as soon as the API server answers after an outage (not after its backoff).
 * The answer goes into the store at once. A tunnel deleted meanwhile (404) is written again when
 * it is back: its upsert triggers this.
 */
export function keepOwnTunnel(options: OwnTunnelOptions, part: OwnTunnelPart): Reconciler {
  const { store, watch, nodeName } = options;
  const off: (() => void)[] = [];
  const reconciler = new Reconciler({
    name: part.name,
    onStop: () => off.forEach((f) => f()),
    run: async ({ signal }) => {
      if (!watch.synced) return;
      try {
        const written = await part.write(store.get('EgressTunnel', nodeName)?.raw, signal);
        if (written) store.upsert(watchSourceOf('EgressTunnel'), 'EgressTunnel', written, { ifNewer: true });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    },
    ...(options.logger ? { logger: options.logger } : {}),
  });
  off.push(store.subscribe((c) => c.kind === 'EgressTunnel' && c.key === nodeName && reconciler.trigger('tunnel')));
  off.push(watch.onSynced(() => reconciler.trigger('synced')));
  // a write the outage failed lands when the API server is back, not after the rest of its backoff
  off.push(options.client.onAnsweringAgain(() => reconciler.retryNow()));
  reconciler.trigger('start');
  return reconciler;
}

/** One annotation of this node's EgressTunnel, kept at the value last `set` (undefined: none). */
export interface OwnAnnotation {
  readonly reconciler: Reconciler;
  set(value: string | undefined): void;
}

/**
 * Keeps `annotation` on this node's EgressTunnel at the value last `set`, one merge patch per
 * change, waiting for the tunnel to exist. Nothing is written before the first `set` (a restart
 * keeps the old value until the node has said what it found).
 */
export function keepOwnAnnotation(options: OwnTunnelOptions, name: string, annotation: string): OwnAnnotation {
  let wanted: string | undefined;
  let known = false;
  const reconciler = keepOwnTunnel(options, {
    name,
    write: async (tunnel, signal) => {
      if (!known || !tunnel || annotationOf(tunnel, annotation) === wanted) return undefined;
      const patch = { metadata: { annotations: { [annotation]: wanted ?? null } } };
      return options.client.mergePatch(resourcePath(RESOURCES.EgressTunnel, { name: options.nodeName }), patch, signal);
    },
  });
  return {
    reconciler,
    set(value) {
      if (known && value === wanted) return;
      known = true;
      wanted = value;
      reconciler.trigger(name);
    },
  };
}

/** A string annotation of a wire object, if it carries one. */
export function annotationOf(object: JsonObject | undefined, key: string): string | undefined {
  const meta = object && isRecord(object.metadata) ? object.metadata : undefined;
  const annotations = meta && isRecord(meta.annotations) ? meta.annotations : undefined;
  const value = annotations?.[key];
  return typeof value === 'string' ? value : undefined;
}
