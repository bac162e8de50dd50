import { networkInterfaces } from 'node:os';
import type { LanLink } from '../../lib/api/model.js';

/**
 * This node's parent NIC as native routing needs it: its MAC and, per family, the node address
 * on it with its prefix length (EIPs on the NIC are /32 and /128 and are left out by taking only
 * the node's own addresses). Undefined while the NIC holds none of them.
 */
export function readLanLink(nic: string, nodeAddresses: readonly string[]): LanLink | undefined {
  const entries = networkInterfaces()[nic] ?? [];
  const addresses: string[] = [];
  let mac: string | undefined;
  for (const family of ['IPv4', 'IPv6'] as const) {
    const e = entries.find((x) => x.family === family && nodeAddresses.includes(x.address) && x.cidr);
    if (!e) continue;
    mac = e.mac.toLowerCase();
    addresses.push(e.cidr!);
  }
  return mac && addresses.length ? { mac, addresses } : undefined;
}
