import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalIp, type Family } from '../../api/ip.js';
import { canonicalMac, canonicalPrefix } from '../iproute/ip-text.js';
import type { FdbRow, KernelReads, LinkRow, NeighRow } from '../iproute/rows.js';
import type { ObservedDevice, ObservedFdb, ObservedLinks, ObservedNeighbour } from './link-types.js';

/** Read at once, like a sysctl (sysctl-driver.ts): sysfs attributes never wait on a device. */
function readMtu(sysClassNet: string, ifname: string): number | undefined {
  try {
    const n = Number(readFileSync(join(sysClassNet, ifname, 'mtu'), 'utf8').trim());
    return Number.isInteger(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

function toDevice(link: LinkRow, neighbours: readonly NeighRow[], fdb: readonly FdbRow[]): ObservedDevice {
  const data = link.linkinfo?.info_data ?? {};
  const local = data.local ?? data.local6;
  return {
    kind: link.linkinfo?.info_kind ?? 'unknown',
    ...(data.id !== undefined ? { vni: data.id } : {}),
    ...(data.port !== undefined ? { port: data.port } : {}),
    ...(local ? { local: canonicalIp(local) } : {}),
    ...(data.link ? { parent: data.link } : {}),
    ...(data.learning !== undefined ? { learning: data.learning } : {}),
    mtu: link.mtu ?? 0,
    mac: canonicalMac(link.address ?? ''),
    up: (link.flags ?? []).includes('UP'),
    addresses: (link.addr_info ?? [])
      .filter((a) => a.scope !== 'link' && a.scope !== 'host' && (a.family === 'inet' || a.family === 'inet6'))
      .map((a) => {
        const family: Family = a.family === 'inet' ? 4 : 6;
        return { cidr: canonicalPrefix(`${a.local}/${a.prefixlen}`, family), family };
      }),
    neighbours: neighbours.map((n): ObservedNeighbour => ({
      ip: canonicalIp(n.dst),
      ...(n.lladdr ? { mac: canonicalMac(n.lladdr) } : {}),
      permanent: (n.state ?? []).includes('PERMANENT'),
    })),
    fdb: fdb.filter((f): f is Required<FdbRow> => f.dst !== undefined).map((f): ObservedFdb => ({ mac: canonicalMac(f.mac), dst: canonicalIp(f.dst) })),
  };
}

/** Reads our device (and only it), its neighbours and FDB, and the parent NIC's MTU. */
export async function observeLinks(reads: KernelReads, device: string, parentHint: string | undefined, sysClassNet: string): Promise<ObservedLinks> {
  const read = await reads.device(device);
  const parentName = parentHint ?? read.link?.linkinfo?.info_data?.link;
  const mtu = parentName ? readMtu(sysClassNet, parentName) : undefined;
  return {
    device,
    ...(read.link ? { link: toDevice(read.link, read.neighbours, read.link.linkinfo?.info_kind === 'vxlan' ? read.fdb : []) } : {}),
    ...(parentName ? { parent: { name: parentName, ...(mtu !== undefined ? { mtu } : {}) } } : {}),
  };
}
