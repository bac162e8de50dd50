/**
 * The lab's address plan, pure. IPv6 host parts reuse the IPv4 digits as text (node .11 is ::11),
 * so a reader can pair the two families at a glance.
 */

export const LAN_V4_CIDR = '198.18.0.0/24';
export const LAN_V6_CIDR = 'fd00:198:18::/64';
export const POD_V4_CIDR = '10.244.0.0/16';
export const POD_V6_CIDR = 'fd00:10:244::/48';
export const SERVICE_V4_CIDR = '10.96.0.0/12';

const LAN_V4 = '198.18.0.';
const LAN_V6 = 'fd00:198:18::';

/** Host parts on the LAN: nodes take .11–.90, EIPs .100–.199; .200–.254 stay free for tests. */
export const EXT_HOST = 2;
export const CONTROL_HOST = 3;
const FIRST_NODE_HOST = 11;
export const MAX_NODES = 80;
export const EIP_FIRST_HOST = 100;
export const EIP_LAST_HOST = 199;
export const MAX_PODS_PER_NODE = 253;

/**
 * The lab's "internet": addresses the external host holds on its loopback, routed by every node via
 * the external host (its LAN address is their next hop), as a router upstream of a cluster would be.
 * The echo service answers on the first ECHO_ADDRESS_COUNT of them, the authoritative DNS server on
 * host part 53.
 */
export const INTERNET_V4_CIDR = '198.18.64.0/24';
export const INTERNET_V6_CIDR = 'fd00:198:18:64::/64';
export const ECHO_ADDRESS_COUNT = 8;
const UPSTREAM_DNS_HOST = 53;

export function internetHost(host: number): HostAddrs {
  if (!Number.isInteger(host) || host < 1 || host > 254) throw new Error(`internet host part ${host} out of range`);
  return { v4: `198.18.64.${host}`, v6: `fd00:198:18:64::${host}` };
}

/** The echo service's external addresses, host parts 1..ECHO_ADDRESS_COUNT. */
export function echoAddresses(): HostAddrs[] {
  return Array.from({ length: ECHO_ADDRESS_COUNT }, (_, i) => internetHost(i + 1));
}

/**
 * A block of the lab's internet that the external host answers on as a whole (a local route, not
 * an address each), so a name can hand out far more addresses than the echo's own: a CDN giving
 * each lookup an address nobody asked for before. The echo listens on every address.
 */
export const ECHO_POOL_V4_CIDR = '198.18.68.0/22';

/** The echo pool's addresses, without the block's first and last. */
export function echoPoolAddresses(): string[] {
  const [base = '', prefix = ''] = ECHO_POOL_V4_CIDR.split('/');
  const start = base.split('.').reduce((value, octet) => value * 256 + Number(octet), 0);
  const size = 2 ** (32 - Number(prefix));
  return Array.from({ length: size - 2 }, (_, i) => {
    const n = start + i + 1;
    return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
  });
}

/** The external authoritative DNS server (the upstream of the cluster's DNS, and every host's resolver). */
export function upstreamDns(): HostAddrs {
  return internetHost(UPSTREAM_DNS_HOST);
}

export const eipRangeV4 = `${LAN_V4}${EIP_FIRST_HOST}-${LAN_V4}${EIP_LAST_HOST}`;
export const eipRangeV6 = `${LAN_V6}${EIP_FIRST_HOST}-${LAN_V6}${EIP_LAST_HOST}`;

export interface HostAddrs {
  v4: string;
  v6: string;
}

export function lanHost(host: number): HostAddrs {
  return { v4: `${LAN_V4}${host}`, v6: `${LAN_V6}${host}` };
}

/** Node `index` counts from 1 over all nodes (workers first); it also numbers the node's podCIDR. */
export function nodeLan(index: number): HostAddrs {
  checkIndex(index);
  return lanHost(FIRST_NODE_HOST + index - 1);
}

export function nodePodCidrs(index: number): HostAddrs {
  checkIndex(index);
  return { v4: `10.244.${index}.0/24`, v6: `fd00:10:244:${index}::/64` };
}

/** Host part 1 of a podCIDR is the node's side of every pod veth (the pods' default gateway). */
export function podGateway(index: number): HostAddrs {
  return podAddr(index, 1);
}

/** Pods take host parts 2..254 of their node's podCIDR. */
export function podAddr(index: number, host: number): HostAddrs {
  checkIndex(index);
  if (!Number.isInteger(host) || host < 1 || host > 254) throw new Error(`pod host part ${host} out of range`);
  return { v4: `10.244.${index}.${host}`, v6: `fd00:10:244:${index}::${host}` };
}

/** Lowest free pod host part on a node, or undefined when the node is full. */
export function nextPodHost(used: Iterable<number>): number | undefined {
  const taken = new Set(used);
  for (let h = 2; h <= 254; h++) if (!taken.has(h)) return h;
  return undefined;
}

function checkIndex(index: number): void {
  if (!Number.isInteger(index) || index < 1 || index > MAX_NODES) {
    throw new Error(`node index ${index} out of range 1..${MAX_NODES}`);
  }
}
