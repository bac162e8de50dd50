/**
 * Removal of what an empty plan leaves behind in a lab node, so the hand-written path gets a node
 * as bare as the CNI left it. Plans themselves are applied with e2e/dataplane's `sluice apply` helper.
 */
import type { Lab } from '../../e2e/labkit/lab.js';
import { DEFAULT_CONFIG } from '../../lib/planner/config.js';
import type { NodePlan } from '../../lib/planner/node-plan.js';

const STEP_TIMEOUT_MS = 10_000;

/**
 * An empty plan removes rules, routes, EIPs and a worker's tunnel, but keeps the nft table (and a
 * gateway node's tunnel, which workers must always be able to reach); the hand-written path needs
 * the node as bare as the CNI left it, so those go too.
 */
export async function removeSluiceLeftovers(lab: Lab, plans: readonly NodePlan[]): Promise<void> {
  for (const plan of plans) {
    const node = { node: plan.node };
    const table = await lab.exec(node, ['nft', 'list', 'table', 'inet', plan.nft.name], { timeoutMs: STEP_TIMEOUT_MS, allowFailure: true });
    if (table.exitCode === 0) await lab.exec(node, ['nft', 'delete', 'table', 'inet', plan.nft.name], { timeoutMs: STEP_TIMEOUT_MS });
    const device = plan.vxlan?.device ?? DEFAULT_CONFIG.vxlan.device;
    const link = await lab.exec(node, ['ip', 'link', 'show', 'dev', device], { timeoutMs: STEP_TIMEOUT_MS, allowFailure: true });
    if (link.exitCode === 0) await lab.exec(node, ['ip', 'link', 'delete', 'dev', device], { timeoutMs: STEP_TIMEOUT_MS });
    await assertNoSluiceRouting(lab, plan);
  }
}

/** An empty plan must have taken every rule and route in sluice's ranges with it. */
async function assertNoSluiceRouting(lab: Lab, plan: NodePlan): Promise<void> {
  const { ownedRulePriorities: prio, ownedTables: tables } = plan.routing;
  const rules = JSON.parse((await lab.exec({ node: plan.node }, ['ip', '-j', 'rule', 'show'], { timeoutMs: STEP_TIMEOUT_MS })).stdout) as { priority: number }[];
  const routes = JSON.parse((await lab.exec({ node: plan.node }, ['ip', '-j', 'route', 'show', 'table', 'all'], { timeoutMs: STEP_TIMEOUT_MS })).stdout) as {
    table?: string | number;
  }[];
  const strayRules = rules.filter((r) => r.priority >= prio.min && r.priority <= prio.max);
  const strayRoutes = routes.filter((r) => Number(r.table) >= tables.min && Number(r.table) <= tables.max);
  if (strayRules.length || strayRoutes.length) {
    throw new Error(`${plan.node}: an empty plan left ${strayRules.length} rule(s) and ${strayRoutes.length} route(s) in sluice's ranges`);
  }
}
