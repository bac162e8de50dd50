import type { DeviceRows, KernelReads } from '../iproute/rows.js';
import { dumpAddresses, dumpLinkNames, getLink, linkName, LOCAL_SCOPES } from './rtnetlink-links.js';
import { dumpFdb, dumpNeighbours } from './rtnetlink-neighbours.js';
import { processRtnetlink, type Rtnetlink } from './rtnetlink-dump.js';
import { dumpRoutes, dumpRules } from './rtnetlink-routing.js';

function readDevice(dumps: Rtnetlink, name: string): DeviceRows {
  const link = getLink(dumps, name);
  if (!link) return { neighbours: [], fdb: [] };
  const addr_info = dumpAddresses(dumps, (index) => index === link.index).get(link.index) ?? [];
  return { link: { ...link.row, addr_info }, neighbours: dumpNeighbours(dumps, link.index), fdb: dumpFdb(dumps, link.index) };
}

/** Names links by ifindex, each looked up once (`ifN` for an index no link has). */
function linkNamer(dumps: Rtnetlink): (index: number) => string {
  const names = new Map<number, string>();
  return (index) => {
    let name = names.get(index);
    if (name === undefined) names.set(index, (name = linkName(dumps, index) ?? `if${index}`));
    return name;
  };
}

/**
 * The kernel read over one rtnetlink socket per process, kept open: the same rows the `ip -json`
 * processes print (process-reads.ts), for a few system calls each. The socket belongs to the
 * network namespace the process started in. Reads throw EGW_ERR_NETLINK.
 *
 * What the kernel can look up or filter is asked for that way (our device by name, its
 * neighbours), and rules and routes outside the owned ranges are skipped before they are turned
 * into rows, so an apply's reads cost about the same on a node with hundreds of pods.
 */
export function rtnetlinkReads(dumps: Rtnetlink = processRtnetlink()): KernelReads {
  return {
    device: async (name) => readDevice(dumps, name),
    addresses: async () => {
      // Link- and host-scope addresses are left out unparsed: with IPv6, every pod's veth has one.
      const addresses = dumpAddresses(dumps, (_index, scope) => !LOCAL_SCOPES.has(scope));
      return [...dumpLinkNames(dumps)].map(([index, ifname]) => ({ ifname, addr_info: addresses.get(index) ?? [] }));
    },
    routing: async (family, owned) => ({
      rules: dumpRules(dumps, family, owned.rulePriorities),
      routes: dumpRoutes(dumps, family, owned.tables, linkNamer(dumps)),
    }),
  };
}
