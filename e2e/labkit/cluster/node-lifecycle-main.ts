/**
 * The lab's node lifecycle controller (a daemon in the control namespace): every period it lists Nodes and
 * node Leases and marks nodes unreachable or Ready again (see node-health.ts).
 *   node node-lifecycle-main.js --server http://127.0.0.1:6443 --grace-seconds 40 [--period-ms 500]
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Command } from 'commander';
import { pino } from 'pino';
import { ApiClient, isStatus } from './api-client.js';
import { apiPaths } from './api-paths.js';
import { fetchTransport } from './fetch-transport.js';
import { kubeTime, type LeaseObject, type NodeObject } from './kube-types.js';
import { NODE_LIFECYCLE_READY } from './control-plane-daemons.js';
import { NodeHealthTracker, nodeMarking, type NodeVerdict } from './node-health.js';

const o = new Command()
  .requiredOption('--server <url>')
  .requiredOption('--grace-seconds <s>', 'node grace period', Number)
  .option('--period-ms <ms>', 'poll period', Number, 500)
  .parse()
  .opts<{ server: string; graceSeconds: number; periodMs: number }>();

const log = pino({ base: { component: 'node-lifecycle' } });
const api = new ApiClient(fetchTransport(o.server));
const tracker = new NodeHealthTracker(o.graceSeconds * 1000);
const stop = new AbortController();
process.once('SIGTERM', () => stop.abort());
process.once('SIGINT', () => stop.abort());

async function mark(node: NodeObject, verdict: NodeVerdict): Promise<void> {
  const name = node.metadata.name;
  const m = nodeMarking(node, verdict, kubeTime());
  // Taints first, guarded by the resourceVersion we judged; a conflict is retried next period.
  await api.patch(apiPaths.node(name), {
    metadata: { resourceVersion: node.metadata.resourceVersion },
    spec: { taints: m.taints.length > 0 ? m.taints : null },
  });
  await api.patch(apiPaths.nodeStatus(name), { status: { conditions: m.conditions } });
  log.info({ node: name, verdict }, verdict === 'ready' ? 'node Ready' : 'node unreachable: marked NotReady and tainted');
}

let ready = false;
let failing = false;

async function poll(): Promise<Array<{ node: NodeObject; verdict: NodeVerdict }> | undefined> {
  try {
    const [nodes, leases] = await Promise.all([api.list<NodeObject>(apiPaths.nodes), api.list<LeaseObject>(apiPaths.nodeLeases)]);
    if (failing) log.info('API server reachable again; grace periods restart');
    failing = false;
    return tracker.observe(nodes.items, leases.items, Date.now());
  } catch (err) {
    tracker.lostSight();
    if (!failing) log.warn({ err: String(err) }, 'cannot list nodes and leases');
    failing = true;
    return undefined;
  }
}

while (!stop.signal.aborted) {
  const changes = await poll();
  for (const { node, verdict } of changes ?? []) {
    await mark(node, verdict).catch((err: unknown) => {
      if (!isStatus(err, 'Conflict') && !isStatus(err, 'NotFound')) log.warn({ node: node.metadata.name, err: String(err) }, 'marking failed');
    });
  }
  if (changes && !ready) log.info(NODE_LIFECYCLE_READY);
  ready ||= changes !== undefined;
  await sleep(o.periodMs, undefined, { signal: stop.signal }).catch(() => undefined);
}
process.exit(0);
