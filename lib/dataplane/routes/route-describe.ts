import type { DiffLine } from '../diff-line.js';
import type { ObservedRoute } from './route-types.js';
import type { RouteOp } from './route-ops.js';

const tableName = (t: number) => (t === 254 ? 'main' : String(t));
const hex = (n: number) => `0x${n.toString(16)}`;

function observedRouteText(r: ObservedRoute): string {
  return [
    r.type !== 'unicast' ? r.type : '',
    r.dst,
    r.via ? `via ${r.via}` : '',
    r.dev ? `dev ${r.dev}` : '',
    r.onlink ? 'onlink' : '',
    r.metric ? `metric ${r.metric}` : '',
    ...r.foreign,
  ]
    .filter(Boolean)
    .join(' ');
}

export function describeRouteOp(op: RouteOp): DiffLine {
  const v6 = (family: number) => (family === 6 ? ' (IPv6)' : '');
  switch (op.kind) {
    case 'route-replace': {
      const r = op.route;
      const want = `${r.dst} via ${r.via} dev ${r.dev}${r.onlink ? ' onlink' : ''}`;
      return op.was
        ? { subsystem: 'route', change: 'changed', text: `changed route table ${r.table} ${observedRouteText(op.was)}, want ${want}${v6(r.family)}` }
        : { subsystem: 'route', change: 'missing', text: `missing route table ${r.table} ${want}${v6(r.family)}` };
    }
    case 'route-del':
      return { subsystem: 'route', change: 'extra', text: `extra route table ${op.route.table} ${observedRouteText(op.route)}${v6(op.route.family)}` };
    case 'rule-add': {
      const r = op.rule;
      return {
        subsystem: 'route',
        change: 'missing',
        text: `missing rule pref ${r.priority} fwmark ${hex(r.fwmark)}/${hex(r.mask)}${r.iifLo ? ' iif lo' : ''} lookup ${tableName(r.table)}${v6(r.family)}`,
      };
    }
    case 'rule-del':
      return {
        subsystem: 'route',
        change: 'extra',
        text: `extra rule ${op.rule.selector.replace(/ table (\d+)$/, (_m, t: string) => ` lookup ${tableName(Number(t))}`)}${v6(op.rule.family)}`,
      };
  }
}
