/**
 * Fencing: a node that hears no peer and cannot reach the API server may be the one cut off, and
 * another node may already carry its egress IPs, so it withdraws them. After it hears peers again
 * it takes nothing back until the hold-down has passed and its view of the API is fresh (every
 * informer listed again after the rejoin), so a flapping link cannot move EIPs at its own pace.
 *
 * A node that reaches the API server is not fenced on isolation alone (its peers may all be dead),
 * but it is displaced: when, soon after it heard no node at all, a peer it hears again says it
 * holds an egress IP this node holds, the peers judged this node dead and moved that EIP. It then
 * stands aside as a rejoining node does (withdraws at once, takes nothing back for the hold-down),
 * and counts the hold-down only while it hears nobody no more, so a flapping link keeps it aside.
 */
export type FenceState = 'open' | 'fenced' | 'rejoining';

export interface FenceInput {
  /** The probes heard no peer within the fence window (and there are peers to hear). */
  readonly isolated: boolean;
  /** The probes heard no node at all within the detection window: the peers are judging this node dead. */
  readonly hearsNobody?: boolean;
  /** A peer this node hears again, soon after it heard nobody, holds an egress IP this node holds. */
  readonly displaced?: boolean;
  /** A peer this node hears is still held down (judged dead, not yet heard for a whole hold-down). */
  readonly holdingDown?: boolean;
  /** The last direct check of the API server: answered, not answered, or not asked yet. */
  readonly apiAnswers: boolean | undefined;
  /** Whether the API view is fresh since the given time (Date.now()). */
  readonly apiFreshSince: (since: number) => boolean;
  readonly now: number;
}

export class Fence {
  #state: FenceState = 'open';
  /** When peers were last heard again (rejoining). */
  #since = 0;

  constructor(private readonly holdDownMs: number) {}

  get state(): FenceState {
    return this.#state;
  }

  /** Takes one observation; returns the state now. */
  observe(input: FenceInput): FenceState {
    const cutOff = input.isolated && input.apiAnswers === false;
    switch (this.#state) {
      case 'open':
        if (cutOff) this.#state = 'fenced';
        else if (input.displaced === true) this.#rejoin(input.now);
        break;
      case 'fenced':
        if (!input.isolated) this.#rejoin(input.now);
        break;
      case 'rejoining':
        if (cutOff) this.#state = 'fenced';
        else if (input.isolated || input.hearsNobody === true) this.#since = input.now;
        else if (input.now - this.#since >= this.holdDownMs && !this.#heldDown(input) && input.apiFreshSince(this.#since)) this.#state = 'open';
        break;
    }
    return this.#state;
  }

  /**
   * A peer this node still holds down heard this node again at about the same time, so it counts
   * this node dead about as long: taking EIPs back before would contest them. Waited for up to a
   * second hold-down (a peer that keeps flapping does not keep this node aside for good).
   */
  #heldDown(input: FenceInput): boolean {
    return input.holdingDown === true && input.now - this.#since < 2 * this.holdDownMs;
  }

  #rejoin(now: number): void {
    this.#state = 'rejoining';
    this.#since = now;
  }

  /** When a rejoining node should look again even if nothing else changes (undefined: no need). */
  nextCheckAt(): number | undefined {
    return this.#state === 'rejoining' ? this.#since + this.holdDownMs : undefined;
  }
}
