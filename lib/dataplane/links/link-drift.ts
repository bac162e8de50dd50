import type { VxlanPlan } from '../../planner/node-plan.js';
import { canonicalMac, canonicalPrefix, familyOf } from '../iproute/ip-text.js';

/** What the tunnel device must look like, in the forms `ip monitor` prints. */
export interface ExpectedDevice {
  readonly device: string;
  readonly mac: string;
  /** Canonical `ip/prefix`. */
  readonly addresses: readonly string[];
}

export function expectedDevice(plan: VxlanPlan): ExpectedDevice {
  return {
    device: plan.device,
    mac: canonicalMac(plan.mac),
    addresses: [plan.addressV4, plan.addressV6].filter((a): a is string => a !== undefined).map((a) => canonicalPrefix(a, familyOf(a))),
  };
}

/** One line of `ip -o monitor link address`, as far as the tunnel device matters. */
export type MonitorEvent =
  | { readonly kind: 'link'; readonly deleted: boolean; readonly ifname: string; readonly up: boolean; readonly mac?: string }
  | { readonly kind: 'address'; readonly deleted: boolean; readonly ifname: string; readonly cidr: string; readonly scope: string };

// "12: egress.vxlan: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 … \    link/ether 02:94:c6:6a:58:84 brd …"
const LINK = /^(Deleted )?\d+: ([^\s:@]+)(?:@\S+)?: <([^>]*)>.*?link\/\S+ ([0-9a-f]{2}(?::[0-9a-f]{2}){5})?/;
// "12: egress.vxlan    inet 198.19.0.1/16 scope global egress.vxlan\       valid_lft forever …"
const ADDRESS = /^(Deleted )?\d+: (\S+)\s+inet6? (\S+)(?:.*? scope (\S+))?/;

export function parseMonitorLine(line: string): MonitorEvent | undefined {
  const link = LINK.exec(line);
  if (link) {
    const flags = link[3]!.split(',');
    return { kind: 'link', deleted: !!link[1], ifname: link[2]!, up: flags.includes('UP'), ...(link[4] ? { mac: link[4] } : {}) };
  }
  const address = ADDRESS.exec(line);
  if (address) return { kind: 'address', deleted: !!address[1], ifname: address[2]!, cidr: address[3]!, scope: address[4] ?? 'global' };
  return undefined;
}

/**
 * Why an event means the device was changed behind sluice's back, or undefined. Only changes away
 * from `want` count: sluice's own writes move the device towards it, so they never look like drift
 * (a device sluice recreates shows as deleted, which costs one more, empty, apply).
 */
export function driftOf(event: MonitorEvent, want: ExpectedDevice): string | undefined {
  if (event.ifname !== want.device) return undefined;
  if (event.kind === 'link') {
    if (event.deleted) return `${want.device} was deleted`;
    if (event.mac !== undefined && event.mac !== want.mac) return `${want.device} has MAC ${event.mac}, not ${want.mac}`;
    if (!event.up) return `${want.device} is down`;
    return undefined;
  }
  if (event.scope === 'link' || event.scope === 'host') return undefined;
  let cidr: string;
  try {
    cidr = canonicalPrefix(event.cidr, familyOf(event.cidr));
  } catch {
    return `${want.device} has an address sluice cannot read: ${event.cidr}`;
  }
  const wanted = want.addresses.includes(cidr);
  if (event.deleted && wanted) return `${cidr} was removed from ${want.device}`;
  if (!event.deleted && !wanted) return `${cidr} was added to ${want.device}`;
  return undefined;
}
