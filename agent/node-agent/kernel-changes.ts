import { subscribeIpMonitor, type IpMonitorHandle } from '../../lib/dataplane/links/shared-ip-monitor.js';

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
 * sysctls (forwarding, rp_filter), through the namespace's one long-lived `ip monitor` process
 * (shared with the tunnel device's watch), which sleeps until the kernel has something to say.
 * The periodic resync reads links, routes and addresses again (several `ip` processes) only when
 * this count moved since its last full read. Neighbour and FDB entries
 * are left out on purpose: their state changes on every ARP exchange of every pod, which would wake
 * the agent all day; the resync's periodic full read covers them.
 * While the monitor is not running (not started yet, failed, restarting), generation() is undefined:
 * nothing can be trusted to be unchanged.
 */
export class KernelChanges implements KernelChangeCounter {
  #running = false;
  #count = 0;
  readonly #monitor: IpMonitorHandle;

  constructor(options: KernelChangesOptions = {}) {
    this.#monitor = subscribeIpMonitor({
      ...options,
      objects: ['link', 'address', 'route', 'rule', 'netconf'],
      onLine: () => this.#count++,
      onRunning: (running) => {
        // whatever happens while nobody watches counts as a change
        this.#count++;
        this.#running = running;
      },
    });
  }

  generation(): number | undefined {
    return this.#running ? this.#count : undefined;
  }

  stop(): void {
    this.#running = false;
    this.#monitor.stop();
  }
}
