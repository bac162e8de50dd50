/**
 * Who answered for an address, from the external host's ARP traffic: its periodic requests start
 * rounds, and every reply or gratuitous ARP claiming the address counts for the round it falls in.
 * Two MACs in one round both answered the same request: both held the address.
 */

export type ArpEvent =
  /** The monitor's own request for the address. */
  | { readonly kind: 'probe'; readonly at: number }
  /** A reply or gratuitous ARP saying the address is at `mac`. */
  | { readonly kind: 'claim'; readonly at: number; readonly mac: string; readonly gratuitous: boolean };

export interface ArpRun {
  readonly mac: string;
  readonly from: number;
  readonly to: number;
  readonly rounds: number;
}

export interface ArpReport {
  readonly rounds: number;
  /** Rounds in which two or more MACs claimed the address. */
  readonly contestedRounds: number;
  /**
   * The longest stretch of consecutive contested rounds, from the request that started the first
   * to the one after the last (so a single contested round counts one probe interval).
   */
  readonly longestContestedMs: number;
  readonly longestContestedAt: number | undefined;
  /** The longest stretch of consecutive rounds nobody answered. */
  readonly longestUnansweredMs: number;
  /** Every MAC that claimed the address. */
  readonly macs: readonly string[];
  /** Which single MAC answered when: consecutive rounds answered by the same one MAC, merged. */
  readonly runs: readonly ArpRun[];
}

export function arpReport(events: readonly ArpEvent[], intervalMs: number): ArpReport {
  const sorted = [...events].sort((a, b) => a.at - b.at);
  const probes = sorted.filter((e) => e.kind === 'probe').map((e) => e.at);
  const claims = sorted.filter((e): e is Extract<ArpEvent, { kind: 'claim' }> => e.kind === 'claim');
  const rounds = probes.map((start, i) => {
    const end = probes[i + 1] ?? start + intervalMs;
    return { start, end, macs: [...new Set(claims.filter((c) => c.at >= start && c.at < end).map((c) => c.mac))] };
  });
  let longestContested = { ms: 0, at: undefined as number | undefined };
  let longestUnanswered = 0;
  let contestedRounds = 0;
  const runs: ArpRun[] = [];
  let contestedFrom: number | undefined;
  let unansweredFrom: number | undefined;
  for (const r of rounds) {
    if (r.macs.length >= 2) {
      contestedRounds++;
      contestedFrom ??= r.start;
      if (r.end - contestedFrom > longestContested.ms) longestContested = { ms: r.end - contestedFrom, at: contestedFrom };
    } else contestedFrom = undefined;
    if (r.macs.length === 0) {
      unansweredFrom ??= r.start;
      longestUnanswered = Math.max(longestUnanswered, r.end - unansweredFrom);
    } else unansweredFrom = undefined;
    if (r.macs.length === 1) {
      const last = runs[runs.length - 1];
      if (last && last.mac === r.macs[0] && last.to === r.start) runs[runs.length - 1] = { ...last, to: r.end, rounds: last.rounds + 1 };
      else runs.push({ mac: r.macs[0]!, from: r.start, to: r.end, rounds: 1 });
    }
  }
  return {
    rounds: rounds.length,
    contestedRounds,
    longestContestedMs: Math.round(longestContested.ms),
    longestContestedAt: longestContested.at,
    longestUnansweredMs: Math.round(longestUnanswered),
    macs: [...new Set(claims.map((c) => c.mac))],
    runs,
  };
}

// "1765050000.123456 02:aa:… > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request who-has 198.18.0.100 tell 198.18.0.2, length 28"
const LINE = /^(\d+\.\d+) ([0-9a-f]{2}(?::[0-9a-f]{2}){5}) > [0-9a-f:]{17}, ethertype ARP \(0x0806\), length \d+: (.*)$/;

/** One line of `tcpdump -tt -e -n arp host ADDR` as an event about `addr`, if it is one. */
export function parseArpLine(line: string, addr: string, monitorMac: string): ArpEvent | undefined {
  const m = LINE.exec(line.trim());
  if (!m) return undefined;
  const at = Number(m[1]) * 1000;
  const src = m[2]!;
  const rest = m[3]!;
  const req = /^Request who-has (\S+?) tell (\S+?),/.exec(rest);
  if (req) {
    if (req[1] !== addr) return undefined;
    if (src === monitorMac) return { kind: 'probe', at };
    return req[2] === addr ? { kind: 'claim', at, mac: src, gratuitous: true } : undefined;
  }
  const rep = /^Reply (\S+?) is-at ([0-9a-f:]{17})/.exec(rest);
  if (rep && rep[1] === addr) return { kind: 'claim', at, mac: rep[2]!, gratuitous: false };
  return undefined;
}
