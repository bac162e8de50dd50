import { canonicalIp, type Family } from '../../api/ip.js';
import { execJson, type Exec } from '../iproute/exec.js';
import { hostPrefix } from './address-ops.js';
import type { ObservedAddress, ObservedAddresses } from './address-types.js';

interface JsonLink {
  ifname: string;
  addr_info?: { family: string; local?: string; prefixlen: number; scope?: string; metric?: number }[];
}

/** Pure: global-scope addresses of `ip -json addr` rows, ours marked by tag and host prefix. */
export function parseAddresses(links: readonly JsonLink[], tag: number): ObservedAddresses {
  const addresses: ObservedAddress[] = [];
  for (const link of links) {
    for (const a of link.addr_info ?? []) {
      if ((a.family !== 'inet' && a.family !== 'inet6') || a.local === undefined) continue;
      if (a.scope === 'link' || a.scope === 'host') continue;
      const family: Family = a.family === 'inet' ? 4 : 6;
      addresses.push({
        ip: canonicalIp(a.local),
        family,
        prefixlen: a.prefixlen,
        ifname: link.ifname,
        ours: a.metric === tag && a.prefixlen === hostPrefix(family),
      });
    }
  }
  return { addresses };
}

export async function observeAddresses(exec: Exec, tag: number): Promise<ObservedAddresses> {
  return parseAddresses(await execJson<JsonLink>(exec, 'ip', ['address', 'show']), tag);
}
