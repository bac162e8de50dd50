/**
 * A problem found in user input. `reason` is stable and machine-readable (it becomes a status
 * condition reason); `path` names the field (`spec.egressIP.ipv4`).
 */
export const PROBLEM_REASONS = [
  'Required',
  'InvalidType',
  'InvalidValue',
  'InvalidIP',
  'WrongFamily',
  'Conflict',
  'UnknownField',
  'GatewayNotFound',
  'IPNotInPool',
  'PoolExhausted',
  'EIPInUse',
  'PoolOverlap',
  'ReservedAddress',
  'ClusterAddress',
  'EIPConflict',
  'NoReadyGatewayNode',
  'NoNodeIP',
  'UnknownKind',
] as const;
export type ProblemReason = (typeof PROBLEM_REASONS)[number];

export interface Problem {
  readonly reason: ProblemReason;
  readonly path: string;
  readonly message: string;
}

export class ProblemList {
  readonly items: Problem[] = [];
  add(reason: ProblemReason, path: string, message: string): void {
    this.items.push({ reason, path, message });
  }
  get ok(): boolean {
    return this.items.length === 0;
  }
}

export function problemText(p: Problem): string {
  return p.path ? `${p.path}: ${p.message}` : p.message;
}

export interface Parsed<T> {
  readonly value?: T;
  /** Why the object was rejected; empty when `value` is set. */
  readonly problems: readonly Problem[];
  /**
   * Fields written by a controller (status, endpoint slices) that did not validate: they were left
   * out of `value`, which is otherwise usable. Reported so the bad writer can be found.
   */
  readonly ignored?: readonly Problem[];
}
