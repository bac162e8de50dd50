/**
 * The in-memory Kubernetes API server used by sluice's tests and demo. See README.md in this folder for what
 * it implements and where it deliberately differs from a real kube-apiserver.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import { createBuiltinTypes } from './builtin-types.js';
import { ClusterStore } from './cluster-store.js';
import { ConnectionControl, type PauseMode } from './connection-control.js';
import { attachCrdLifecycle } from './crd-lifecycle.js';
import { GarbageCollector } from './garbage-collector.js';
import { kubeconfigYaml, writeKubeconfig } from './kubeconfig.js';
import { attachNamespaceLifecycle } from './namespace-lifecycle.js';
import { ObjectStore, type StoreListener } from './object-store.js';
import { ResourceRegistry } from './resource-registry.js';
import { createRequestHandler, type RequestLogEntry } from './router.js';
import { restoreState, StatePersister } from './state-file.js';
import { WatchHub } from './watch-hub.js';
import { WriteCounter } from './write-counter.js';
import { ChangeJournal } from './change-journal.js';

export interface ApiServerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Watch events kept per resource for resuming watches; older resourceVersions get 410. Default 1000. */
  watchHistoryLimit?: number;
  /** How long a paged list's continue token stays good (etcd's compaction interval). Default 5 min. */
  continueTtlMs?: number;
  /** How often watches that allow bookmarks get one. Default 60 s, as the real watch cache sends them. */
  bookmarkIntervalMs?: number;
  /** Persist objects to this file and restore them at start. */
  stateFile?: string;
  logger?: Logger;
  /** Called as each request finishes (watches: when the stream ends), e.g. to attribute writes by user agent. */
  onRequest?: (entry: RequestLogEntry) => void;
}

export interface ApiServer {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Objects by apiVersion/kind, with the HTTP API's rules. */
  readonly store: ClusterStore;
  /** Write requests received over HTTP, per resource. */
  readonly writes: WriteCounter;
  /** The last 1000 requests (method, path, status, user agent). */
  readonly requestLog: readonly RequestLogEntry[];
  readonly paused: boolean;
  kubeconfigYaml(): string;
  writeKubeconfig(path: string): Promise<void>;
  /** Stops answering and cuts every watch; objects stay. "refuse" = connection refused, "hang" = no answer. */
  pause(mode?: PauseMode): Promise<void>;
  resume(): Promise<void>;
  /**
   * Compaction: forgets the watch history and the revisions paged lists were read at, so resuming a watch
   * from any earlier resourceVersion, or a list from a continue token, now gets 410 Expired.
   */
  expireWatchHistory(): void;
  /** Ends every watch cleanly, as a real server does when a watch times out; clients then re-watch. */
  endWatches(): void;
  watcherCount(): number;
  /** Every committed change, as it is committed (the journal watches are fed from). */
  onChange(listener: StoreListener): void;
  close(): Promise<void>;
}

/** Changes kept for `/debug/changes`: minutes of a lab's Lease renewals and a benchmark's objects. */
const CHANGE_JOURNAL_LIMIT = 10_000;

export const DEFAULT_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

export async function startApiServer(options: ApiServerOptions = {}): Promise<ApiServer> {
  const host = options.host ?? '127.0.0.1';
  const logger = options.logger ?? pino({ level: process.env.APISERVER_LOG_LEVEL ?? 'warn' }, pino.destination(2));
  const onSkippedRule = (rule: string, reason: string) => logger.warn({ op: 'cel', rule, reason }, 'x-kubernetes-validations rule skipped: the fake API server cannot evaluate it');

  const registry = new ResourceRegistry(createBuiltinTypes());
  const hub = new WatchHub(options.watchHistoryLimit ?? 1000);
  const store = new ObjectStore(registry, options.continueTtlMs);
  store.onChange((change) => hub.publish(change.resource, change));
  const journal = new ChangeJournal(CHANGE_JOURNAL_LIMIT);
  store.onChange((change) => journal.record(change));
  attachCrdLifecycle(store, registry, hub, onSkippedRule);
  attachNamespaceLifecycle(store);
  const collector = new GarbageCollector(store);
  const cluster = new ClusterStore(store, registry);

  const restored = options.stateFile ? restoreState(options.stateFile, store, registry, hub, onSkippedRule) : false;
  if (!restored) {
    for (const name of DEFAULT_NAMESPACES) cluster.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  }
  const persister = options.stateFile ? new StatePersister(options.stateFile, store) : undefined;

  const server = createServer({ keepAlive: true });
  let port = options.port ?? 0;
  const control = new ConnectionControl(server, () => ({ host, port }));
  const writes = new WriteCounter();
  const requestLog: RequestLogEntry[] = [];
  const hostForUrl = host.includes(':') ? `[${host}]` : host;
  server.on(
    'request',
    createRequestHandler({
      registry,
      store,
      hub,
      writes,
      journal,
      control,
      requestLog,
      ...(options.onRequest ? { onRequest: options.onRequest } : {}),
      bookmarkIntervalMs: options.bookmarkIntervalMs ?? 60_000,
      serverAddress: () => `${host}:${port}`,
    }),
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  const url = `http://${hostForUrl}:${port}`;
  logger.info({ op: 'listen', url }, 'fake API server listening');

  let closed = false;
  return {
    url,
    host,
    port,
    store: cluster,
    writes,
    requestLog,
    get paused() {
      return control.mode !== 'up';
    },
    kubeconfigYaml: () => kubeconfigYaml(url),
    writeKubeconfig: (path) => writeKubeconfig(path, url),
    pause: (mode) => control.pause(mode),
    resume: () => control.resume(),
    expireWatchHistory: () => {
      hub.compactAll(store.resourceVersion);
      store.listSnapshots.compact();
    },
    endWatches: () => hub.closeAll(),
    watcherCount: () => hub.watcherCount(),
    onChange: (listener) => store.onChange(listener),
    async close() {
      if (closed) return;
      closed = true;
      collector.stop();
      hub.closeAll();
      const stopped = new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
      control.destroyAll();
      await stopped;
      await persister?.flush();
    },
  };
}
