import type { DesiredVxlan, ObservedDevice, ObservedLinks } from './link-types.js';

export type LinkOp =
  | { readonly kind: 'create'; readonly link: DesiredVxlan }
  | { readonly kind: 'delete'; readonly device: string; readonly reason?: string }
  | { readonly kind: 'modify'; readonly device: string; readonly mtu?: number; readonly mac?: string; readonly up?: true; readonly was: string }
  | { readonly kind: 'addr-add' | 'addr-del'; readonly device: string; readonly cidr: string }
  | { readonly kind: 'neigh-set'; readonly device: string; readonly ip: string; readonly mac: string; readonly was?: string }
  | { readonly kind: 'neigh-del'; readonly device: string; readonly ip: string; readonly mac?: string }
  | { readonly kind: 'fdb-add' | 'fdb-del'; readonly device: string; readonly mac: string; readonly dst: string };

/** Adds run before routes are added; deletes run after routes and nft stopped using them. */
export interface LinkOpPlan {
  readonly adds: readonly LinkOp[];
  readonly deletes: readonly LinkOp[];
}

/** Why an existing link cannot be adjusted in place, or undefined when it can. */
function recreateReason(want: DesiredVxlan, have: ObservedDevice): string | undefined {
  if (have.kind !== 'vxlan') return `is a ${have.kind} link, not vxlan`;
  const diffs: string[] = [];
  if (have.vni !== want.vni) diffs.push(`vni ${have.vni} → ${want.vni}`);
  if (have.port !== want.port) diffs.push(`dstport ${have.port} → ${want.port}`);
  if (have.local !== want.localIp) diffs.push(`local ${have.local ?? 'none'} → ${want.localIp}`);
  if (have.parent !== want.parent) diffs.push(`dev ${have.parent ?? 'none'} → ${want.parent}`);
  if (have.learning !== false) diffs.push('learning on → nolearning');
  return diffs.length > 0 ? diffs.join(', ') : undefined;
}

function children(want: DesiredVxlan): LinkOp[] {
  const device = want.device;
  return [
    ...want.addresses.map((cidr): LinkOp => ({ kind: 'addr-add', device, cidr })),
    ...want.neighbours.map((n): LinkOp => ({ kind: 'neigh-set', device, ip: n.ip, mac: n.mac })),
    ...want.fdb.map((f): LinkOp => ({ kind: 'fdb-add', device, mac: f.mac, dst: f.dst })),
  ];
}

/**
 * Pure: what to write so the device matches `want` (undefined = no device). A device whose
 * immutable parameters differ is deleted and created again inside `adds`: there is no way to
 * change them in place, and everything hanging off it is recreated with it.
 */
export function planLinkOps(want: DesiredVxlan | undefined, observed: ObservedLinks): LinkOpPlan {
  const have = observed.link;
  if (!want) {
    return { adds: [], deletes: have ? [{ kind: 'delete', device: observed.device }] : [] };
  }
  if (!have) return { adds: [{ kind: 'create', link: want }, ...children(want)], deletes: [] };
  const reason = recreateReason(want, have);
  if (reason) {
    return { adds: [{ kind: 'delete', device: want.device, reason }, { kind: 'create', link: want }, ...children(want)], deletes: [] };
  }

  const device = want.device;
  const adds: LinkOp[] = [];
  const deletes: LinkOp[] = [];
  const mtu = have.mtu !== want.mtu ? want.mtu : undefined;
  const mac = have.mac !== want.mac ? want.mac : undefined;
  if (mtu !== undefined || mac !== undefined || !have.up) {
    adds.push({
      kind: 'modify',
      device,
      ...(mtu !== undefined ? { mtu } : {}),
      ...(mac !== undefined ? { mac } : {}),
      ...(!have.up ? { up: true as const } : {}),
      was: `mtu ${have.mtu} address ${have.mac} ${have.up ? 'up' : 'down'}`,
    });
  }

  const haveAddrs = new Set(have.addresses.map((a) => a.cidr));
  const wantAddrs = new Set(want.addresses);
  for (const cidr of want.addresses) if (!haveAddrs.has(cidr)) adds.push({ kind: 'addr-add', device, cidr });
  for (const { cidr } of have.addresses) if (!wantAddrs.has(cidr)) deletes.push({ kind: 'addr-del', device, cidr });

  // A new device MAC makes the kernel flush the device's neighbours, permanent ones included.
  const neighbours = mac !== undefined ? [] : have.neighbours;
  const haveNeigh = new Map(neighbours.map((n) => [n.ip, n]));
  const wantNeigh = new Set(want.neighbours.map((n) => n.ip));
  for (const n of want.neighbours) {
    const h = haveNeigh.get(n.ip);
    if (h?.permanent && h.mac === n.mac) continue;
    adds.push({ kind: 'neigh-set', device, ip: n.ip, mac: n.mac, ...(h ? { was: `${h.mac ?? 'no lladdr'}${h.permanent ? '' : ' (not permanent)'}` } : {}) });
  }
  for (const h of neighbours) {
    if (h.permanent && !wantNeigh.has(h.ip)) deletes.push({ kind: 'neigh-del', device, ip: h.ip, ...(h.mac ? { mac: h.mac } : {}) });
  }

  const key = (f: { mac: string; dst: string }) => `${f.mac}|${f.dst}`;
  const haveFdb = new Set(have.fdb.map(key));
  const wantFdb = new Set(want.fdb.map(key));
  for (const f of want.fdb) if (!haveFdb.has(key(f))) adds.push({ kind: 'fdb-add', device, mac: f.mac, dst: f.dst });
  for (const f of have.fdb) if (!wantFdb.has(key(f))) deletes.push({ kind: 'fdb-del', device, mac: f.mac, dst: f.dst });

  return { adds, deletes };
}
