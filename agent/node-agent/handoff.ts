/**
 * Make-before-break between nodes: when a new plan drops egress IPs this node holds (it drains, it
 * left the gateway's nodeSelector, status or the two-holder rule gave them to another node), the
 * node keeps its applied plan until a node alive by the probes says it holds each of them, or
 * until the timeout. Flows through this node keep their return path while the successor adds the
 * address and announces it. A fenced node does not wait: nobody it can hear could take over.
 */
export interface HandoffInput {
  /** The egress IPs the kernel holds (the last applied plan). */
  readonly held: readonly string[];
  /** The egress IPs the new plan holds. */
  readonly next: readonly string[];
  /** Whether a live peer says it holds this IP. */
  readonly heldElsewhere: (ip: string) => boolean;
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
    const waitingFor = dropped.filter((ip) => !input.heldElsewhere(ip));
    if (dropped.length === 0 || input.urgent || waitingFor.length === 0) return this.#release(dropped, false);
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
