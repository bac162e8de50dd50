/**
 * ICMP echo from a pod to the external host for as long as the flow runs: ping in the pod's
 * namespace, one request every intervalMs. Each echo request is a flow of its own for conntrack
 * and NAT, so this probes the path afresh every time (unlike the long-lived TCP and UDP flows).
 * Replies are timed by ping itself (-D), so a busy test process does not show up as a gap.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { Lab } from '../../labkit/lab.js';

export interface PingReport {
  readonly transmitted: number;
  readonly received: number;
  /** Requests without a reply, not counting the last one (it may still have been in flight at stop()). */
  readonly lost: number;
  /** Longest time between two replies (and from the start to the first reply), by ping's clock. */
  readonly maxGapMs: number;
  /** When the longest gap ended (epoch ms), to tell which event caused it. */
  readonly maxGapEndedAt: number;
}

/** Summary line of iputils ping: "12 packets transmitted, 12 received, 0% packet loss, time 1101ms". */
const SUMMARY = /(\d+) packets transmitted, (\d+) received/;
/** With -D: "[1733490000.123456] 64 bytes from 198.18.0.2: icmp_seq=1 ttl=63 time=0.2 ms". */
const REPLY = /^\[(\d+\.\d+)\] \d+ bytes from .*icmp_seq=(\d+)/;

export class PingFlow {
  private readonly arrivals: number[] = [];
  private readonly answeredSeqs = new Set<number>();
  private summary: { transmitted: number; received: number } | undefined;
  private readonly startedAt = Date.now();

  private stderr = '';
  /** Resolves once ping exited and its output was read to the end. */
  private readonly closed: Promise<unknown>;

  private constructor(private readonly child: ChildProcess) {
    this.closed = once(child, 'close');
    child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const reply = REPLY.exec(line);
      if (reply) {
        this.arrivals.push(Number(reply[1]) * 1000);
        this.answeredSeqs.add(Number(reply[2]));
      }
      const m = SUMMARY.exec(line);
      if (m) this.summary = { transmitted: Number(m[1]), received: Number(m[2]) };
    });
  }

  static async start(lab: Lab, pod: string, opts: { intervalMs?: number } = {}): Promise<PingFlow> {
    const { echo } = await lab.info();
    const netns = await lab.netnsOf({ pod });
    const interval = ((opts.intervalMs ?? 200) / 1000).toFixed(3);
    // -n: no DNS; -D: timestamps; -W 2: a reply later than 2 s counts as lost.
    const child = spawn('ip', ['netns', 'exec', netns, 'ping', '-n', '-D', '-i', interval, '-W', '2', echo.ipv4], { stdio: ['ignore', 'pipe', 'pipe'] });
    return new PingFlow(child);
  }

  get received(): number {
    return this.arrivals.length;
  }

  /** Stops ping (SIGINT makes it print its summary) and reports. */
  async stop(): Promise<PingReport> {
    this.child.kill('SIGINT');
    await this.closed;
    if (!this.summary) throw new Error(`ping printed no summary (exit ${this.child.exitCode ?? this.child.signalCode}): ${this.stderr.trim().slice(0, 300)}`);
    let maxGapMs = 0;
    let maxGapEndedAt = this.startedAt;
    let prev = this.startedAt;
    for (const t of this.arrivals) {
      if (t - prev > maxGapMs) [maxGapMs, maxGapEndedAt] = [t - prev, t];
      prev = t;
    }
    let lost = 0;
    for (let seq = 1; seq < this.summary.transmitted; seq++) if (!this.answeredSeqs.has(seq)) lost++;
    return { ...this.summary, lost, maxGapMs, maxGapEndedAt };
  }
}
