import type { AppliedReportWire } from '../api/wire.js';
import { isRecord } from '../api/fields.js';
import type { JsonObject } from '../kube/rest-client.js';
import { resourcePath } from '../kube/resource.js';
import { sameContent } from '../kube/normalize.js';
import { RESOURCES } from './kinds.js';
import { keepOwnTunnel, type OwnTunnelOptions } from './own-tunnel.js';

export function appliedReportOf(tunnel: JsonObject | undefined): unknown {
  return tunnel && isRecord(tunnel.status) ? tunnel.status.applied : undefined;
}

/**
 * The merge patch that makes `status.applied` equal to `report`: keys the stored report has and
 * `report` lacks (ours from before, or anyone's) are deleted with null, lists are replaced whole.
 */
export function appliedReportPatch(report: AppliedReportWire, stored: unknown): JsonObject {
  const cleared = isRecord(stored)
    ? Object.fromEntries(
        Object.keys(stored)
          .filter((k) => !(k in report))
          .map((k) => [k, null]),
      )
    : {};
  return { status: { applied: { ...cleared, ...report } } };
}

export interface AppliedReportPublisher {
  /** The report of the apply that just ended; published when it differs from what is stored. */
  publish(report: AppliedReportWire): void;
  stop(): Promise<void>;
}

/**
 * Keeps this node's applied report in its EgressTunnel's status (one merge patch of the status
 * subresource per change, none while nothing changed). It waits for the tunnel to exist (the
 * controller creates it, or the parent-interface publisher does).
 */
export function keepAppliedReportPublished(options: OwnTunnelOptions): AppliedReportPublisher {
  const path = resourcePath(RESOURCES.EgressTunnel, { name: options.nodeName, subresource: 'status' });
  let desired: AppliedReportWire | undefined;
  const reconciler = keepOwnTunnel(options, {
    name: 'applied-report',
    write: async (tunnel, signal) => {
      if (!desired || !tunnel) return undefined;
      const stored = appliedReportOf(tunnel);
      return sameContent(stored, desired) ? undefined : options.client.mergePatch(path, appliedReportPatch(desired, stored), signal);
    },
  });
  return {
    publish(report) {
      if (desired && sameContent(desired, report)) return;
      desired = report;
      reconciler.trigger('applied');
    },
    stop: () => reconciler.stop(),
  };
}
