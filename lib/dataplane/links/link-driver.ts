import { EgressError } from '../../errors.js';
import type { VxlanPlan } from '../../planner/node-plan.js';
import { execFile, type Exec } from '../iproute/exec.js';
import type { KernelReads } from '../iproute/rows.js';
import { kernelReads } from '../kernel-reads.js';
import { runCommands } from '../iproute/run-commands.js';
import type { StepResult } from '../report.js';
import { linkCommand } from './link-commands.js';
import { desiredVxlan } from './link-desired.js';
import { observeLinks } from './link-observe.js';
import { planLinkOps, type LinkOp, type LinkOpPlan } from './link-ops.js';
import type { ObservedLinks } from './link-types.js';

export interface LinkDriverOptions {
  /** The only link this driver ever creates, changes or deletes (config vxlan.device). */
  readonly device: string;
  /** Runs `ip` and `bridge` for writes (and for reads, unless `reads` is given). */
  readonly exec?: Exec;
  readonly reads?: KernelReads;
  readonly sysClassNet?: string;
}

/**
 * Owns one VXLAN device, its tunnel addresses, permanent neighbours and FDB entries.
 * Every method is idempotent: applying the same plan twice writes nothing the second time.
 */
export class LinkDriver {
  readonly device: string;
  readonly #exec: Exec;
  readonly #reads: KernelReads;
  readonly #sysClassNet: string;

  constructor(options: LinkDriverOptions) {
    this.device = options.device;
    this.#exec = options.exec ?? execFile;
    this.#reads = kernelReads(options);
    this.#sysClassNet = options.sysClassNet ?? '/sys/class/net';
  }

  /** `parent` names the NIC whose MTU a plan with mtu 0 derives from; defaults to the device's own. */
  observe(parent?: string): Promise<ObservedLinks> {
    return observeLinks(this.#reads, this.device, parent, this.#sysClassNet);
  }

  /** Pure given `observed`; throws when the plan names another device or the MTU cannot be derived. */
  plan(vxlan: VxlanPlan | undefined, observed: ObservedLinks): LinkOpPlan {
    if (vxlan && vxlan.device !== this.device) {
      throw new EgressError('EGW_ERR_NETLINK', `plan names vxlan device "${vxlan.device}" but this agent owns "${this.device}"`);
    }
    return planLinkOps(vxlan ? desiredVxlan(vxlan, observed.parent?.mtu) : undefined, observed);
  }

  execute(ops: readonly LinkOp[]): Promise<StepResult> {
    return runCommands(this.#exec, ops.map(linkCommand));
  }
}
