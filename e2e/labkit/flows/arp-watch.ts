/**
 * An ARP monitor on the external host: asks who-has ADDR every intervalMs (arping, broadcast
 * requests) and records with the kernel's capture times (tcpdump) which MACs answered, and which
 * sent gratuitous ARP for it. IPv4 only. The report (arp-report.ts) gives the longest time two MACs
 * answered for the address at once.
 */
import type { Lab } from '../lab.js';
import { arpReport, parseArpLine, type ArpEvent, type ArpReport } from './arp-report.js';
import { Background } from './background.js';

const START_TIMEOUT_MS = 15_000;
export const DEFAULT_ARP_INTERVAL_MS = 50;
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

export class ArpWatch {
  private readonly events: ArpEvent[] = [];
  private capture: Background | undefined;
  private asker: Background | undefined;

  private constructor(
    readonly addr: string,
    readonly intervalMs: number,
  ) {}

  static async start(lab: Lab, addr: string, opts: { intervalMs?: number; maxLifetimeS?: number } = {}): Promise<ArpWatch> {
    if (!IPV4.test(addr)) throw new Error(`ArpWatch: ${JSON.stringify(addr)} is not an IPv4 address`);
    const w = new ArpWatch(addr, opts.intervalMs ?? DEFAULT_ARP_INTERVAL_MS);
    const life = opts.maxLifetimeS === undefined ? {} : { maxLifetimeS: opts.maxLifetimeS };
    try {
      const ext = await lab.netnsOf({ host: 'ext' });
      const mac = (await lab.exec({ host: 'ext' }, ['cat', '/sys/class/net/eth0/address'])).stdout.trim();
      w.capture = Background.start(ext, ['tcpdump', '-i', 'eth0', '-n', '-e', '-l', '-tt', '--immediate-mode', `arp host ${addr}`], {
        ...life,
        onLine: (l) => {
          const e = parseArpLine(l, addr, mac);
          if (e) w.events.push(e);
        },
      });
      await w.capture.waitStderr('listening on', START_TIMEOUT_MS, 'tcpdump (ARP monitor)');
      w.asker = Background.start(ext, ['arping', '-q', '-i', 'eth0', '-W', (w.intervalMs / 1000).toFixed(3), addr], life);
      return w;
    } catch (err) {
      await w.stop().catch(() => undefined);
      throw err;
    }
  }

  /** The report so far, without stopping. */
  report(): ArpReport {
    return arpReport(this.events, this.intervalMs);
  }

  async stop(): Promise<ArpReport> {
    await this.asker?.kill('SIGINT');
    await this.capture?.kill('SIGINT');
    return this.report();
  }
}
