/**
 * The external host's view, timed by its kernel: tcpdump in the external host's namespace records
 * every datagram to the benchmark's ports with the capture timestamp and the source address it
 * arrived with. An nft rule drops those datagrams after the capture, so nothing answers them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { Lab } from '../../e2e/labkit/lab.js';

export const PORT_BASE = 20_000;
export const PORT_COUNT = 1_000;
const TABLE = 'bench_convergence';

export interface Arrival {
  /** Capture time, epoch ms. */
  readonly at: number;
  readonly src: string;
  readonly port: number;
}

// "1765050000.123456 IP 198.18.0.105.40312 > 198.18.0.2.20001: UDP, length 2"
const LINE = /^(\d+\.\d+) IP (\d+\.\d+\.\d+\.\d+)\.\d+ > [\d.]+\.(\d+): UDP/;

export class UdpTap {
  private readonly byPort = new Map<number, Arrival[]>();
  private readonly waiters = new Set<() => void>();
  private stderr = '';

  private constructor(
    private readonly lab: Lab,
    private readonly child: ChildProcess,
  ) {
    child.stderr!.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-2000)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = LINE.exec(line);
      if (!m) return;
      const a: Arrival = { at: Number(m[1]) * 1000, src: m[2]!, port: Number(m[3]) };
      const list = this.byPort.get(a.port) ?? [];
      list.push(a);
      this.byPort.set(a.port, list);
      for (const w of [...this.waiters]) w();
    });
  }

  static async start(lab: Lab): Promise<UdpTap> {
    const netns = await lab.netnsOf({ host: 'ext' });
    const last = PORT_BASE + PORT_COUNT - 1;
    await lab.exec({ host: 'ext' }, ['nft', '-f', '-'], {
      input: `table inet ${TABLE} {\n  chain prerouting {\n    type filter hook prerouting priority raw; policy accept;\n    udp dport ${PORT_BASE}-${last} drop\n  }\n}\n`,
    });
    const child = spawn('ip', ['netns', 'exec', netns, 'tcpdump', '-i', 'eth0', '-n', '-l', '-tt', '--immediate-mode', '-Q', 'in', `udp and dst portrange ${PORT_BASE}-${last}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const tap = new UdpTap(lab, child);
    // tcpdump says "listening on eth0" once the capture runs.
    const deadline = Date.now() + 10_000;
    while (!tap.stderr.includes('listening on') && Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`tcpdump exited: ${tap.stderr.trim()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    if (!tap.stderr.includes('listening on')) throw new Error(`tcpdump did not start: ${tap.stderr.trim()}`);
    return tap;
  }

  /** The first datagram to `port` captured at or after `since` whose source is `src`. */
  first(port: number, src: string, since: number): Arrival | undefined {
    return (this.byPort.get(port) ?? []).find((a) => a.at >= since && a.src === src);
  }

  /** Datagrams to `port` captured in [from, to). */
  between(port: number, from: number, to: number): Arrival[] {
    return (this.byPort.get(port) ?? []).filter((a) => a.at >= from && a.at < to);
  }

  /** Waits until `first(port, src, since)` exists; rejects after timeoutMs. */
  async waitFirst(port: number, src: string, since: number, timeoutMs: number): Promise<Arrival> {
    const found = this.first(port, src, since);
    if (found) return found;
    return new Promise<Arrival>((resolve, reject) => {
      const check = () => {
        const a = this.first(port, src, since);
        if (!a) return;
        done();
        resolve(a);
      };
      const timer = setTimeout(() => {
        done();
        const seen = [...new Set(this.between(port, since, Number.POSITIVE_INFINITY).map((a) => a.src))];
        reject(new Error(`no datagram to port ${port} from ${src} within ${timeoutMs} ms (seen from: ${seen.join(', ') || 'nobody'})`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
    });
  }

  /** Drops what was recorded for a port (a finished trial), to keep memory flat. */
  forget(port: number): void {
    this.byPort.delete(port);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      this.child.kill('SIGTERM');
      await once(this.child, 'close');
    }
    await this.lab.exec({ host: 'ext' }, ['nft', 'delete', 'table', 'inet', TABLE], { allowFailure: true });
  }
}
