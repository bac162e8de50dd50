/**
 * Standalone fake API server:
 *   node dist/e2e/apiserver/main.js --host 127.0.0.1 --port 6443 --kubeconfig PATH [--state FILE] [--load PATH...]
 * Prints its URL on stdout. SIGUSR1 takes it down (--down-mode refuse|hang), SIGUSR2 brings it back,
 * SIGTERM/SIGINT stop it (saving --state first).
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { pino } from 'pino';
import { nameOf } from './object-meta.js';
import { applyManifests, readManifests } from './manifest-loader.js';
import { startApiServer } from './server.js';
import type { PauseMode } from './connection-control.js';

function integer(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) throw new InvalidArgumentError('must be a non-negative integer');
  return parsed;
}

interface CliOptions {
  host: string;
  port: number;
  kubeconfig?: string;
  state?: string;
  load?: string[];
  downMode: PauseMode;
  watchHistory: number;
  bookmarkIntervalMs: number;
}

async function main(): Promise<void> {
  const program = new Command()
    .name('fake-apiserver')
    .description('In-memory Kubernetes API server for sluice tests and demos')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0 = any free port)', integer, 6443)
    .option('--kubeconfig <path>', 'write a kubeconfig for this server here')
    .option('--state <file>', 'persist objects to this file and restore them at start')
    .option('--load <paths...>', 'apply these YAML manifests (files or directories) at start')
    .addOption(new Option('--down-mode <mode>', 'what SIGUSR1 simulates').choices(['refuse', 'hang']).default('refuse'))
    .option('--watch-history <events>', 'watch events kept per resource', integer, 1000)
    .option('--bookmark-interval-ms <ms>', 'interval of watch bookmarks', integer, 60_000)
    .parse();
  const options = program.opts<CliOptions>();
  const logger = pino({ level: process.env.APISERVER_LOG_LEVEL ?? 'info' }, pino.destination(2));

  const server = await startApiServer({
    host: options.host,
    port: options.port,
    stateFile: options.state,
    watchHistoryLimit: options.watchHistory,
    bookmarkIntervalMs: options.bookmarkIntervalMs,
    logger,
  });
  if (options.load?.length) {
    const applied = applyManifests(server.store, readManifests(options.load), (object, reason) =>
      logger.warn({ op: 'load', kind: object.kind, name: nameOf(object), err: reason }, 'manifest object skipped'),
    );
    logger.info({ op: 'load', applied }, 'manifests applied');
  }
  if (options.kubeconfig) await server.writeKubeconfig(options.kubeconfig);
  process.stdout.write(`${server.url}\n`);

  // While "down" in refuse mode no socket is open; this keeps the process waiting for SIGUSR2.
  const keepAlive = setInterval(() => undefined, 2 ** 31 - 1);
  process.on('SIGUSR1', () => {
    void server.pause(options.downMode).then(() => logger.info({ op: 'down', mode: options.downMode }, 'API server down'));
  });
  process.on('SIGUSR2', () => {
    void server.resume().then(() => logger.info({ op: 'up' }, 'API server up'));
  });
  const stop = (signal: string) => {
    logger.info({ op: 'stop', signal }, 'stopping');
    clearInterval(keepAlive);
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`fake-apiserver: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
