import { EgressError } from '../../errors.js';
import type { VxlanPlan } from '../../planner/node-plan.js';
import { execFile, type Exec } from '../iproute/exec.js';
import { runCommands } from '../iproute/run-commands.js';
import { fromThrown, mergeSteps, NO_CHANGE, type StepResult } from '../report.js';
import { linkCommand } from './link-commands.js';
import { desiredVxlan } from './link-desired.js';
import { observeLinks } from './link-observe.js';
import { planLinkOps, type LinkOp, type LinkOpPlan } from './link-ops.js';
import type { ObservedLinks } from './link-types.js';

export const DEFAULT_VXLAN_DEVICE = 'egress.vxlan';

export interface LinkDriverOptions {
  /** The only link this driver ever creates, changes or deletes. */
  readonly device?: string;
  readonly exec?: Exec;
  readonly sysClassNet?: string;
}

export interface LinkApplyResult extends StepResult {
  readonly adds: StepResult;
  readonly deletes: StepResult;
}

/**
 * Owns one VXLAN device, its tunnel addresses, permanent neighbours and FDB entries.
 * Every method is idempotent: applying the same plan twice writes nothing the second time.
 */
export class LinkDriver {
  readonly device: string;
  readonly #exec: Exec;
  readonly #sysClassNet: string;

  constructor(options: LinkDriverOptions = {}) {
    this.device = options.device ?? DEFAULT_VXLAN_DEVICE;
    this.#exec = options.exec ?? execFile;
    this.#sysClassNet = options.sysClassNet ?? '/sys/class/net';
  }

  /** `parent` names the NIC whose MTU a plan with mtu 0 derives from; defaults to the device's own. */
  observe(parent?: string): Promise<ObservedLinks> {
    return observeLinks(this.#exec, this.device, parent, this.#sysClassNet);
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

  /** Observe, add what is missing, then remove what is stale. */
  async apply(vxlan: VxlanPlan | undefined): Promise<LinkApplyResult> {
    let ops: LinkOpPlan;
    try {
      ops = this.plan(vxlan, await this.observe(vxlan?.parent));
    } catch (err) {
      const failed: StepResult = { writes: 0, errors: [fromThrown(`observe link ${this.device}`, err)] };
      return { ...failed, adds: failed, deletes: NO_CHANGE };
    }
    const adds = await this.execute(ops.adds);
    const deletes = await this.execute(ops.deletes);
    return { ...mergeSteps(adds, deletes), adds, deletes };
  }
}
