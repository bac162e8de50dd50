import { subscribeIpMonitor, type IpMonitorHandle } from './shared-ip-monitor.js';
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

const MIN_GAP_MS = 1_000;

/**
 * Watches the tunnel device for changes made behind sluice's back (a MAC or an address set by
 * hand, the device set down or deleted) and reports them at once, so the agent repairs them
 * without waiting for its periodic resync. It follows links and addresses through the shared
 * `ip monitor` process (subscribeIpMonitor); events of other links are ignored. Reports are at least `minGapMs` apart, so a program fighting
 * sluice over the device costs one repair a second.
 */
export class DeviceWatch {
  readonly #monitor: IpMonitorHandle;
  #stopped = false;
  #lastReport = Number.NEGATIVE_INFINITY;
  #held: string | undefined;
  #holdTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: DeviceWatchOptions) {
    this.#monitor = subscribeIpMonitor({
      objects: ['link', 'address'],
      ...(options.netns === undefined ? {} : { netns: options.netns }),
      ...(options.onError === undefined ? {} : { onError: options.onError }),
      onLine: (line) => {
        const event = parseMonitorLine(line);
        const want = event && this.options.expected();
        const why = want && driftOf(event, want);
        if (why) this.#report(why);
      },
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
    clearTimeout(this.#holdTimer);
    this.#monitor.stop();
  }
}
