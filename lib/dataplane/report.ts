import { EgressError, errorMessage, type ErrorCode } from '../errors.js';
import type { BatchResult } from './iproute/batch.js';

/** One thing a driver could not do; the driver carried on with the rest. */
export interface ApplyError {
  readonly code: ErrorCode;
  /** What was attempted, e.g. `ip route replace default via … table 3001`. */
  readonly op: string;
  readonly message: string;
}

/** Outcome of one driver step. `writes` counts kernel changes that succeeded, nothing else. */
export interface StepResult {
  readonly writes: number;
  readonly errors: readonly ApplyError[];
}

export const NO_CHANGE: StepResult = Object.freeze({ writes: 0, errors: Object.freeze([]) });

export function fromBatch(tool: string, result: BatchResult): StepResult {
  return {
    writes: result.writes,
    errors: result.failures.map((f) => ({ code: 'EGW_ERR_NETLINK' as const, op: `${tool} ${f.command}`, message: f.message })),
  };
}

export function fromThrown(op: string, err: unknown, fallback: ErrorCode = 'EGW_ERR_NETLINK'): ApplyError {
  return { code: err instanceof EgressError ? err.code : fallback, op, message: errorMessage(err) };
}

export function mergeSteps(...steps: readonly StepResult[]): StepResult {
  return { writes: steps.reduce((n, s) => n + s.writes, 0), errors: steps.flatMap((s) => s.errors) };
}
