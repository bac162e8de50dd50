/** Helpers for controller tests against the in-memory test API server (passed in; lib/ never imports e2e/). */
import { kubeConfigForServer } from '../../kube/kubeconfig.js';
import { egressCrds } from '../../cluster/testing/crds.js';
import { waitFor } from '../../kube/testing/wait.js';
import type { JsonObject } from '../../kube/rest-client.js';
import { DEFAULT_CONFIG } from '../../planner/config.js';
import { startControlPlane, type ControlPlane, type ControlPlaneOptions } from '../control-plane.js';
import { startControllerProcess, type ControllerProcess } from '../controller-process.js';

/** The parts of e2e/apiserver's ApiServer these tests use. */
export interface TestApiServer {
  readonly url: string;
  readonly store: {
    apply(o: JsonObject): JsonObject;
    create(o: JsonObject): JsonObject;
    get(apiVersion: string, kind: string, name: string, namespace?: string): JsonObject;
    find(apiVersion: string, kind: string, name: string, namespace?: string): JsonObject | undefined;
    list(apiVersion: string, kind: string, options?: { namespace?: string; labelSelector?: string }): JsonObject[];
    update(o: JsonObject): JsonObject;
    updateStatus(o: JsonObject): JsonObject;
    delete(apiVersion: string, kind: string, name: string, namespace?: string): boolean;
  };
  readonly writes: {
    total(): number;
    count(resource: string, verb?: 'create' | 'update' | 'patch' | 'delete'): number;
    snapshot(): Record<string, Record<string, number>>;
    reset(): void;
  };
  readonly requestLog: readonly { method: string; path: string; status?: number }[];
  pause(mode?: 'refuse' | 'hang'): Promise<void>;
  resume(): Promise<void>;
  expireWatchHistory(): void;
}

/** Timings scaled down so failover and retries happen within a test's patience. */
export const FAST = {
  informer: { backoffInitialMs: 50, backoffMaxMs: 500, watch: { timeoutSeconds: 60, connectTimeoutMs: 1000, idleGraceMs: 1000 } },
  lease: { durationMs: 1000, renewIntervalMs: 150, renewDeadlineMs: 700 },
  reconcile: { minIntervalMs: 20, retryInitialMs: 100, retryMaxMs: 1000 },
  requestTimeoutMs: 2000,
} as const;

export function installCrds(server: TestApiServer): void {
  for (const crd of egressCrds()) server.store.apply(crd);
}

export function startTestPlane(url: string, nodeName: string, overrides: Partial<ControlPlaneOptions> = {}): ControlPlane {
  return startControlPlane({
    kubeConfig: kubeConfigForServer(url),
    nodeName,
    namespace: 'default',
    config: DEFAULT_CONFIG,
    ...FAST,
    ...overrides,
  });
}

/** A `sluice controller` replica with the test timings. */
export function startTestController(url: string, identity: string): ControllerProcess {
  return startControllerProcess({ kubeConfig: kubeConfigForServer(url), namespace: 'default', config: DEFAULT_CONFIG, identity, ...FAST });
}

function waitForLeader(plane: Pick<ControlPlane, 'controller' | 'watch' | 'elector'>, timeoutMs = 5000): Promise<true> {
  return waitFor(`${plane.elector?.identity} to lead with synced informers`, () => plane.controller.running && plane.watch.synced, timeoutMs);
}

/** Writes to our API group (Lease renewals and Events left out), from the server's counter. */
export function egressWrites(server: TestApiServer): number {
  return Object.entries(server.writes.snapshot())
    .filter(([resource]) => resource.includes('egress.sluice.dev'))
    .reduce((sum, [, verbs]) => sum + Object.values(verbs).reduce((a, b) => a + b, 0), 0);
}

/** Waits until the plane leads, its informers synced and its controller has nothing left to do. */
export async function settle(plane: Pick<ControlPlane, 'controller' | 'watch' | 'elector' | 'store'>, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  await waitForLeader(plane, timeoutMs);
  let quietSince = -1;
  let generation = -1;
  await waitFor(
    'the controller to settle',
    async () => {
      await plane.controller.idle();
      if (plane.store.generation !== generation || plane.controller.passes === 0) {
        generation = plane.store.generation;
        quietSince = Date.now();
        return false;
      }
      return Date.now() - quietSince >= 150;
    },
    Math.max(0, deadline - Date.now()),
    25,
  );
}
