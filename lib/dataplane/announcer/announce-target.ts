import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { DataplaneError } from './errors.js';
import { INTERFACE_NAME_RULE, isInterfaceName } from '../../api/names.js';

/** An EIP in the form the frame builders need. `ip` is canonical, so it works as a map key. */
export interface AnnounceTarget {
  readonly ip: string;
  readonly family: 4 | 6;
  readonly bytes: Uint8Array;
}

// Announcing these would poison every neighbour cache on the link or could never be valid.
const REJECTED_RANGES = new Set(['unspecified', 'multicast', 'loopback', 'broadcast', 'ipv4Mapped']);

export function parseAnnounceTarget(ip: string): AnnounceTarget {
  // net.isIP accepts only dotted-quad IPv4, unlike ipaddr.parse ("127.1", hex, octal).
  const family = isIP(ip);
  if (family === 0 || ip.includes('%')) {
    throw new DataplaneError('EGW_ERR_ANNOUNCE_INPUT', `not an IP address: ${JSON.stringify(ip)}`);
  }
  const addr = ipaddr.parse(ip);
  const range = addr.range();
  if (REJECTED_RANGES.has(range)) {
    throw new DataplaneError('EGW_ERR_ANNOUNCE_INPUT', `cannot announce ${ip}: ${range} address`);
  }
  return Object.freeze({
    ip: addr.toString(),
    family: family === 4 ? 4 : 6,
    bytes: Uint8Array.from(addr.toByteArray()),
  });
}

/** An interface name by the one rule (lib/api/names.ts): also a safe path component under /sys/class/net. */
export function checkIfname(ifname: string): string {
  if (!isInterfaceName(ifname)) throw new DataplaneError('EGW_ERR_ANNOUNCE_INPUT', `not an interface name: ${JSON.stringify(ifname)} (${INTERFACE_NAME_RULE})`);
  return ifname;
}
