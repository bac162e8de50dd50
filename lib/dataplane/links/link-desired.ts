import { canonicalIp, ipFamily } from '../../api/ip.js';
import { EgressError } from '../../errors.js';
import type { VxlanPlan } from '../../planner/node-plan.js';
import { canonicalPrefix } from '../iproute/ip-text.js';
import { ifnameToken, intToken, macToken } from '../iproute/tokens.js';
import type { DesiredVxlan } from './link-types.js';

/** Outer IPv4 (20) + UDP (8) + VXLAN (8) + inner Ethernet (14) headers; IPv6 outer adds 20. */
const VXLAN_OVERHEAD = { 4: 50, 6: 70 } as const;

/**
 * Resolves the plan's MTU (0 = parent MTU minus the encapsulation), canonicalises addresses and
 * refuses values that are not usable in a command (EGW_ERR_PLAN).
 */
export function desiredVxlan(plan: VxlanPlan, parentMtu: number | undefined): DesiredVxlan {
  ifnameToken(plan.device, 'vxlan device');
  ifnameToken(plan.parent, 'vxlan parent');
  intToken(plan.vni, 1, 16777215, 'VNI');
  intToken(plan.port, 1, 65535, 'UDP port');
  let mtu = intToken(plan.mtu, 0, 65535, 'MTU');
  if (mtu === 0) {
    if (parentMtu === undefined) {
      throw new EgressError('EGW_ERR_NETLINK', `parent interface "${plan.parent}" of ${plan.device} not found; cannot derive its MTU`);
    }
    mtu = parentMtu - VXLAN_OVERHEAD[ipFamily(plan.localIp)];
  }
  intToken(mtu, 68, 65535, 'derived MTU');
  const addresses = [plan.addressV4, plan.addressV6].filter((a): a is string => a !== undefined).map((a) => canonicalPrefix(a, ipFamily(a.split('/')[0]!)));
  const neighbours = plan.peers.flatMap((p) =>
    [p.tunnelIpv4, p.tunnelIpv6].filter((ip): ip is string => ip !== undefined).map((ip) => ({ ip: canonicalIp(ip), mac: macToken(p.mac, `MAC of peer ${p.node}`) })),
  );
  const fdb = plan.peers.map((p) => ({ mac: macToken(p.mac, `MAC of peer ${p.node}`), dst: canonicalIp(p.underlayIp) }));
  return {
    device: plan.device,
    vni: plan.vni,
    port: plan.port,
    parent: plan.parent,
    localIp: canonicalIp(plan.localIp),
    mtu,
    mac: macToken(plan.mac, 'vxlan MAC'),
    addresses,
    neighbours,
    fdb,
  };
}
