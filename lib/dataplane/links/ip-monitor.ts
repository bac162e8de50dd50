import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

const RESTART_MIN_MS = 1_000;
const RESTART_MAX_MS = 30_000;

export interface IpMonitorOptions {
  /** The `ip monitor` objects to follow, e.g. `link`, `address`, `route`. */
  readonly objects: readonly string[];
  /** A named network namespace to watch (`ip -n`) instead of this process's own. */
  readonly netns?: string;
  /** Each notification, one line (`ip -o`). */
  readonly onLine: (line: string) => void;
  /** The monitor started (true) or stopped (false); a stop is followed by a restart unless stop() was called. */
  readonly onRunning?: (running: boolean) => void;
  /** The monitor could not run or stopped on its own. */
  readonly onError?: (message: string) => void;
}

/**
 * One long-lived `ip -o monitor` process: it reads the kernel's rtnetlink notifications, sleeps until
 * the kernel has something to say, costs no polling and needs no privilege. When it stops on its own
 * it is started again, 1 s later at first and twice as long after each stop without a notification
 * in between (at most 30 s).
 */
export class IpMonitor {
  #child: ChildProcess | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #restartMs = RESTART_MIN_MS;

  constructor(private readonly options: IpMonitorOptions) {
    this.#start();
  }

  #start(): void {
    if (this.#stopped) return;
    const where = this.options.netns ? ['-n', this.options.netns] : [];
    const child = spawn('ip', [...where, '-o', 'monitor', ...this.options.objects], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    let stderr = '';
    child.on('spawn', () => this.options.onRunning?.(true));
    child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-500)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      this.#restartMs = RESTART_MIN_MS;
      this.options.onLine(line);
    });
    child.on('error', (err) => this.options.onError?.(`ip monitor could not run: ${err.message}`));
    child.on('close', (code, signal) => {
      if (this.#child === child) this.#child = undefined;
      if (this.#stopped) return;
      this.options.onRunning?.(false);
      this.options.onError?.(`ip monitor stopped (${signal ?? `exit ${code}`}): ${stderr.trim() || 'no message'}; restarting in ${this.#restartMs} ms`);
      this.#timer = setTimeout(() => this.#start(), this.#restartMs);
      this.#timer.unref();
      this.#restartMs = Math.min(this.#restartMs * 2, RESTART_MAX_MS);
    });
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#child?.kill();
    this.#child = undefined;
  }
}
