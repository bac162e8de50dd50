/** What the receiver of a UDP sequence flow saw, summed up: the largest gap, loss, sources. */

export interface SeqArrival {
  /** Capture time at the receiver, epoch ms (the kernel's timestamp). */
  readonly at: number;
  readonly seq: number;
  readonly src: string;
  readonly srcPort: number;
  /** The Ethernet source it arrived from: which gateway node delivered it. */
  readonly via: string;
}

export interface SeqReport {
  readonly sent: number;
  /** Distinct sequence numbers received. */
  readonly received: number;
  readonly lost: number;
  readonly duplicates: number;
  /**
   * The longest time the receiver went without a datagram, by its clock, within the flow's life
   * (from when the sender's first datagram was due to the moment it stopped): the outage. The
   * first stretch counts from the sender's first datagram, not from its process start.
   */
  readonly maxGapMs: number;
  readonly maxGapStartedAt: number;
  readonly maxGapEndedAt: number;
  /** Sequence numbers sent during that gap and never received. */
  readonly lostInMaxGap: number;
  /** Every source address and the MAC it came from, in order of first arrival, with how many datagrams came that way. */
  readonly sources: readonly SeqSource[];
  /** Which MAC delivered the datagrams, from which source address, when, in arrival order: a change of MAC is a move to another gateway. */
  readonly runs: readonly SeqRun[];
  /** Distinct source address:port pairs (a new NAT binding shows as a new pair). */
  readonly bindings: readonly string[];
  /** The sender's longest stall between two turns: a gap this long may be the sender's, not the path's. */
  readonly senderMaxStallMs: number;
  readonly sendErrors: number;
}

export interface SeqSource {
  readonly src: string;
  readonly via: string;
  readonly count: number;
  readonly first: number;
  readonly last: number;
}

export interface SeqRun {
  readonly via: string;
  readonly src: string;
  readonly from: number;
  readonly to: number;
  readonly count: number;
}

export interface SenderSummary {
  readonly sent: number;
  readonly sendErrors: number;
  readonly maxStallMs: number;
  /** When its first datagram was due (epoch ms). */
  readonly startedAt: number;
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
  // Until the first arrival, the receiver waited since the first datagram was sent (sequence 1).
  const first = byTime[0];
  let gap = first
    ? { ms: Math.max(0, first.at - sender.startedAt), from: sender.startedAt, to: first.at, lost: missingBetween(seen, 0, first.seq) }
    : { ms: Math.max(0, stoppedAt - sender.startedAt), from: sender.startedAt, to: stoppedAt, lost: sender.sent };
  for (let i = 1; i < byTime.length; i++) {
    const [a, b] = [byTime[i - 1]!, byTime[i]!];
    if (b.at - a.at > gap.ms) gap = { ms: b.at - a.at, from: a.at, to: b.at, lost: missingBetween(seen, a.seq, b.seq) };
  }
  const last = byTime[byTime.length - 1];
  if (last && stoppedAt - last.at > gap.ms) gap = { ms: stoppedAt - last.at, from: last.at, to: stoppedAt, lost: missingBetween(seen, last.seq, sender.sent + 1) };
  const sources = new Map<string, { src: string; via: string; count: number; first: number; last: number }>();
  const runs: Array<{ via: string; src: string; from: number; to: number; count: number }> = [];
  for (const a of byTime) {
    const key = `${a.src} ${a.via}`;
    const s = sources.get(key) ?? { src: a.src, via: a.via, count: 0, first: a.at, last: a.at };
    s.count++;
    s.last = a.at;
    sources.set(key, s);
    const run = runs[runs.length - 1];
    if (run?.via === a.via && run.src === a.src) {
      run.count++;
      run.to = a.at;
    } else runs.push({ via: a.via, src: a.src, from: a.at, to: a.at, count: 1 });
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
    runs,
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

/**
 * How often the flow from `src` moved to another MAC (another gateway): changes between its runs of
 * at least `minRun` datagrams (shorter runs are packets of the old path still in flight, or noise).
 * Datagrams from other sources (a leak while the path changed) do not count as a move.
 */
export function moves(runs: readonly SeqRun[], src: string, minRun = 10): number {
  const kept = runs.filter((r) => r.src === src && r.count >= minRun);
  let n = 0;
  for (let i = 1; i < kept.length; i++) if (kept[i]!.via !== kept[i - 1]!.via) n++;
  return n;
}
