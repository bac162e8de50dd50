import { canonicalIp, type Family } from '../../api/ip.js';
import type { KernelReads, LinkRow } from '../iproute/rows.js';
import { hostPrefix } from './address-ops.js';
import type { ObservedAddress, ObservedAddresses } from './address-types.js';

/** Pure: global-scope addresses of `ip -json addr` rows, ours marked by tag and host prefix. */
export function parseAddresses(links: readonly LinkRow[], tag: number): ObservedAddresses {
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

export async function observeAddresses(reads: KernelReads, tag: number): Promise<ObservedAddresses> {
  return parseAddresses(await reads.addresses(), tag);
}
