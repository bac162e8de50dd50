/**
 * The lab kubelet (and scheduler and CNI): a daemon in the control namespace that watches every Pod and
 * keeps the lab's pod namespaces and the Pods' status in line with them (see pod-reconciler.ts).
 *   node kubelet-main.js --server http://127.0.0.1:6443 --lab-dir DIR [--resync-ms 2000]
 * Must run with `nsenter --net` (not `ip netns exec`) so the namespaces it adds are visible to everyone.
 */
import { Command } from 'commander';
import { pino } from 'pino';
import { ApiClient } from './api-client.js';
import { apiPaths } from './api-paths.js';
import { KUBELET_READY } from './control-plane-daemons.js';
import { fetchTransport } from './fetch-transport.js';
import type { PodObject } from './kube-types.js';
import { PodReconciler } from './pod-reconciler.js';
import { WatchCache } from './watch-cache.js';

const o = new Command()
  .requiredOption('--server <url>')
  .requiredOption('--lab-dir <dir>')
  .option('--resync-ms <ms>', 'full pass period, besides every watch event', Number, 2000)
  .parse()
  .opts<{ server: string; labDir: string; resyncMs: number }>();

const log = pino({ base: { component: 'lab-kubelet' } });
const api = new ApiClient(fetchTransport(o.server));
const reconciler = new PodReconciler(api, o.labDir, log);
const stop = new AbortController();

let running = false;
let again = false;
let ready = false;
let failing = false;
let watchFailing = false;

/** Coalesces triggers: at most one pass at a time, and one more if anything changed during it. */
async function kick(): Promise<void> {
  if (running) {
    again = true;
    return;
  }
  running = true;
  try {
    do {
      again = false;
      await reconciler.reconcile(cache.values());
    } while (again);
    if (failing) log.info('pod sync works again');
    failing = false;
  } catch (err) {
    if (!failing) log.warn({ err: String(err) }, 'pod sync failed; retrying');
    failing = true;
  } finally {
    running = false;
  }
}

const cache: WatchCache<PodObject> = new WatchCache<PodObject>(
  api,
  o.server,
  apiPaths.allPods,
  () => {
    watchFailing = false;
    // Ready once it sees the Pods, not after the first pass: that pass may wait for the lab lock, which
    // whoever starts this daemon holds until it is ready.
    if (!ready) log.info(KUBELET_READY);
    ready = true;
    void kick();
  },
  (err) => {
    if (!watchFailing) log.warn({ err: String(err) }, 'pod watch failed; listing again until it works');
    watchFailing = true;
  },
);
const timer = setInterval(() => void kick(), o.resyncMs);
const shutdown = () => {
  clearInterval(timer);
  stop.abort();
};
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
await cache.run(stop.signal);
process.exit(0);
