import type { AppliedReportWire } from '../api/wire.js';
import { isRecord } from '../api/fields.js';
import { isNotFound } from './api-error.js';
import type { JsonObject, KubeClient } from './rest-client.js';
import { RESOURCES, resourcePath, watchSourceOf } from './resources.js';
import { sameContent } from './normalize.js';
import type { ClusterStore } from './store.js';
import type { ClusterWatch } from './cluster-watch.js';
import { Reconciler } from './reconciler.js';
import type { Logger } from './logger.js';

export function appliedReportOf(tunnel: JsonObject | undefined): unknown {
  return tunnel && isRecord(tunnel.status) ? tunnel.status.applied : undefined;
}

/**
 * The merge patch that makes `status.applied` equal to `report`: keys the stored report has and
 * `report` lacks (ours from before, or anyone's) are deleted with null, lists are replaced whole.
 */
export function appliedReportPatch(report: AppliedReportWire, stored: unknown): JsonObject {
  const cleared = isRecord(stored) ? Object.fromEntries(Object.keys(stored).filter((k) => !(k in report)).map((k) => [k, null])) : {};
  return { status: { applied: { ...cleared, ...report } } };
}

export interface AppliedReportPublisher {
  /** The report of the apply that just ended; published when it differs from what is stored. */
  publish(report: AppliedReportWire): void;
  stop(): Promise<void>;
}

/**
 * Keeps this node's applied report in its EgressTunnel's status (one merge patch of the status
 * subresource per change, none while nothing changed). It checks again after every change to
 * that tunnel, so a report someone else overwrote is written back. It waits for the tunnel to
 * exist (the controller creates it, or the parent-interface publisher does).
 */
export function keepAppliedReportPublished(options: { client: KubeClient; store: ClusterStore; watch: ClusterWatch; nodeName: string; logger?: Logger }): AppliedReportPublisher {
  const { client, store, watch, nodeName } = options;
  const path = `${resourcePath(RESOURCES.EgressTunnel, { name: nodeName })}/status`;
  let desired: AppliedReportWire | undefined;
  const off: (() => void)[] = [];
  const reconciler = new Reconciler({
    name: 'applied-report',
    onStop: () => off.forEach((f) => f()),
    run: async ({ signal }) => {
      const tunnel = store.get('EgressTunnel', nodeName)?.raw;
      if (!desired || !watch.synced || !tunnel) return;
      const stored = appliedReportOf(tunnel);
      if (sameContent(stored, desired)) return;
      try {
        const written = await client.mergePatch(path, appliedReportPatch(desired, stored), signal);
        store.upsert(watchSourceOf('EgressTunnel'), 'EgressTunnel', written, { ifNewer: true });
      } catch (err) {
        // deleted meanwhile: published again once it is back (its upsert triggers this)
        if (!isNotFound(err)) throw err;
      }
    },
    ...(options.logger ? { logger: options.logger } : {}),
  });
  off.push(store.subscribe((c) => c.kind === 'EgressTunnel' && c.key === nodeName && reconciler.trigger('tunnel')));
  off.push(watch.onSynced(() => reconciler.trigger('synced')));
  return {
    publish(report) {
      if (desired && sameContent(desired, report)) return;
      desired = report;
      reconciler.trigger('applied');
    },
    stop: () => reconciler.stop(),
  };
}
