import { IpMonitor } from './ip-monitor.js';

/** The `ip monitor` objects sluice follows, with the label `ip monitor label` prints for each. */
const LABELS = { link: 'LINK', address: 'ADDR', route: 'ROUTE', rule: 'RULE', netconf: 'NETCONF' } as const;
export type MonitorObject = keyof typeof LABELS;

export interface IpMonitorSubscription {
  readonly objects: readonly MonitorObject[];
  /** A named network namespace to watch (`ip -n`) instead of this process's own. */
  readonly netns?: string;
  /** Each notification about one of `objects`, one line as `ip -o monitor` prints it (no label). */
  readonly onLine: (line: string) => void;
  /** The monitor started (true) or stopped (false); a stop is followed by a restart unless every subscriber left. */
  readonly onRunning?: (running: boolean) => void;
  /** The monitor could not run or stopped on its own. */
  readonly onError?: (message: string) => void;
}

export interface IpMonitorHandle {
  stop(): void;
}

const LABELED = /^\[([A-Z]+)\](.*)$/;

/**
 * One `ip -o monitor label` process per network namespace, whatever the number of subscribers:
 * it follows the union of what they asked for, and each line goes to the subscribers of its
 * object. Subscribers made in the same tick share the first start; one asking for more than the
 * running process follows restarts it (its subscribers see a stop and a start: a change may have
 * been missed in between). The process ends with the last subscriber.
 */
class SharedMonitor {
  readonly #subscribers = new Set<IpMonitorSubscription>();
  #monitor: IpMonitor | undefined;
  #following = new Set<MonitorObject>();
  #running = false;
  #startQueued = false;

  constructor(
    private readonly netns: string | undefined,
    private readonly onEmpty: () => void,
  ) {}

  add(subscriber: IpMonitorSubscription): void {
    this.#subscribers.add(subscriber);
    if (subscriber.objects.every((o) => this.#following.has(o)) && this.#monitor) {
      if (this.#running) queueMicrotask(() => this.#subscribers.has(subscriber) && subscriber.onRunning?.(true));
      return;
    }
    if (this.#startQueued) return;
    this.#startQueued = true;
    queueMicrotask(() => this.#start());
  }

  remove(subscriber: IpMonitorSubscription): void {
    if (!this.#subscribers.delete(subscriber) || this.#subscribers.size > 0) return;
    this.#monitor?.stop();
    this.#monitor = undefined;
    this.#running = false;
    this.#following = new Set();
    this.onEmpty();
  }

  #start(): void {
    this.#startQueued = false;
    if (this.#subscribers.size === 0) return;
    if (this.#monitor) {
      this.#monitor.stop();
      if (this.#running) this.#setRunning(false);
    }
    this.#following = new Set([...this.#subscribers].flatMap((s) => s.objects));
    this.#monitor = new IpMonitor({
      objects: ['label', ...this.#following],
      ...(this.netns === undefined ? {} : { netns: this.netns }),
      onLine: (line) => this.#dispatch(line),
      onRunning: (running) => this.#setRunning(running),
      onError: (message) => {
        for (const s of [...this.#subscribers]) s.onError?.(message);
      },
    });
  }

  #setRunning(running: boolean): void {
    this.#running = running;
    for (const s of [...this.#subscribers]) s.onRunning?.(running);
  }

  #dispatch(labeled: string): void {
    const m = LABELED.exec(labeled);
    const label = m?.[1];
    const line = m ? m[2]! : labeled;
    for (const s of [...this.#subscribers]) {
      if (label === undefined || s.objects.some((o) => LABELS[o] === label)) s.onLine(line);
    }
  }
}

const shared = new Map<string, SharedMonitor>();

/** Follows the kernel's notifications about `objects` through the namespace's one shared `ip monitor` process. */
export function subscribeIpMonitor(subscriber: IpMonitorSubscription): IpMonitorHandle {
  const key = subscriber.netns ?? '';
  let monitor = shared.get(key);
  if (monitor === undefined) {
    const created: SharedMonitor = new SharedMonitor(subscriber.netns, () => shared.get(key) === created && shared.delete(key));
    monitor = created;
    shared.set(key, monitor);
  }
  const joined = monitor;
  joined.add(subscriber);
  let stopped = false;
  return {
    stop: () => {
      if (stopped) return;
      stopped = true;
      joined.remove(subscriber);
    },
  };
}
