/**
 * Make-before-break between nodes: when a new plan gives egress IPs this node holds to another
 * node (this one drains, left the gateway's nodeSelector, status or the two-holder rule moved
 * them), the node keeps its applied plan until that node says, in its probe answers, that it holds
 * them, or until the timeout. Flows through this node keep their return path while the successor
 * adds the address and announces it. An EIP that nobody carries in the new plan (its policy went,
 * no node can carry it) is withdrawn at once: nobody would take it. So is everything when fenced.
 */
export interface HandoffInput {
  /** The egress IPs the kernel holds (the last applied plan). */
  readonly held: readonly string[];
  /** The egress IPs the new plan holds. */
  readonly next: readonly string[];
  /** The node that carries this IP in the new plan, if any. */
  readonly successorOf: (ip: string) => string | undefined;
  /** Whether this node says, by the probes, that it holds this IP now. */
  readonly heldBy: (node: string, ip: string) => boolean;
  /** Withdraw at once (fenced). */
  readonly urgent: boolean;
  readonly now: number;
}

export type HandoffDecision =
  | { readonly release: true; readonly dropped: readonly string[]; readonly timedOut: boolean }
  | { readonly release: false; readonly waitingFor: readonly string[]; readonly until: number };

export class Handoff {
  /** When the current wait began; undefined when not waiting. */
  #since: number | undefined;

  constructor(private readonly timeoutMs: number) {}

  get waiting(): boolean {
    return this.#since !== undefined;
  }

  decide(input: HandoffInput): HandoffDecision {
    const next = new Set(input.next);
    const dropped = input.held.filter((ip) => !next.has(ip));
    const waitingFor = dropped.filter((ip) => {
      const successor = input.successorOf(ip);
      return successor !== undefined && !input.heldBy(successor, ip);
    });
    if (input.urgent || waitingFor.length === 0) return this.#release(dropped, false);
    this.#since ??= input.now;
    const until = this.#since + this.timeoutMs;
    if (input.now >= until) return this.#release(dropped, true);
    return { release: false, waitingFor, until };
  }

  #release(dropped: readonly string[], timedOut: boolean): HandoffDecision {
    this.#since = undefined;
    return { release: true, dropped, timedOut };
  }
}
