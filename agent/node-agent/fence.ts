/**
 * Fencing: a node that hears no peer and cannot reach the API server may be the one cut off, and
 * another node may already carry its egress IPs, so it withdraws them. After it hears peers again
 * it takes nothing back until the hold-down has passed and its view of the API is fresh (every
 * informer listed again after the rejoin), so a flapping link cannot move EIPs at its own pace.
 */
export type FenceState = 'open' | 'fenced' | 'rejoining';

export interface FenceInput {
  /** The probes heard no peer within the fence window (and there are peers to hear). */
  readonly isolated: boolean;
  /** The last direct check of the API server: answered, not answered, or not asked yet. */
  readonly apiAnswers: boolean | undefined;
  /** Whether the API view is fresh since the given time (Date.now()). */
  readonly apiFreshSince: (since: number) => boolean;
  readonly now: number;
}

export class Fence {
  #state: FenceState = 'open';
  /** When peers were heard again (rejoining). */
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
        break;
      case 'fenced':
        if (!input.isolated) {
          this.#state = 'rejoining';
          this.#since = input.now;
        }
        break;
      case 'rejoining':
        if (cutOff) this.#state = 'fenced';
        else if (input.isolated) this.#since = input.now;
        else if (input.now - this.#since >= this.holdDownMs && input.apiFreshSince(this.#since)) this.#state = 'open';
        break;
    }
    return this.#state;
  }

  /** When a rejoining node should look again even if nothing else changes (undefined: no need). */
  nextCheckAt(): number | undefined {
    return this.#state === 'rejoining' ? this.#since + this.holdDownMs : undefined;
  }
}
