/** NodePlans for driver tests, compiled by the real planner from lib/planner/testdata/seed-002.yaml. */
import { fileURLToPath } from 'node:url';
import { loadDocuments } from '../../input/load-documents.js';
import { parseSources } from '../../input/parse-sources.js';
import { resolveConfig } from '../../planner/config.js';
import { snapshotFromObjects } from '../../planner/from-objects.js';
import type { NodePlan, RouteEntry, RuleEntry, VxlanPlan } from '../../planner/node-plan.js';
import { plan } from '../../planner/plan.js';

// dist/lib/dataplane/testing/ → repository root
const SEED = fileURLToPath(new URL('../../../../lib/planner/testdata/seed-002.yaml', import.meta.url));

/**
 * The drivers take whatever marks a plan names; these tests' expectations name those of a 0xff00
 * mask (gateway marks 0x100, 0x200; "SNAT here" 0xff00).
 */
const SEED_CONFIG = resolveConfig({ markMask: 0xff00 }, { allowMarkOverlap: true });

/** worker-1 is 198.18.0.11 (tunnel 172.31.0.3); gateway-1 is 198.18.0.12 (tunnel 172.31.0.1, EIP 198.18.0.110). */
export async function seedPlan(node: 'worker-1' | 'gateway-1' | 'gateway-2'): Promise<NodePlan> {
  const { objects } = parseSources(await loadDocuments(SEED));
  return plan(snapshotFromObjects(objects, SEED_CONFIG), node);
}

const v6Tunnel = (v4: string) => `fd00:5c:e::${v4.split('.')[3]}`;

/**
 * The seed cluster is IPv4-only; this adds the IPv6 half a dual-stack plan would carry (tunnel
 * addresses in fd00:5c:e::/112, v6 copies of every route and rule, a v6 EIP beside each v4 one).
 */
export function withIpv6(p: NodePlan): NodePlan {
  const vxlan: VxlanPlan | undefined = p.vxlan && {
    ...p.vxlan,
    ...(p.vxlan.addressV4 ? { addressV6: `${v6Tunnel(p.vxlan.addressV4.split('/')[0]!)}/112` } : {}),
    peers: p.vxlan.peers.map((peer) => ({ ...peer, ...(peer.tunnelIpv4 ? { tunnelIpv6: v6Tunnel(peer.tunnelIpv4) } : {}) })),
  };
  const v6Dst = (dst: string) => (dst === 'default' ? 'default' : `fd10:244:${dst.split('.')[2]}::/64`);
  const routes: RouteEntry[] = [
    ...p.routing.routes,
    ...p.routing.routes.filter((r) => r.family === 4).map((r): RouteEntry => ({ ...r, family: 6, dst: v6Dst(r.dst), via: v6Tunnel(r.via) })),
  ];
  const rules: RuleEntry[] = [...p.routing.rules, ...p.routing.rules.filter((r) => r.family === 4).map((r): RuleEntry => ({ ...r, family: 6 }))];
  return {
    ...p,
    ...(vxlan ? { vxlan } : {}),
    routing: { ...p.routing, routes, rules },
    eips: [...p.eips, ...p.eips.filter((e) => e.family === 4).map((e) => ({ ...e, ip: `2001:db8::${e.ip.split('.')[3]}`, family: 6 as const }))],
    sysctls: [...p.sysctls, { key: 'net.ipv6.conf.all.forwarding', value: '1' }].sort((a, b) => (a.key < b.key ? -1 : 1)),
  };
}

/** The plan as it would be with one gateway node gone: no peer, routes or rules for it. */
export function withoutPeer(p: NodePlan, node: string): NodePlan {
  const peer = p.vxlan?.peers.find((x) => x.node === node);
  if (!p.vxlan || !peer) return p;
  const vias = new Set([peer.tunnelIpv4, peer.tunnelIpv6].filter(Boolean));
  const gone = new Set(p.routing.routes.filter((r) => vias.has(r.via)).map((r) => r.table));
  const routes = p.routing.routes.filter((r) => !vias.has(r.via));
  const mark = p.marks.gateways[node];
  return {
    ...p,
    vxlan: { ...p.vxlan, peers: p.vxlan.peers.filter((x) => x.node !== node) },
    routing: {
      ...p.routing,
      routes,
      tables: p.routing.tables.filter((t) => !gone.has(t)),
      rules: p.routing.rules.filter((r) => r.fwmark !== mark),
    },
  };
}
