/**
 * N long-lived TCP connections from a pod to the external host's stream port, all exchanging data
 * continuously (tcp-flows-prober). stop(after) says, per connection, whether it was reset and
 * whether data kept flowing after the instant `after` (e.g. the moment a gateway failed).
 */
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Lab } from '../lab.js';
import { Background } from './background.js';
import { tcpFlowsReport, type TcpConnRecord, type TcpFlowsReport } from './tcp-flows-report.js';

const PROBER = fileURLToPath(new URL('./tcp-flows-prober.js', import.meta.url));
/** The prober drains for up to 3 s after its stdin closes. */
const STOP_GRACE_MS = 6_000;

export class TcpFlows {
  private readonly records: TcpConnRecord[] = [];

  private constructor(private readonly prober: Background) {}

  static async start(lab: Lab, pod: string, opts: { count?: number; intervalMs?: number; maxLifetimeS?: number } = {}): Promise<TcpFlows> {
    const { echo } = await lab.info();
    const netns = await lab.netnsOf({ pod });
    const argv = [process.execPath, PROBER, echo.ipv4, String(echo.streamPort), String(opts.count ?? 20), String(opts.intervalMs ?? 100)];
    let flows: TcpFlows | undefined;
    const prober = Background.start(netns, argv, {
      stdin: true,
      ...(opts.maxLifetimeS === undefined ? {} : { maxLifetimeS: opts.maxLifetimeS }),
      onLine: (l) => {
        try {
          flows?.records.push(JSON.parse(l) as TcpConnRecord);
        } catch {
          // not a record
        }
      },
    });
    flows = new TcpFlows(prober);
    return flows;
  }

  /** Waits until the prober runs (bounded); the connections are made as it starts. */
  async settle(ms = 1_000): Promise<void> {
    await sleep(ms);
    if (!this.prober.running) throw new Error(`the TCP prober exited: ${this.prober.stderr.trim()}`);
  }

  /** Stops the connections and reports each, with `flowedAfter` relative to the instant `after` (epoch ms). */
  async stop(after: number): Promise<TcpFlowsReport> {
    await this.prober.endInput(STOP_GRACE_MS);
    if (this.records.length === 0) throw new Error(`the TCP prober reported nothing: ${this.prober.stderr.trim()}`);
    return tcpFlowsReport(this.records, after);
  }
}
