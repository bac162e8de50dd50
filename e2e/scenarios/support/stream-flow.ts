/**
 * A long-lived flow from a pod, TCP or UDP: flow-prober runs in the pod's namespace, keeps one
 * connection (TCP, to the echo service's stream port) or one socket (UDP, to its UDP port), sends
 * a numbered line every intervalMs and reports each answer with the time it arrived. A stalled
 * path shows up as a gap between answers, lost packets as missing answers, a broken flow as the
 * prober exiting.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { EchoReply, StreamReply } from '../../labkit/echo-reply.js';
import type { Lab } from '../../labkit/lab.js';

export type FlowProto = 'stream' | 'udp';

const PROBER = fileURLToPath(new URL('./flow-prober.js', import.meta.url));
/** The prober drains for up to 3 s after its stdin closes; this leaves it room to say so. */
const STOP_TIMEOUT_MS = 5_000;

export interface FlowReport {
  readonly sent: number;
  readonly answered: number;
  /** Longest time between two answers (and from the start to the first answer), by the prober's clock. */
  readonly maxGapMs: number;
  /** When the longest gap ended (epoch ms), to tell which event caused it. */
  readonly maxGapEndedAt: number;
  /** Every clientIP:clientPort the echo service saw: one, if the flow kept its connection and SNAT. */
  readonly peers: readonly string[];
  /** Set when the flow broke (connection closed or reset, socket error) before stop(). */
  readonly brokeWith?: string;
  /** Lines answered out of order or not at all (TCP; a datagram answer does not say which line it answers). */
  readonly outOfOrder: number;
}

interface ProberLine {
  at?: number;
  reply?: StreamReply | EchoReply;
  sent?: number;
  broke?: string;
}

export class StreamFlow {
  private sent: number | undefined;
  private readonly replies: Array<StreamReply | EchoReply> = [];
  private readonly arrivals: number[] = [];
  private brokeWith: string | undefined;
  private exited = false;
  private readonly startedAt = Date.now();
  /** Resolves once the prober exited and its output was read to the end. */
  private readonly closed: Promise<unknown>;

  private constructor(private readonly child: ChildProcess) {
    this.closed = once(child, 'close');
    createInterface({ input: child.stdout! }).on('line', (text) => {
      let line: ProberLine;
      try {
        line = JSON.parse(text) as ProberLine;
      } catch {
        this.brokeWith ??= `not a JSON line: ${text.slice(0, 100)}`;
        return;
      }
      if (line.reply && line.at !== undefined) {
        this.replies.push(line.reply);
        this.arrivals.push(line.at);
      }
      if (line.sent !== undefined) this.sent = line.sent;
      if (line.broke !== undefined) this.brokeWith ??= line.broke;
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    // 'close', not 'exit': the prober's last lines may still be in the pipe when it exits.
    child.once('close', (code, signal) => {
      this.exited = true;
      if (this.sent === undefined) this.brokeWith ??= `the prober exited (${code ?? signal}) ${stderr.trim()}`;
    });
    child.stdin!.on('error', () => undefined);
  }

  static async start(lab: Lab, pod: string, opts: { intervalMs?: number; proto?: FlowProto } = {}): Promise<StreamFlow> {
    const { echo } = await lab.info();
    const netns = await lab.netnsOf({ pod });
    const [proto, port] = opts.proto === 'udp' ? ['udp', echo.udpPort] : ['tcp', echo.streamPort];
    const argv = [process.execPath, PROBER, proto, echo.ipv4, String(port), String(opts.intervalMs ?? 100)];
    return new StreamFlow(spawn('ip', ['netns', 'exec', netns, ...argv], { stdio: ['pipe', 'pipe', 'pipe'] }));
  }

  get answered(): number {
    return this.replies.length;
  }

  /** Stops sending, lets the prober wait (bounded) for the answers still in flight, and reports. */
  async stop(): Promise<FlowReport> {
    this.child.stdin!.end();
    const deadline = Date.now() + STOP_TIMEOUT_MS;
    while (!this.exited && Date.now() < deadline) await sleep(50);
    if (!this.exited) {
      this.child.kill('SIGKILL');
      this.brokeWith ??= 'the prober did not stop';
    }
    await this.closed;
    let maxGapMs = 0;
    let maxGapEndedAt = this.startedAt;
    let prev = this.startedAt;
    for (const t of this.arrivals) {
      if (t - prev > maxGapMs) [maxGapMs, maxGapEndedAt] = [t - prev, t];
      prev = t;
    }
    return {
      sent: this.sent ?? this.replies.length,
      answered: this.replies.length,
      maxGapMs,
      maxGapEndedAt,
      peers: [...new Set(this.replies.map((r) => `${r.clientIP}:${r.clientPort}`))],
      outOfOrder: this.replies.filter((r, i) => 'line' in r && r.line !== String(i + 1)).length,
      ...(this.brokeWith === undefined ? {} : { brokeWith: this.brokeWith }),
    };
  }
}
