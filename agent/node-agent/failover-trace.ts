/**
 * Where a failover's time goes, as log lines: when this node's probes judged a peer dead (and how
 * long after its last answer), when they heard a peer start or stop holding an egress IP or
 * draining, and when
 * the apply that followed such a change was in the kernel. Every line carries `monoMs`, the
 * machine's monotonic clock (CLOCK_MONOTONIC, the same in every process of a host), so the lines
 * of several agents line up with each other and with the moment a node was broken.
 */
import type { Logger } from 'pino';
import type { LivenessView } from '../../lib/liveness/liveness-types.js';
import type { ApplyReport } from '../../lib/dataplane/dataplane-types.js';

/** CLOCK_MONOTONIC in milliseconds (process.hrtime), comparable across the processes of a host. */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

const round = (ms: number) => Math.round(ms * 10) / 10;

/** A peer's change that a plan follows: a death or a return, what it holds, or whether it is draining. */
export interface PeerChange {
  readonly peer: string;
  readonly alive?: boolean;
  readonly draining?: boolean;
  /** Milliseconds since its last answer when the change was seen. */
  readonly sinceHeardMs?: number;
  readonly holds?: readonly string[];
}

/** What changed between two views, peer by peer (new and removed peers are not changes). */
export function peerChanges(before: LivenessView | undefined, after: LivenessView): PeerChange[] {
  const out: PeerChange[] = [];
  for (const [node, p] of after.peers) {
    const was = before?.peers.get(node);
    if (!was) continue;
    const alive = was.alive !== p.alive;
    const holds = was.holds.join(',') !== p.holds.join(',');
    const draining = was.draining !== p.draining;
    if (!alive && !holds && !draining) continue;
    out.push({
      peer: node,
      ...(alive ? { alive: p.alive } : {}),
      ...(draining ? { draining: p.draining } : {}),
      ...(p.sinceHeardMs !== undefined ? { sinceHeardMs: round(p.sinceHeardMs) } : {}),
      ...(holds ? { holds: p.holds } : {}),
    });
  }
  return out;
}

export class FailoverTrace {
  #view: LivenessView | undefined;
  /** When the change the next apply follows was seen (monotonicMs), if it was one of a peer. */
  #changedAt: number | undefined;

  constructor(private readonly log: Logger) {}

  /** The probes' view changed: logs each peer's death, return, change of holds or of draining. */
  viewChanged(view: LivenessView): void {
    const changes = peerChanges(this.#view, view);
    this.#view = view;
    if (changes.length === 0) return;
    const at = monotonicMs();
    this.#changedAt ??= at;
    for (const c of changes) {
      const msg =
        c.alive === false
          ? 'peer dead by the probes'
          : c.alive === true
            ? 'peer alive again by the probes'
            : c.holds !== undefined
              ? 'peer holds other egress IPs'
              : c.draining
                ? 'peer draining by its answers'
                : 'peer no longer draining by its answers';
      this.log.info({ op: 'failover-trace', ...c, monoMs: round(at) }, msg);
    }
  }

  /**
   * An apply ended that followed a peer's change or took or released egress IPs: logs when it
   * started and how long its nft load took (the table loads first; `startMonoMs + nftMs` is when
   * the new table was in the kernel), and, after a change, how long from the change to its start
   * (`waitMs`: the reconcile queue and planning), to the table in the kernel (`nftInMs`) and to
   * its end (`doneMs`: EIPs added and announced). `startedAt` is monotonicMs() at its start.
   */
  applied(report: ApplyReport, startedAt: number, eips: { readonly taken: readonly string[]; readonly released: readonly string[] }): void {
    const changedAt = this.#changedAt;
    const moved = eips.taken.length > 0 || eips.released.length > 0;
    if (report.writes === 0 || (changedAt === undefined && !moved)) return;
    this.#changedAt = undefined;
    const end = monotonicMs();
    const nftMs = report.subsystems['nft']?.durationMs ?? 0;
    const since = (at: number) => round(at - (changedAt ?? 0));
    this.log.info(
      {
        op: 'failover-trace',
        ...(changedAt !== undefined ? { changedMonoMs: round(changedAt), waitMs: since(startedAt), nftInMs: since(startedAt + nftMs), doneMs: since(end) } : {}),
        startMonoMs: round(startedAt),
        nftMs: round(nftMs),
        applyMs: round(report.durationMs),
        ...(eips.taken.length ? { taken: eips.taken } : {}),
        ...(eips.released.length ? { released: eips.released } : {}),
        ok: report.ok,
        monoMs: round(end),
      },
      changedAt !== undefined ? 'applied after a peer changed' : 'applied, egress IPs moved',
    );
  }
}
