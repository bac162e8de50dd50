import { spawn, type ChildProcess } from 'node:child_process';

const RESTART_MIN_MS = 1_000;
const RESTART_MAX_MS = 60_000;

/** What the resync asks: a number that moves whenever the kernel may have changed, undefined when nobody is watching. */
export interface KernelChangeCounter {
  generation(): number | undefined;
}

export interface KernelChangesOptions {
  /** A named network namespace to watch (`ip -n`) instead of this process's own. */
  readonly netns?: string;
  readonly onError?: (message: string) => void;
}

/**
 * Counts the kernel's rtnetlink notifications for links, addresses, routes, rules and the netconf
 * sysctls (forwarding, rp_filter): one long-lived `ip -o monitor` process that sleeps until the
 * kernel has something to say. The periodic resync reads links, routes and addresses again (several
 * `ip` processes) only when this count moved since its last full read. Neighbour and FDB entries
 * are left out on purpose: their state changes on every ARP exchange of every pod, which would wake
 * the agent all day; the resync's periodic full read covers them.
 * While the monitor is not running (not started yet, failed, restarting), generation() is undefined:
 * nothing can be trusted to be unchanged.
 */
export class KernelChanges implements KernelChangeCounter {
  #child: ChildProcess | undefined;
  #running = false;
  #count = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #restartMs = RESTART_MIN_MS;

  constructor(private readonly options: KernelChangesOptions = {}) {
    this.#start();
  }

  generation(): number | undefined {
    return this.#running ? this.#count : undefined;
  }

  #start(): void {
    if (this.#stopped) return;
    const where = this.options.netns ? ['-n', this.options.netns] : [];
    const child = spawn('ip', [...where, '-o', 'monitor', 'link', 'address', 'route', 'rule', 'netconf'], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    let stderr = '';
    child.on('spawn', () => {
      // whatever happened while nobody watched counts as a change
      this.#count++;
      this.#running = true;
    });
    child.stdout!.on('data', () => {
      this.#count++;
      this.#restartMs = RESTART_MIN_MS;
    });
    child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-500)));
    child.on('error', (err) => this.options.onError?.(`ip monitor could not run: ${err.message}`));
    child.on('close', (code, signal) => {
      this.#running = false;
      this.#count++;
      if (this.#child === child) this.#child = undefined;
      if (this.#stopped) return;
      this.options.onError?.(`ip monitor stopped (${signal ?? `exit ${code}`}): ${stderr.trim() || 'no message'}; restarting in ${this.#restartMs} ms`);
      this.#timer = setTimeout(() => this.#start(), this.#restartMs);
      this.#timer.unref();
      this.#restartMs = Math.min(this.#restartMs * 2, RESTART_MAX_MS);
    });
  }

  stop(): void {
    this.#stopped = true;
    this.#running = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#child?.kill();
    this.#child = undefined;
  }
}
