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
  | {
      readonly release: false;
      readonly waitingFor: readonly string[];
      readonly until: number;
      /**
       * The new plan holds no egress IP here (the node left every nodeSelector, say): it answers as
       * draining meanwhile, as on SIGTERM, so every node moves its EIPs on the probes' word, also
       * one whose API view is late.
       */
      readonly leaving: boolean;
    };

export class Handoff {
  /** When the current wait began; undefined when not waiting. */
  #since: number | undefined;

  /** When every successor was first seen holding its EIPs; undefined while not. */
  #heldAt: number | undefined;

  /** `lingerMs`: how long to keep carrying after the successors hold the EIPs (0: withdraw at once). */
  constructor(
    private readonly timeoutMs: number,
    private readonly lingerMs = 0,
  ) {}

  get waiting(): boolean {
    return this.#since !== undefined;
  }

  decide(input: HandoffInput): HandoffDecision {
    const next = new Set(input.next);
    const dropped = input.held.filter((ip) => !next.has(ip));
    const handedOver = dropped.filter((ip) => input.successorOf(ip) !== undefined);
    const waitingFor = handedOver.filter((ip) => !input.heldBy(input.successorOf(ip)!, ip));
    if (input.urgent || handedOver.length === 0) return this.#release(dropped, false);
    this.#since ??= input.now;
    const until = this.#since + this.timeoutMs;
    if (input.now >= until) return this.#release(dropped, true);
    const leaving = input.next.length === 0;
    if (waitingFor.length > 0) {
      this.#heldAt = undefined;
      return { release: false, waitingFor, until, leaving };
    }
    // Every successor holds its EIPs: the workers switch when their own probes hear that, so this
    // node keeps carrying for the linger before it withdraws (make-before-break on the workers too).
    this.#heldAt ??= input.now;
    const lingerEnds = this.#heldAt + this.lingerMs;
    if (input.now >= lingerEnds) return this.#release(dropped, false);
    return { release: false, waitingFor: [], until: Math.min(until, lingerEnds), leaving };
  }

  #release(dropped: readonly string[], timedOut: boolean): HandoffDecision {
    this.#since = undefined;
    this.#heldAt = undefined;
    return { release: true, dropped, timedOut };
  }
}
