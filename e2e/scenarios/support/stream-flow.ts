/**
 * A long-lived TCP flow from a pod: nc in the pod's namespace keeps one connection to the echo
 * service's stream port, the test writes a numbered line every intervalMs and records when each
 * answer arrives. A stalled path shows up as a gap between answers, a broken one as nc exiting.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StreamReply } from '../../labkit/echo-reply.js';
import type { Lab } from '../../labkit/lab.js';

const DRAIN_TIMEOUT_MS = 3_000;

export interface FlowReport {
  readonly sent: number;
  readonly answered: number;
  /** Longest time between two answers (and from the first line to the first answer). */
  readonly maxGapMs: number;
  /** Every clientIP:clientPort the echo service saw: one, if the flow kept its connection and SNAT. */
  readonly peers: readonly string[];
  /** Set when nc exited before stop(): the connection broke. */
  readonly brokeWith?: string;
  /** Lines answered out of order or not at all. */
  readonly outOfOrder: number;
}

export class StreamFlow {
  private sent = 0;
  private readonly replies: StreamReply[] = [];
  private readonly arrivals: number[] = [];
  private brokeWith: string | undefined;
  private exited = false;
  private readonly timer: NodeJS.Timeout;
  private readonly startedAt = Date.now();

  private constructor(
    private readonly nc: ChildProcess,
    intervalMs: number,
  ) {
    createInterface({ input: nc.stdout! }).on('line', (line) => {
      this.arrivals.push(Date.now());
      try {
        this.replies.push(JSON.parse(line) as StreamReply);
      } catch {
        this.brokeWith ??= `not a JSON line: ${line.slice(0, 100)}`;
      }
    });
    let stderr = '';
    nc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    nc.once('exit', (code, signal) => {
      this.exited = true;
      this.brokeWith ??= `nc exited (${code ?? signal}) ${stderr.trim()}`;
    });
    nc.stdin!.on('error', () => undefined);
    this.timer = setInterval(() => {
      if (!this.exited) nc.stdin!.write(`${++this.sent}\n`);
    }, intervalMs);
  }

  static async start(lab: Lab, pod: string, opts: { intervalMs?: number } = {}): Promise<StreamFlow> {
    const { echo } = await lab.info();
    const netns = await lab.netnsOf({ pod });
    const nc = spawn('ip', ['netns', 'exec', netns, 'nc', echo.ipv4, String(echo.streamPort)], { stdio: ['pipe', 'pipe', 'pipe'] });
    return new StreamFlow(nc, opts.intervalMs ?? 100);
  }

  get answered(): number {
    return this.replies.length;
  }

  /** Stops sending, waits (bounded) for the answers still in flight, closes the flow and reports. */
  async stop(): Promise<FlowReport> {
    clearInterval(this.timer);
    const deadline = Date.now() + DRAIN_TIMEOUT_MS;
    while (!this.exited && this.replies.length < this.sent && Date.now() < deadline) await sleep(50);
    const broke = this.brokeWith;
    if (!this.exited) {
      const exit = once(this.nc, 'exit');
      this.nc.kill('SIGKILL');
      await exit;
    }
    let maxGapMs = 0;
    let prev = this.startedAt;
    for (const t of this.arrivals) {
      maxGapMs = Math.max(maxGapMs, t - prev);
      prev = t;
    }
    return {
      sent: this.sent,
      answered: this.replies.length,
      maxGapMs,
      peers: [...new Set(this.replies.map((r) => `${r.clientIP}:${r.clientPort}`))],
      outOfOrder: this.replies.filter((r, i) => r.line !== String(i + 1)).length,
      ...(broke === undefined ? {} : { brokeWith: broke }),
    };
  }
}
