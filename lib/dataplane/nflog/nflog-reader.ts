/**
 * Reads one nfnetlink_log group in a worker thread (nflog-worker.ts) and hands the agent's thread
 * batches of logged packets. The worker parses at most `linesPerSecond` packets (`burst` at once)
 * and only counts the rest, so a flood costs bounded CPU and memory. A worker that fails or dies
 * (the group bound by another reader, say) is started again after a pause; each failure is
 * reported once until a start succeeds.
 */
import { Worker } from 'node:worker_threads';
import type { FromNflogWorker, NflogWorkerData, ToNflogWorker } from './nflog-messages.js';
import type { LoggedPacket } from './nflog-wire.js';

const WORKER_SCRIPT = new URL('./nflog-worker.js', import.meta.url);
/** A failed worker is started again after this long. */
const RESTART_MS = 5000;
const STOP_WAIT_MS = 1000;

export interface NflogBatch {
  readonly packets: readonly LoggedPacket[];
  readonly suppressed: number;
  readonly overflows: number;
}

export interface NflogReaderOptions extends NflogWorkerData {
  readonly onBatch: (batch: NflogBatch) => void;
  /** The group is bound (`ok`), or reading it failed (and is tried again). */
  readonly onState: (state: { readonly ok: true } | { readonly ok: false; readonly message: string }) => void;
  readonly restartMs?: number;
}

export class NflogReader {
  readonly #options: NflogReaderOptions;
  #worker: Worker | undefined;
  #restart: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: NflogReaderOptions) {
    this.#options = options;
    this.#start();
  }

  #start(): void {
    if (this.#closed) return;
    const { group, linesPerSecond, burst } = this.#options;
    const data: NflogWorkerData = { group, linesPerSecond, burst };
    const worker = new Worker(WORKER_SCRIPT, { workerData: data });
    this.#worker = worker;
    let failed = false;
    const fail = (message: string) => {
      if (failed || this.#closed) return;
      failed = true;
      this.#options.onState({ ok: false, message });
      void worker.terminate();
      this.#restart = setTimeout(() => this.#start(), this.#options.restartMs ?? RESTART_MS);
      this.#restart.unref();
    };
    worker.on('message', (m: FromNflogWorker) => {
      if (m.type === 'bound') this.#options.onState({ ok: true });
      else if (m.type === 'failed') fail(m.message);
      else this.#options.onBatch(m);
    });
    worker.on('error', (err) => fail(err.message));
    worker.on('exit', (code) => {
      if (this.#worker === worker) this.#worker = undefined;
      fail(`the reading thread exited (${code})`);
    });
    worker.unref();
  }

  /** Stops reading; the group is unbound when the socket closes. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#restart);
    const worker = this.#worker;
    if (!worker) return;
    worker.postMessage({ type: 'stop' } satisfies ToNflogWorker);
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    const timer = setTimeout(() => void worker.terminate(), STOP_WAIT_MS);
    await exited;
    clearTimeout(timer);
  }
}
