/** Per connection of a TcpFlows run: did it break, and did data keep flowing after an instant. */

/** One connection as the prober reports it (times by the prober's clock, epoch ms). */
export interface TcpConnRecord {
  readonly conn: number;
  readonly connectedAt: number | null;
  /** When line i+1 was sent. */
  readonly sentAt: readonly number[];
  /** [line number, arrival time] per answer. */
  readonly answers: ReadonlyArray<readonly [number, number]>;
  /** clientIP:clientPort as the echo service saw them. */
  readonly peers: readonly string[];
  readonly ended: { readonly why: string; readonly code?: string; readonly at: number } | null;
}

export interface TcpConnReport {
  readonly conn: number;
  readonly connected: boolean;
  readonly sent: number;
  readonly answered: number;
  /** A reset (ECONNRESET) or another error or close before the end of the run. */
  readonly reset: boolean;
  readonly endedWith: string | undefined;
  /** A line sent at or after the instant was answered: the connection carried data after it. */
  readonly flowedAfter: boolean;
  /** The longest time without an answer while the connection lived, by the prober's clock. */
  readonly maxGapMs: number;
  readonly peers: readonly string[];
}

export interface TcpFlowsReport {
  readonly connections: readonly TcpConnReport[];
  /** Connected, never reset, and data flowed after the instant. */
  readonly survived: number;
  readonly resets: number;
}

export function tcpFlowsReport(records: readonly TcpConnRecord[], after: number): TcpFlowsReport {
  const connections = records.map((r): TcpConnReport => {
    const answeredAfter = r.answers.some(([line]) => (r.sentAt[line - 1] ?? -Infinity) >= after);
    let maxGapMs = 0;
    let prev = r.connectedAt ?? 0;
    for (const [, at] of r.answers) {
      maxGapMs = Math.max(maxGapMs, at - prev);
      prev = at;
    }
    return {
      conn: r.conn,
      connected: r.connectedAt !== null,
      sent: r.sentAt.length,
      answered: r.answers.length,
      reset: r.ended !== null,
      endedWith: r.ended ? (r.ended.code ?? r.ended.why) : undefined,
      flowedAfter: answeredAfter,
      maxGapMs,
      peers: r.peers,
    };
  });
  return {
    connections,
    survived: connections.filter((c) => c.connected && !c.reset && c.flowedAfter).length,
    resets: connections.filter((c) => c.reset).length,
  };
}
