/**
 * One driver applied on its own, as the driver tests run it: observe, then add what is missing and
 * remove what is stale, through the methods the Dataplane uses (which runs nft in between).
 */
import type { EipPlan, RoutingPlan, VxlanPlan } from '../../planner/node-plan.js';
import type { AddressApplyResult, AddressDriver } from '../addresses/address-driver.js';
import type { LinkDriver } from '../links/link-driver.js';
import type { LinkOpPlan } from '../links/link-ops.js';
import { fromThrown, mergeSteps, NO_CHANGE, type StepResult } from '../report.js';
import { withRejected, type RouteDriver } from '../routes/route-driver.js';
import { ownedRangesOf, type RouteOpPlan } from '../routes/route-ops.js';

export interface StandaloneApplyResult extends StepResult {
  readonly adds: StepResult;
  readonly deletes: StepResult;
}

export async function applyLinks(links: LinkDriver, vxlan: VxlanPlan | undefined): Promise<StandaloneApplyResult> {
  let ops: LinkOpPlan;
  try {
    ops = links.plan(vxlan, await links.observe(vxlan?.parent));
  } catch (err) {
    const failed: StepResult = { writes: 0, errors: [fromThrown(`observe link ${links.device}`, err)] };
    return { ...failed, adds: failed, deletes: NO_CHANGE };
  }
  const adds = await links.execute(ops.adds);
  const deletes = await links.execute(ops.deletes);
  return { ...mergeSteps(adds, deletes), adds, deletes };
}

export async function applyRoutes(routes: RouteDriver, routing: RoutingPlan): Promise<StandaloneApplyResult> {
  let ops: RouteOpPlan;
  try {
    ops = routes.plan(routing, await routes.observe(ownedRangesOf(routing)));
  } catch (err) {
    const failed: StepResult = { writes: 0, errors: [fromThrown('observe rules and routes', err)] };
    return { ...failed, adds: failed, deletes: NO_CHANGE };
  }
  const adds = withRejected(await routes.execute(ops.adds), ops.rejected);
  const deletes = await routes.execute(ops.deletes);
  return { ...mergeSteps(adds, deletes), adds, deletes };
}

export async function applyAddresses(addresses: AddressDriver, eips: readonly EipPlan[]): Promise<AddressApplyResult> {
  try {
    return await addresses.applyObserved(eips, await addresses.observe());
  } catch (err) {
    return { writes: 0, errors: [fromThrown('observe addresses', err)], added: [], removed: [], held: [] };
  }
}
