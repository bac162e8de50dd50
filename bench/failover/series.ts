/**
 * One series of failover trials: the same break of the gateway carrying the EIP, again and again,
 * each timed by the receiver of a UDP sequence flow, each followed by the repair that gets the lab
 * back to two healthy gateway nodes.
 */
import type { Lab } from '../../e2e/labkit/lab.js';
import type { SeqArrival, SeqReport } from '../../e2e/labkit/flows/udp-seq-report.js';
import { lastCarrier, watchWhile } from '../../e2e/scenarios/support/failover-watch.js';
import { monotonicMs } from '../../agent/node-agent/failover-trace.js';
import { readBreakdown, type Breakdown } from './breakdown.js';

export interface Trial {
  readonly from: string;
  /** The node that carried the flow at the end, by MAC. */
  readonly to: string | undefined;
  /** Source addresses other than the EIP seen during the trial (a leak while the path changed). */
  readonly strays: readonly string[];
  /** The flow came back through another node within the window. */
  readonly recovered: boolean;
  /** The largest gap the receiver saw (when the flow did not move: the longest it went without a datagram, up to the window). */
  readonly outageMs: number;
  readonly lost: number;
  readonly senderMaxStallMs: number;
  /** The longest time two MACs answered ARP for the EIP at once. */
  readonly contestedMs: number;
  /** Where the time went, from the agents' logs (a trial that recovered). */
  readonly breakdown?: Breakdown;
}

export interface SeriesSpec {
  readonly name: string;
  /** Before the flows start (e.g. stop the API server). */
  readonly prepare?: (lab: Lab) => Promise<void>;
  /** The break, given the carrying node. */
  readonly act: (lab: Lab, node: string) => Promise<void>;
  /** After the flows stopped: back to two healthy gateways (heal, restart, relabel). */
  readonly repair: (lab: Lab, node: string) => Promise<void>;
  /** The break is a death the probes detect: the trial reads where the time went (breakdown.ts). */
  readonly detected?: boolean;
}

export interface SeriesContext {
  readonly lab: Lab;
  readonly pod: string;
  /** The pod's node. */
  readonly worker: string;
  readonly eip: string;
  readonly macs: ReadonlyMap<string, string>;
  readonly gateways: readonly string[];
  /** Waits until the policy is carried and the pod leaves as the EIP; returns the carrying node. */
  readonly carrier: () => Promise<string>;
  /** How long a trial waits for the flow to come back through another node. */
  readonly windowMs: number;
}

export async function runTrial(ctx: SeriesContext, spec: SeriesSpec): Promise<Trial> {
  const named = await ctx.carrier();
  let from = named;
  let actedAt = Number.POSITIVE_INFINITY;
  let brokeAt = 0;
  let udp: SeqReport;
  let contestedMs: number;
  await spec.prepare?.(ctx.lab);
  try {
    const r = await watchWhile(
      ctx.lab,
      { pod: ctx.pod, arpFor: ctx.eip, beforeMs: 1_000, afterMs: ctx.windowMs, settleMs: 1_000, doneWhen: (received) => moved(received) },
      async (received) => {
        // The node the datagrams come through now, not the one status names: that is the one to break.
        const last = received[received.length - 1];
        const by = last && last.src === ctx.eip ? ctx.macs.get(last.via) : undefined;
        if (!by || !ctx.gateways.includes(by))
          throw new Error(`before the trial the flow did not leave as ${ctx.eip} through a gateway (last datagram: ${JSON.stringify(last)}); status names ${named}`);
        from = by;
        actedAt = Date.now();
        brokeAt = monotonicMs();
        await spec.act(ctx.lab, from);
      },
    );
    udp = r.udp;
    contestedMs = r.arp?.longestContestedMs ?? 0;
  } finally {
    await spec.repair(ctx.lab, from);
  }
  const to = lastCarrier(udp, ctx.macs);
  const last = udp.runs[udp.runs.length - 1];
  // Back as the EIP through the other gateway, after the largest gap.
  const recovered = to !== undefined && ctx.gateways.includes(to) && to !== from && last!.src === ctx.eip && last!.to > udp.maxGapStartedAt;
  const strays = [...new Set(udp.sources.filter((s) => s.src !== ctx.eip).map((s) => `${s.src} via ${ctx.macs.get(s.via) ?? s.via} (${s.count})`))];
  const breakdown = spec.detected && recovered && to ? await readBreakdown(ctx.lab, brokeAt, from, to, ctx.worker) : undefined;
  return { from, to, strays, recovered, outageMs: udp.maxGapMs, lost: udp.lost, senderMaxStallMs: udp.senderMaxStallMs, contestedMs, ...(breakdown ? { breakdown } : {}) };

  function moved(received: readonly SeqArrival[]): boolean {
    for (let i = received.length - 1; i >= 0 && received[i]!.at >= actedAt; i--) {
      const by = ctx.macs.get(received[i]!.via);
      if (by !== from && received[i]!.src === ctx.eip) return true;
    }
    return false;
  }
}

/**
 * Runs up to `trials` trials; stops early after `giveUpAfter` trials in a row that did not
 * recover (the figure is then "not within the window"), or when the budget is spent.
 */
export async function runSeries(ctx: SeriesContext, spec: SeriesSpec, trials: number, opts: { budgetMs: number; giveUpAfter: number; log: (l: string) => void }): Promise<Trial[]> {
  const out: Trial[] = [];
  const deadline = Date.now() + opts.budgetMs;
  let misses = 0;
  for (let i = 0; i < trials && Date.now() < deadline && misses < opts.giveUpAfter; i++) {
    const t = await runTrial(ctx, spec);
    out.push(t);
    misses = t.recovered ? 0 : misses + 1;
    opts.log(
      `${spec.name} ${i + 1}/${trials}: ${t.from} → ${t.to ?? 'nothing'}, ${t.recovered ? '' : 'did NOT move to the other gateway, '}largest gap ${t.outageMs} ms, ${t.lost} lost, two MACs ${t.contestedMs} ms, sender stall ≤ ${t.senderMaxStallMs} ms${describeBreakdown(t.breakdown)}${t.strays.length ? `, NOT from the EIP: ${t.strays.join(', ')}` : ''}`,
    );
  }
  return out;
}

function describeBreakdown(b: Breakdown | undefined): string {
  if (!b || b.workerDetectMs === undefined) return '';
  const at = (n: number | undefined) => (n === undefined ? '?' : `${n}`);
  return `; ms after the worker last heard it: break began ${at(b.breakMs)}, worker judged it dead ${at(b.workerDetectMs)}, switched ${at(b.workerSwitchMs)}; successor judged it dead ${at(b.successorDetectMs)}, took the EIP ${at(b.successorTakeoverMs)}`;
}
