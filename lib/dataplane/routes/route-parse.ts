import { canonicalIp, type Family } from '../../api/ip.js';
import { canonicalPrefix } from '../iproute/ip-text.js';
import type { RouteRow } from '../iproute/rows.js';
import type { IdRange, ObservedRoute, ObservedRule } from './route-types.js';

/** rtm_type numbers, as `-N` prints them. */
const ROUTE_TYPES: Readonly<Record<string, string>> = {
  '1': 'unicast',
  '2': 'local',
  '3': 'broadcast',
  '4': 'anycast',
  '5': 'multicast',
  '6': 'blackhole',
  '7': 'unreachable',
  '8': 'prohibit',
  '9': 'throw',
  '10': 'nat',
  '11': 'xresolve',
};

export const DEFAULT_METRIC: Readonly<Record<Family, number>> = { 4: 0, 6: 1024 };
const FULL_MASK = 0xffffffff;

export function inRange(n: number | undefined, range: IdRange): n is number {
  return n !== undefined && n >= range.min && n <= range.max;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
}

function num(v: unknown): number | undefined {
  const s = str(v);
  if (s === undefined) return undefined;
  const n = s.startsWith('0x') ? Number.parseInt(s, 16) : Number(s);
  return Number.isFinite(n) ? n : undefined;
}

/** A rule row's priority (0 when it has none, as `ip rule` lists the first rule). */
export const rulePriority = (row: RouteRow): number => num(row.priority) ?? 0;

/** A route row's table (main when it names none, as `ip route` lists main's routes). */
export const routeTable = (row: RouteRow): number => num(row.table) ?? 254;

const RULE_SHAPE_KEYS = new Set(['priority', 'src', 'fwmark', 'fwmask', 'iif', 'table', 'protocol', 'flags']);

export function parseRule(row: RouteRow, family: Family): ObservedRule {
  const priority = rulePriority(row);
  const fwmark = num(row.fwmark);
  const mask = fwmark === undefined ? undefined : (num(row.fwmask) ?? FULL_MASK);
  const iif = str(row.iif);
  const table = num(row.table);
  const foreign = Object.keys(row).filter((k) => !RULE_SHAPE_KEYS.has(k));
  if (str(row.src) !== undefined && row.src !== 'all') foreign.push('src');

  const sel: string[] = [];
  if (row.not !== undefined) sel.push('not');
  sel.push(`pref ${priority}`);
  if (row.src !== undefined && row.src !== 'all') sel.push(`from ${str(row.src)}/${num(row.srclen) ?? (family === 4 ? 32 : 128)}`);
  if (row.dst !== undefined && row.dst !== 'all') sel.push(`to ${str(row.dst)}/${num(row.dstlen) ?? (family === 4 ? 32 : 128)}`);
  if (row.tos !== undefined) sel.push(`tos ${str(row.tos)}`);
  if (fwmark !== undefined) sel.push(`fwmark 0x${fwmark.toString(16)}/0x${mask!.toString(16)}`);
  if (iif !== undefined) sel.push(`iif ${iif}`);
  if (row.oif !== undefined) sel.push(`oif ${str(row.oif)}`);
  const ipproto = /(\d+)$/.exec(str(row.ipproto) ?? '');
  if (ipproto) sel.push(`ipproto ${ipproto[1]}`);
  for (const port of ['sport', 'dport'] as const) {
    if (row[port] !== undefined) sel.push(`${port} ${str(row[port])}`);
    else if (row[`${port}_start`] !== undefined) sel.push(`${port} ${str(row[`${port}_start`])}-${str(row[`${port}_end`])}`);
  }
  if (row.uid_start !== undefined) sel.push(`uidrange ${str(row.uid_start)}-${str(row.uid_end)}`);
  if (table !== undefined) sel.push(`table ${table}`);
  else if (row.goto !== undefined) sel.push(`goto ${str(row.goto)}`);
  else if (row.action !== undefined) sel.push(ROUTE_TYPES[str(row.action)!] ?? `${str(row.action)}`);

  return {
    family,
    priority,
    ...(fwmark !== undefined ? { fwmark, mask: mask! } : {}),
    ...(iif !== undefined ? { iif } : {}),
    ...(table !== undefined ? { table } : {}),
    foreign: foreign.sort(),
    selector: sel.join(' '),
  };
}

const ROUTE_SHAPE_KEYS = new Set(['type', 'dst', 'gateway', 'dev', 'table', 'metric', 'flags', 'protocol', 'scope', 'pref']);

export function parseRoute(row: RouteRow, family: Family): ObservedRoute {
  const type = ROUTE_TYPES[str(row.type) ?? '1'] ?? `type-${str(row.type)}`;
  const dst = canonicalPrefix(str(row.dst) ?? 'default', family);
  const table = routeTable(row);
  const metric = num(row.metric) ?? 0;
  const gateway = str(row.gateway);
  const via = gateway !== undefined ? canonicalIp(gateway) : undefined;
  const dev = str(row.dev);
  const flags = Array.isArray(row.flags) ? row.flags.map(String) : [];
  const foreign = Object.keys(row).filter((k) => !ROUTE_SHAPE_KEYS.has(k));
  const sel = [
    ...(type !== 'unicast' ? [type] : []),
    dst,
    `table ${table}`,
    `metric ${metric}`,
    ...(row.tos !== undefined ? [`tos ${str(row.tos)}`] : []),
    ...(via !== undefined ? [`via ${via}`] : []),
    ...(dev !== undefined && type === 'unicast' ? [`dev ${dev}`] : []),
  ];
  return {
    family,
    table,
    type,
    dst,
    ...(via !== undefined ? { via } : {}),
    ...(dev !== undefined ? { dev } : {}),
    onlink: flags.includes('onlink'),
    metric,
    foreign: foreign.sort(),
    selector: sel.join(' '),
  };
}
