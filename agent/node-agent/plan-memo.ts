/**
 * The last plan and what it was computed from. The planner is pure and the store hands out the same
 * Snapshot object until something in it changes, so a reconcile of an unchanged snapshot (a periodic
 * resync, a device repair) takes the plan, its fingerprint and what it applies from here instead of
 * planning again: seconds of CPU at 1000 policies and 20k endpoints on a loaded node, every minute.
 * The probes are planned with too (Snapshot.probes, a new object every time): `key` names what of
 * them can change a plan (probeFactsKey), so equal facts reuse the plan and changed facts never do.
 */
export class PlanMemo<Input extends object, Planned> {
  #from: Input | undefined;
  #key = '';
  #planned: Planned | undefined;

  /** What was planned from this very input with this key, if it was the last one. */
  get(input: Input, key = ''): Planned | undefined {
    return this.#from === input && this.#key === key ? this.#planned : undefined;
  }

  set(input: Input, key: string, planned: Planned): void {
    this.#from = input;
    this.#key = key;
    this.#planned = planned;
  }
}
