import { errorMessage } from '../errors.js';
import type { NodePlan } from '../planner/node-plan.js';
import { describeAddressOp, describeConflict } from './addresses/address-describe.js';
import { planAddressOps } from './addresses/address-ops.js';
import type { DiffLine } from './diff-line.js';
import type { ObservedDataplane } from './dataplane-types.js';
import { describeLinkOp } from './links/link-describe.js';
import { desiredVxlan } from './links/link-desired.js';
import { planLinkOps } from './links/link-ops.js';
import { describeRouteOp } from './routes/route-describe.js';
import { planRouteOps } from './routes/route-ops.js';
import { sameSysctlValue } from './sysctl/sysctl-path.js';

function sysctlLines(plan: NodePlan, observed: ObservedDataplane): DiffLine[] {
  const have = new Map(observed.sysctls.map((s) => [s.key, s.value]));
  const out: DiffLine[] = [];
  for (const { key, value } of plan.sysctls) {
    const current = have.get(key);
    if (current === undefined) out.push({ subsystem: 'sysctl', change: 'missing', text: `missing sysctl ${key} (no such key in this kernel yet), want ${value}` });
    else if (!sameSysctlValue(current, value)) out.push({ subsystem: 'sysctl', change: 'changed', text: `changed sysctl ${key} is ${current.trim()}, want ${value}` });
  }
  return out;
}

function linkLines(plan: NodePlan, observed: ObservedDataplane): DiffLine[] {
  if (plan.vxlan && plan.vxlan.device !== observed.links.device) {
    return [{ subsystem: 'link', change: 'conflict', text: `conflict link ${plan.vxlan.device}: this agent owns ${observed.links.device}` }];
  }
  try {
    const ops = planLinkOps(plan.vxlan ? desiredVxlan(plan.vxlan, observed.links.parent?.mtu) : undefined, observed.links);
    return [...ops.adds, ...ops.deletes].map(describeLinkOp);
  } catch (err) {
    return [{ subsystem: 'link', change: 'conflict', text: `conflict link ${observed.links.device}: ${errorMessage(err)}` }];
  }
}

function routeLines(plan: NodePlan, observed: ObservedDataplane): DiffLine[] {
  const ops = planRouteOps(plan.routing, observed.routes);
  return [...[...ops.adds, ...ops.deletes].map(describeRouteOp), ...ops.rejected.map((r): DiffLine => ({ subsystem: 'route', change: 'conflict', text: `conflict ${r}` }))];
}

function addressLines(plan: NodePlan, observed: ObservedDataplane): DiffLine[] {
  const ops = planAddressOps(plan.eips, observed.addresses);
  return [
    ...ops.ops.map(describeAddressOp),
    ...ops.conflicts.map(describeConflict),
    ...ops.rejected.map((r): DiffLine => ({ subsystem: 'address', change: 'conflict', text: `conflict ${r}` })),
  ];
}

/**
 * Pure: every difference between a plan and an observation, in apply order (sysctls, links,
 * routes, addresses); empty when an apply would write nothing. nft is diffed by its own driver.
 */
export function diffPlan(plan: NodePlan, observed: ObservedDataplane): DiffLine[] {
  return [...sysctlLines(plan, observed), ...linkLines(plan, observed), ...routeLines(plan, observed), ...addressLines(plan, observed)];
}
