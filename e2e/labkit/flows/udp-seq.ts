/**
 * A UDP sequence flow from a pod to the external host: the pod sends numbered datagrams at a fixed
 * rate over one socket (udp-seq-sender), and the external host's kernel timestamps each one as it
 * arrives (tcpdump in its namespace), with the source address it came from. Nothing answers: a
 * lab-owned nft table in the external host drops the flow's port after the capture. The report
 * (udp-seq-report.ts) gives the largest gap by the receiver's clock, the loss and the sources.
 */
import { fileURLToPath } from 'node:url';
import type { Lab } from '../lab.js';
import { Background } from './background.js';
import { SeqCaptureParser } from './udp-seq-capture.js';
import { seqReport, type SenderSummary, type SeqArrival, type SeqReport } from './udp-seq-report.js';

const SENDER = fileURLToPath(new URL('./udp-seq-sender.js', import.meta.url));
export const DEFAULT_RATE = 1000;
const PORT_BASE = 21_000;
const PORT_COUNT = 1_000;
const START_TIMEOUT_MS = 15_000;
/** Datagrams still in flight when the sender stops get this long to arrive. */
const DRAIN_MS = 300;
const tableOf = (port: number) => `labseq_${port}`;
let nextPort = 0;

export interface UdpSeqOptions {
  /** Datagrams per second (default 1000). */
  rate?: number;
  /** Receiver port on the external host (default: the next of 21000–21999). */
  port?: number;
  family?: 4 | 6;
  maxLifetimeS?: number;
}

export class UdpSeqFlow {
  private readonly arrivals: SeqArrival[] = [];
  private senderSummary: SenderSummary | undefined;

  private constructor(
    private readonly lab: Lab,
    readonly port: number,
    private capture: Background | undefined,
    private sender: Background | undefined,
  ) {}

  static async start(lab: Lab, pod: string, opts: UdpSeqOptions = {}): Promise<UdpSeqFlow> {
    const info = await lab.info();
    const dest = opts.family === 6 ? info.echo.ipv6 : info.echo.ipv4;
    if (!dest) throw new Error(`lab ${lab.name} has no IPv6 external host`);
    const port = opts.port ?? PORT_BASE + (nextPort++ % PORT_COUNT);
    const flow = new UdpSeqFlow(lab, port, undefined, undefined);
    const life = opts.maxLifetimeS === undefined ? {} : { maxLifetimeS: opts.maxLifetimeS };
    try {
      await lab.exec({ host: 'ext' }, ['nft', '-f', '-'], {
        input: `table inet ${tableOf(port)} {\n  chain prerouting {\n    type filter hook prerouting priority raw; policy accept;\n    udp dport ${port} drop\n  }\n}\n`,
      });
      const parser = new SeqCaptureParser((a) => flow.arrivals.push(a));
      const ext = await lab.netnsOf({ host: 'ext' });
      flow.capture = Background.start(ext, ['tcpdump', '-i', 'eth0', '-n', '-e', '-l', '-tt', '-x', '-s', '128', '--immediate-mode', '-Q', 'in', `udp and dst port ${port}`], {
        ...life,
        onLine: (l) => parser.line(l),
      });
      flow.capture.child.once('close', () => parser.flush());
      await flow.capture.waitStderr('listening on', START_TIMEOUT_MS, 'tcpdump (UDP sequence receiver)');
      const netns = await lab.netnsOf({ pod });
      flow.sender = Background.start(netns, [process.execPath, SENDER, dest, String(port), String(opts.rate ?? DEFAULT_RATE)], {
        ...life,
        stdin: true,
        onLine: (l) => {
          try {
            flow.senderSummary = JSON.parse(l) as SenderSummary;
          } catch {
            // not the summary
          }
        },
      });
      return flow;
    } catch (err) {
      await flow.stop().catch(() => undefined);
      throw err;
    }
  }

  /** Datagrams received so far. */
  get received(): readonly SeqArrival[] {
    return this.arrivals;
  }

  /** The first datagram from `src` captured at or after `since` (epoch ms). */
  firstFrom(src: string, since: number): SeqArrival | undefined {
    return this.arrivals.find((a) => a.src === src && a.at >= since);
  }

  /** Stops the sender, lets the last datagrams arrive, stops the capture and reports. */
  async stop(): Promise<SeqReport> {
    const stoppedAt = Date.now();
    try {
      await this.sender?.endInput(5_000);
      if (this.sender && !this.senderSummary) throw new Error(`the UDP sequence sender did not report: ${this.sender.stderr.trim()}`);
      await new Promise((r) => setTimeout(r, DRAIN_MS));
    } finally {
      await this.sender?.kill('SIGKILL');
      await this.capture?.kill('SIGINT');
      await this.lab.exec({ host: 'ext' }, ['nft', 'delete', 'table', 'inet', tableOf(this.port)], { allowFailure: true });
    }
    return seqReport(this.arrivals, this.senderSummary ?? { sent: 0, sendErrors: 0, maxStallMs: 0, startedAt: stoppedAt }, stoppedAt);
  }
}
