import type { RuleEntry, RouteEntry } from '../../planner/node-plan.js';
import type { RouteOp } from './route-ops.js';

const hex = (n: number) => `0x${n.toString(16)}`;

function routeArgs(r: RouteEntry): string {
  return `${r.dst} via ${r.via} dev ${r.dev}${r.onlink ? ' onlink' : ''} table ${r.table}`;
}

function ruleArgs(r: RuleEntry): string {
  return `pref ${r.priority} fwmark ${hex(r.fwmark)}/${hex(r.mask)}${r.iifLo ? ' iif lo' : ''} table ${r.table}`;
}

/** One `ip -batch` line; the family comes from the batch's `-4`/`-6`. */
export function routeCommand(op: RouteOp): string {
  switch (op.kind) {
    case 'route-replace':
      return `route replace ${routeArgs(op.route)}`;
    case 'route-del':
      return `route del ${op.route.selector}`;
    case 'rule-add':
      return `rule add ${ruleArgs(op.rule)}`;
    case 'rule-del':
      return `rule del ${op.rule.selector}`;
  }
}
