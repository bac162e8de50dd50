import type { DeviceRows, KernelReads } from '../iproute/rows.js';
import { dumpAddresses, dumpLinks } from './rtnetlink-links.js';
import { dumpFdb, dumpNeighbours } from './rtnetlink-neighbours.js';
import { RtnetlinkDumps } from './rtnetlink-dump.js';
import { dumpRoutes, dumpRules } from './rtnetlink-routing.js';

function readDevice(dumps: RtnetlinkDumps, name: string): DeviceRows {
  const link = dumpLinks(dumps).find((l) => l.row.ifname === name);
  if (!link) return { neighbours: [], fdb: [] };
  const addr_info = dumpAddresses(dumps).get(link.index) ?? [];
  return { link: { ...link.row, addr_info }, neighbours: dumpNeighbours(dumps, link.index), fdb: dumpFdb(dumps, link.index) };
}

/**
 * The kernel read over one rtnetlink socket per process, kept open: the same rows the `ip -json`
 * processes print (process-reads.ts), for a few system calls each. The socket belongs to the
 * network namespace the process started in. Reads throw EGW_ERR_NETLINK.
 */
export function rtnetlinkReads(dumps: RtnetlinkDumps = shared()): KernelReads {
  return {
    device: async (name) => readDevice(dumps, name),
    addresses: async () => {
      const addresses = dumpAddresses(dumps);
      return dumpLinks(dumps).map((l) => ({ ...l.row, addr_info: addresses.get(l.index) ?? [] }));
    },
    routing: async (family) => {
      const names = new Map(dumpLinks(dumps).map((l) => [l.index, l.row.ifname]));
      return { rules: dumpRules(dumps, family), routes: dumpRoutes(dumps, family, names) };
    },
  };
}

let sharedDumps: RtnetlinkDumps | undefined;
const shared = () => (sharedDumps ??= new RtnetlinkDumps());
