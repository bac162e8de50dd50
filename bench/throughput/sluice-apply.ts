/**
 * Removal of what an empty plan leaves behind in a lab node, so the hand-written path gets a node
 * as bare as the CNI left it. Plans themselves are applied with e2e/dataplane's `sluice apply` helper.
 */
import type { Lab } from '../../e2e/labkit/lab.js';
import { DEFAULT_CONFIG } from '../../lib/planner/config.js';
import type { NodePlan } from '../../lib/planner/node-plan.js';

const STEP_TIMEOUT_MS = 10_000;

/**
 * An empty plan removes EIPs and policies' rules, but keeps the nft table, every node's tunnel and
 * the routing prepared towards gateway-capable nodes (README: "Tunnels are ready before a policy
 * needs them"); the hand-written path needs the node as bare as the CNI left it, so those go too.
 */
export async function removeSluiceLeftovers(lab: Lab, plans: readonly NodePlan[]): Promise<void> {
  for (const plan of plans) {
    const node = { node: plan.node };
    const table = await lab.exec(node, ['nft', 'list', 'table', 'inet', plan.nft.name], { timeoutMs: STEP_TIMEOUT_MS, allowFailure: true });
    if (table.exitCode === 0) await lab.exec(node, ['nft', 'delete', 'table', 'inet', plan.nft.name], { timeoutMs: STEP_TIMEOUT_MS });
    const device = plan.vxlan?.device ?? DEFAULT_CONFIG.vxlan.device;
    const link = await lab.exec(node, ['ip', 'link', 'show', 'dev', device], { timeoutMs: STEP_TIMEOUT_MS, allowFailure: true });
    if (link.exitCode === 0) await lab.exec(node, ['ip', 'link', 'delete', 'dev', device], { timeoutMs: STEP_TIMEOUT_MS });
    await removeSluiceRouting(lab, plan);
  }
}

/** Deletes the ip rules and routes left in sluice's ranges. */
async function removeSluiceRouting(lab: Lab, plan: NodePlan): Promise<void> {
  const { ownedRulePriorities: prio, ownedTables: tables } = plan.routing;
  const node = { node: plan.node };
  for (const family of ['-4', '-6']) {
    const rules = JSON.parse((await lab.exec(node, ['ip', family, '-j', 'rule', 'show'], { timeoutMs: STEP_TIMEOUT_MS })).stdout) as { priority: number }[];
    for (const r of rules.filter((x) => x.priority >= prio.min && x.priority <= prio.max)) {
      await lab.exec(node, ['ip', family, 'rule', 'del', 'priority', String(r.priority)], { timeoutMs: STEP_TIMEOUT_MS });
    }
    const routes = JSON.parse((await lab.exec(node, ['ip', family, '-j', 'route', 'show', 'table', 'all'], { timeoutMs: STEP_TIMEOUT_MS })).stdout) as {
      table?: string | number;
    }[];
    for (const t of new Set(routes.map((r) => Number(r.table)).filter((t) => t >= tables.min && t <= tables.max))) {
      await lab.exec(node, ['ip', family, 'route', 'flush', 'table', String(t)], { timeoutMs: STEP_TIMEOUT_MS });
    }
  }
}
