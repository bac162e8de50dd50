import type { EipPlan } from '../../planner/node-plan.js';
import { runBatch } from '../iproute/batch.js';
import { execFile, type Exec } from '../iproute/exec.js';
import type { KernelReads } from '../iproute/rows.js';
import { kernelReads } from '../kernel-reads.js';
import { fromBatch, type ApplyError, type StepResult } from '../report.js';
import { addressCommand } from './address-commands.js';
import { observeAddresses } from './address-observe.js';
import { hostPrefix, planAddressOps, type AddressOp, type AddressOpPlan } from './address-ops.js';
import { DEFAULT_ADDRESS_TAG } from './address-tag.js';
import type { HeldAddress, ObservedAddresses } from './address-types.js';

export interface AddressDriverOptions {
  /** IFA_RT_PRIORITY value marking our addresses; see address-tag.ts. */
  readonly tag?: number;
  /** Runs `ip` for writes (and for reads, unless `reads` is given). */
  readonly exec?: Exec;
  readonly reads?: KernelReads;
}

export interface AddressApplyResult extends StepResult {
  readonly added: readonly HeldAddress[];
  readonly removed: readonly HeldAddress[];
  /** Planned EIPs that are ours in the kernel after this apply (for the announcer). */
  readonly held: readonly HeldAddress[];
}

/** Owns the tagged EIP host addresses; the node's own addresses are never changed. Idempotent. */
export class AddressDriver {
  readonly tag: number;
  readonly #exec: Exec;
  readonly #reads: KernelReads;

  constructor(options: AddressDriverOptions = {}) {
    this.tag = options.tag ?? DEFAULT_ADDRESS_TAG;
    this.#exec = options.exec ?? execFile;
    this.#reads = kernelReads(options);
  }

  observe(): Promise<ObservedAddresses> {
    return observeAddresses(this.#reads, this.tag);
  }

  plan(eips: readonly EipPlan[], observed: ObservedAddresses): AddressOpPlan {
    return planAddressOps(eips, observed);
  }

  /** Adds and deletes against an observation the caller just made. */
  async applyObserved(eips: readonly EipPlan[], observed: ObservedAddresses): Promise<AddressApplyResult> {
    const plan = this.plan(eips, observed);
    const refused: ApplyError[] = [
      ...plan.conflicts.map((c): ApplyError => ({ code: 'EGW_ERR_ADDRESS_CONFLICT', op: `addr add ${c.address.ip} dev ${c.address.ifname}`, message: c.reason })),
      ...plan.rejected.map((r): ApplyError => ({ code: 'EGW_ERR_PLAN', op: 'plan', message: r })),
    ];
    const { step, done } = await this.#execute(plan.ops);
    const added = done.filter((op) => op.kind === 'add').map((op) => op.address);
    const removed = done.filter((op) => op.kind === 'del').map(({ address: a }) => ({ ip: a.ip, family: a.family, ifname: a.ifname }));
    return { writes: step.writes, errors: [...refused, ...step.errors], added, removed, held: [...plan.present, ...added] };
  }

  /**
   * Removes EIPs this driver added (as an earlier apply reported them held) without reading the
   * kernel first. One that is already gone is no error: removing it is all that was asked.
   */
  async release(addresses: readonly HeldAddress[]): Promise<StepResult> {
    const commands = addresses.map((a) => addressCommand({ kind: 'del', address: { ...a, prefixlen: hostPrefix(a.family), ours: true } }, this.tag));
    const step = fromBatch('ip', await runBatch(this.#exec, 'ip', commands));
    return { ...step, errors: step.errors.filter((e) => !/Cannot assign requested address/.test(e.message)) };
  }

  async #execute(ops: readonly AddressOp[]): Promise<{ step: StepResult; done: AddressOp[] }> {
    const commands = ops.map((op) => addressCommand(op, this.tag));
    const result = await runBatch(this.#exec, 'ip', commands);
    const failed = new Set(result.failures.map((f) => f.command));
    return { step: fromBatch('ip', result), done: ops.filter((_op, i) => !failed.has(commands[i]!)) };
  }
}
