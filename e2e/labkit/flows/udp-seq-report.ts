/** What the receiver of a UDP sequence flow saw, summed up: the largest gap, loss, sources. */

export interface SeqArrival {
  /** Capture time at the receiver, epoch ms (the kernel's timestamp). */
  readonly at: number;
  readonly seq: number;
  readonly src: string;
  readonly srcPort: number;
}

export interface SeqReport {
  readonly sent: number;
  /** Distinct sequence numbers received. */
  readonly received: number;
  readonly lost: number;
  readonly duplicates: number;
  /**
   * The longest time the receiver went without a datagram, by its clock, within the flow's life
   * (from the first arrival to the moment the sender stopped): the outage.
   */
  readonly maxGapMs: number;
  readonly maxGapStartedAt: number;
  readonly maxGapEndedAt: number;
  /** Sequence numbers sent during that gap and never received. */
  readonly lostInMaxGap: number;
  /** Every source address seen, in order of first arrival, with how many datagrams came from it. */
  readonly sources: ReadonlyArray<{ readonly src: string; readonly count: number; readonly first: number; readonly last: number }>;
  /** Distinct source address:port pairs (a new NAT binding shows as a new pair). */
  readonly bindings: readonly string[];
  /** The sender's longest stall between two turns: a gap this long may be the sender's, not the path's. */
  readonly senderMaxStallMs: number;
  readonly sendErrors: number;
}

export interface SenderSummary {
  readonly sent: number;
  readonly sendErrors: number;
  readonly maxStallMs: number;
}

/** `stoppedAt`: when the sender stopped (epoch ms); a flow that never came back ends in a gap up to then. */
export function seqReport(arrivals: readonly SeqArrival[], sender: SenderSummary, stoppedAt: number): SeqReport {
  const byTime = [...arrivals].sort((a, b) => a.at - b.at);
  const seen = new Set<number>();
  let duplicates = 0;
  for (const a of byTime) {
    if (seen.has(a.seq)) duplicates++;
    seen.add(a.seq);
  }
  let gap = { ms: 0, from: byTime[0]?.at ?? stoppedAt, to: byTime[0]?.at ?? stoppedAt, lost: 0 };
  for (let i = 1; i < byTime.length; i++) {
    const [a, b] = [byTime[i - 1]!, byTime[i]!];
    if (b.at - a.at > gap.ms) gap = { ms: b.at - a.at, from: a.at, to: b.at, lost: missingBetween(seen, a.seq, b.seq) };
  }
  const last = byTime[byTime.length - 1];
  if (last && stoppedAt - last.at > gap.ms) gap = { ms: stoppedAt - last.at, from: last.at, to: stoppedAt, lost: missingBetween(seen, last.seq, sender.sent + 1) };
  const sources = new Map<string, { src: string; count: number; first: number; last: number }>();
  for (const a of byTime) {
    const s = sources.get(a.src) ?? { src: a.src, count: 0, first: a.at, last: a.at };
    s.count++;
    s.last = a.at;
    sources.set(a.src, s);
  }
  const received = [...seen].filter((s) => s >= 1 && s <= sender.sent).length;
  return {
    sent: sender.sent,
    received,
    lost: sender.sent - received,
    duplicates,
    maxGapMs: round(gap.ms),
    maxGapStartedAt: gap.from,
    maxGapEndedAt: gap.to,
    lostInMaxGap: gap.lost,
    sources: [...sources.values()],
    bindings: [...new Set(byTime.map((a) => `${a.src}:${a.srcPort}`))],
    senderMaxStallMs: sender.maxStallMs,
    sendErrors: sender.sendErrors,
  };
}

function missingBetween(seen: ReadonlySet<number>, lo: number, hi: number): number {
  let n = 0;
  for (let s = Math.min(lo, hi) + 1; s < Math.max(lo, hi); s++) if (!seen.has(s)) n++;
  return n;
}

const round = (ms: number) => Math.round(ms * 10) / 10;
