import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { driftOf, parseMonitorLine, type ExpectedDevice } from './link-drift.js';

export interface DeviceWatchOptions {
  /** The device as the current plan wants it; undefined = nothing to hold it to. */
  readonly expected: () => ExpectedDevice | undefined;
  /** Called for each change away from `expected` (a burst of changes calls it once per event). */
  readonly onDrift: (why: string) => void;
  /** Called when the monitor cannot run or stops (it is started again, with backoff). */
  readonly onError?: (message: string) => void;
  /** A named network namespace to watch (`ip -n`) instead of this process's own. */
  readonly netns?: string;
  /** Reports at most one drift this often (later ones wait, collapsed into one); default 1 s. */
  readonly minGapMs?: number;
}

const RESTART_MIN_MS = 1_000;
const RESTART_MAX_MS = 30_000;
const MIN_GAP_MS = 1_000;

/**
 * Watches the tunnel device for changes made behind sluice's back (a MAC or an address set by
 * hand, the device set down or deleted) and reports them at once, so the agent repairs them
 * without waiting for its periodic resync. One long-lived `ip -o monitor link address` process
 * reads the kernel's rtnetlink notifications: it sleeps until the kernel has something to say,
 * costs no polling, and needs no privilege. Events of other links are ignored. Reports are at
 * least `minGapMs` apart, so a program fighting sluice over the device costs one repair a second.
 */
export class DeviceWatch {
  #child: ChildProcess | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #restartMs = RESTART_MIN_MS;
  #lastReport = Number.NEGATIVE_INFINITY;
  #held: string | undefined;
  #holdTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: DeviceWatchOptions) {
    this.#start();
  }

  #start(): void {
    if (this.#stopped) return;
    const where = this.options.netns ? ['-n', this.options.netns] : [];
    const child = spawn('ip', [...where, '-o', 'monitor', 'link', 'address'], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-500)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      this.#restartMs = RESTART_MIN_MS;
      const event = parseMonitorLine(line);
      const want = event && this.options.expected();
      const why = want && driftOf(event, want);
      if (why) this.#report(why);
    });
    child.on('error', (err) => this.options.onError?.(`ip monitor could not run: ${err.message}`));
    child.on('close', (code, signal) => {
      if (this.#child === child) this.#child = undefined;
      if (this.#stopped) return;
      this.options.onError?.(`ip monitor stopped (${signal ?? `exit ${code}`}): ${stderr.trim() || 'no message'}; restarting in ${this.#restartMs} ms`);
      this.#timer = setTimeout(() => this.#start(), this.#restartMs);
      this.#timer.unref();
      this.#restartMs = Math.min(this.#restartMs * 2, RESTART_MAX_MS);
    });
  }

  #report(why: string): void {
    const wait = this.#lastReport + (this.options.minGapMs ?? MIN_GAP_MS) - Date.now();
    if (wait <= 0) {
      this.#lastReport = Date.now();
      this.options.onDrift(why);
      return;
    }
    this.#held = why;
    this.#holdTimer ??= setTimeout(() => {
      this.#holdTimer = undefined;
      const held = this.#held;
      this.#held = undefined;
      if (held && !this.#stopped) this.#report(held);
    }, wait);
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#holdTimer);
    this.#child?.kill();
    this.#child = undefined;
  }
}
