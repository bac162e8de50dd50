import type { Family } from '../../api/ip.js';
import type { RoutingPlan } from '../../planner/node-plan.js';
import { execFile, type Exec } from '../iproute/exec.js';
import type { KernelReads } from '../iproute/rows.js';
import { kernelReads } from '../kernel-reads.js';
import { runCommands } from '../iproute/run-commands.js';
import { mergeSteps, type ApplyError, type StepResult } from '../report.js';
import { routeCommand } from './route-commands.js';
import { observeRouting } from './route-observe.js';
import { opFamily, planRouteOps, type RouteOp, type RouteOpPlan } from './route-ops.js';
import type { ObservedRouting, OwnedRanges } from './route-types.js';

export interface RouteDriverOptions {
  /** Runs `ip` for writes (and for reads, unless `reads` is given). */
  readonly exec?: Exec;
  readonly reads?: KernelReads;
}

/**
 * Owns the ip rules in a priority range and the routes in a table range, both families.
 * Idempotent; a restarted agent adopts what it finds and collects only inside its ranges.
 */
export class RouteDriver {
  readonly #exec: Exec;
  readonly #reads: KernelReads;

  constructor(options: RouteDriverOptions = {}) {
    this.#exec = options.exec ?? execFile;
    this.#reads = kernelReads(options);
  }

  observe(owned: OwnedRanges): Promise<ObservedRouting> {
    return observeRouting(this.#reads, owned);
  }

  plan(routing: RoutingPlan, observed: ObservedRouting): RouteOpPlan {
    return planRouteOps(routing, observed);
  }

  /** One `ip -batch` process per family that has work, both families at once. */
  async execute(ops: readonly RouteOp[]): Promise<StepResult> {
    const byFamily = (family: Family) => ops.filter((op) => opFamily(op) === family).map((op) => ({ tool: 'ip' as const, command: routeCommand(op) }));
    const [v4, v6] = await Promise.all([runCommands(this.#exec, byFamily(4), 4), runCommands(this.#exec, byFamily(6), 6)]);
    return mergeSteps(v4, v6);
  }
}

export function withRejected(step: StepResult, rejected: readonly string[]): StepResult {
  const errors: ApplyError[] = rejected.map((r) => ({ code: 'EGW_ERR_PLAN', op: 'plan', message: r }));
  return errors.length ? { writes: step.writes, errors: [...step.errors, ...errors] } : step;
}
