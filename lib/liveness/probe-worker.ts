/**
 * The probing thread: runs a ProbeEngine (socket, timers, answers, peer table) on its own event
 * loop, so probes are sent and answered while the agent's thread is busy. Logs, metrics, views
 * and stats go to the agent's thread in batches (prober.ts).
 *
 * The answers' healthy flag is the agent's, but only while the agent's thread checks in: after
 * unhealthyAfterMs without a message from it, this thread answers unhealthy (see PROBE_DEFAULTS).
 */
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import type { SelfReport } from './liveness-types.js';
import { ProbeEngine } from './probe-engine.js';
import type { ProbeLogger, ProbeMetricsSink } from './probe-observers.js';
import type { FromWorker, LogEntry, MetricCall, ToWorker } from './probe-thread-messages.js';
import type { ProberConfig } from './prober-options.js';

const port = parentPort;
if (port === null) throw new Error('probe-worker.js runs as a worker thread');
const config = workerData as ProberConfig;

let logs: LogEntry[] = [];
let metrics: MetricCall[] = [];
let view: ReturnType<ProbeEngine['view']> | undefined;
let changed = false;
let flushing = false;
let engine: ProbeEngine | undefined;

function post(message: FromWorker): void {
  port!.postMessage(message);
}

function flush(): void {
  flushing = false;
  if (engine === undefined) return;
  post({ type: 'batch', logs, metrics, view, changed, stats: engine.stats() });
  logs = [];
  metrics = [];
  view = undefined;
  changed = false;
}

function soon(): void {
  if (flushing) return;
  flushing = true;
  setImmediate(flush);
}

// Logs and metrics wait for the next change or interval: one message per interval, not per packet.
const log = (level: LogEntry['level']) => (obj: Record<string, unknown>, msg: string) => void logs.push({ level, obj, msg });
const logger: ProbeLogger = { debug: log('debug'), info: log('info'), warn: log('warn') };
const call = (c: MetricCall) => void metrics.push(c);
const sink: ProbeMetricsSink = {
  probeMissed: (peer) => call(['probeMissed', peer]),
  probePeerAlive: (peer, alive) => call(['probePeerAlive', peer, alive]),
  probeRtt: (seconds) => call(['probeRtt', seconds]),
  probeRejected: (reason) => call(['probeRejected', reason]),
  probeError: (code) => call(['probeError', code]),
  probePeerGone: (peer) => call(['probePeerGone', peer]),
};

/** What the agent says of itself, and when its thread last checked in. */
let wanted: SelfReport = Object.freeze({ healthy: true, draining: false, holds: Object.freeze([]) });
let checkedInAt = performance.now();
let silent = false;

function publishSelf(): void {
  silent = performance.now() - checkedInAt > config.unhealthyAfterMs;
  engine?.setSelf(silent ? { ...wanted, healthy: false } : wanted);
}

port.on('message', (message: ToWorker) => {
  checkedInAt = performance.now();
  if (silent) {
    silent = false;
    logger.info({ op: 'liveness' }, "the agent's thread checks in again: answering with its health again");
    publishSelf();
  }
  switch (message.type) {
    case 'peers':
      engine?.setPeers(message.peers);
      break;
    case 'self':
      wanted = message.self;
      publishSelf();
      break;
    case 'check-in':
      break;
    case 'close':
      void engine?.close().then(() => {
        flush();
        post({ type: 'closed' });
        port.close();
      });
      break;
  }
});

engine = await ProbeEngine.start({ ...config, logger, metrics: sink });
engine.onChange((v) => {
  view = v;
  changed = true;
  soon();
});
// Once per interval: the view with fresh ages and misses, the stats, and the agent's check-in.
setInterval(() => {
  const wasSilent = silent;
  if (!silent && performance.now() - checkedInAt > config.unhealthyAfterMs) {
    publishSelf();
    if (!wasSilent && silent) logger.warn({ op: 'liveness', silentMs: Math.round(performance.now() - checkedInAt) }, "the agent's thread has not checked in: answering unhealthy");
  }
  view ??= engine!.view();
  soon();
}, config.intervalMs);
// the logs and metrics of the first binds go first
flush();
post({ type: 'ready', stats: engine.stats() });
