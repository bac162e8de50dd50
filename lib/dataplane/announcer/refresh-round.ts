/**
 * One timer for every periodic refresh: members joining a round are all run when it fires, every
 * `periodMs`. A member that joins between two firings waits at most one period (never longer than
 * a timer of its own would), so a node holding many addresses wakes once a period, not once per
 * address. The timer exists only while the round has members (or fires once more, empty, and
 * ends), and is unref-ed: it never keeps a process alive.
 */
export class RefreshRound<T> {
  readonly #members = new Set<T>();
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly periodMs: number,
    /** Runs one member; it joins again (join()) when it wants the next round. */
    private readonly run: (member: T) => void,
  ) {}

  /** Runs `member` at the next firing (once). */
  join(member: T): void {
    this.#members.add(member);
    if (this.#timer === undefined) this.#arm();
  }

  leave(member: T): void {
    this.#members.delete(member);
  }

  /** Forgets every member and stops the timer. */
  clear(): void {
    this.#members.clear();
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(): void {
    this.#timer = setTimeout(() => this.#fire(), this.periodMs);
    this.#timer.unref();
  }

  #fire(): void {
    this.#timer = undefined;
    const due = [...this.#members];
    this.#members.clear();
    // Re-armed before the members run: one that joins again from run() lands in the next round.
    if (due.length > 0) this.#arm();
    for (const member of due) this.run(member);
  }
}
