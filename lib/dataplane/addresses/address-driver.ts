import type { EipPlan } from '../../planner/node-plan.js';
import type { Exec } from '../iproute/exec.js';
import type { KernelReads } from '../iproute/rows.js';
import { kernelReads } from '../kernel-reads.js';
import type { ApplyError, StepResult } from '../report.js';
import { addressCommand } from './address-commands.js';
import { batchAddressWrites, rtnetlinkAddressWrites, type AddressWrites, type WriteFailure } from './address-writes.js';
import { observeAddresses } from './address-observe.js';
import { hostPrefix, planAddressOps, type AddressOp, type AddressOpPlan } from './address-ops.js';
import { DEFAULT_ADDRESS_TAG } from './address-tag.js';
import type { HeldAddress, ObservedAddresses } from './address-types.js';

export interface AddressDriverOptions {
  /** IFA_RT_PRIORITY value marking our addresses; see address-tag.ts. */
  readonly tag?: number;
  /**
   * Runs `ip` for writes (and for reads, unless `reads` is given): a kernel of the caller's making.
   * Without it, writes go over the process's rtnetlink socket.
   */
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
  readonly #writes: AddressWrites;
  readonly #reads: KernelReads;

  constructor(options: AddressDriverOptions = {}) {
    this.tag = options.tag ?? DEFAULT_ADDRESS_TAG;
    this.#writes = options.exec ? batchAddressWrites(options.exec, this.tag) : rtnetlinkAddressWrites(this.tag);
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
    const ops = addresses.map((a): AddressOp => ({ kind: 'del', address: { ...a, prefixlen: hostPrefix(a.family), ours: true } }));
    const { step } = await this.#execute(ops, (failure) => !failure.absent);
    return step;
  }

  /** Writes `ops`; failures `counted` (all by default) are errors, the others neither errors nor writes. */
  async #execute(ops: readonly AddressOp[], counted: (failure: WriteFailure) => boolean = () => true): Promise<{ step: StepResult; done: AddressOp[] }> {
    const outcomes = await this.#writes(ops);
    const errors: ApplyError[] = [];
    const done: AddressOp[] = [];
    outcomes.forEach((failure, i) => {
      const op = ops[i]!;
      if (failure === undefined) done.push(op);
      else if (counted(failure)) errors.push({ code: 'EGW_ERR_NETLINK', op: `ip ${addressCommand(op, this.tag)}`, message: failure.message });
    });
    return { step: { writes: done.length, errors }, done };
  }
}
