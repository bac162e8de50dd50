import type { Family } from '../../api/ip.js';
import { EgressError } from '../../errors.js';
import { readBatch } from './batch-read.js';
import { execJson, type Exec } from './exec.js';
import type { DeviceRows, FdbRow, KernelReads, LinkRow, NeighRow, RouteRow } from './rows.js';

/** One `ip` batch (details + addresses, neighbours) and one `bridge` process, in parallel; a missing device is no error. */
async function readDevice(exec: Exec, device: string): Promise<DeviceRows> {
  const [ip, fdb] = await Promise.all([
    readBatch<LinkRow | NeighRow>(exec, 'ip', [`address show dev ${device}`, `neigh show dev ${device}`], ['-details']),
    exec('bridge', ['-json', 'fdb', 'show', 'dev', device]),
  ]);
  const [links, neighbours] = ip.rows;
  if (!links || !neighbours) {
    const why = [...ip.failures.values()].join('; ');
    if (/does not exist|Cannot find device/i.test(why)) return { neighbours: [], fdb: [] };
    throw new EgressError('EGW_ERR_NETLINK', `ip address/neigh show dev ${device}: ${why}`);
  }
  const link = (links as LinkRow[]).find((l) => l.ifname === device);
  if (!link) return { neighbours: [], fdb: [] };
  if (fdb.exitCode !== 0) throw new EgressError('EGW_ERR_NETLINK', `bridge fdb show dev ${device}: ${fdb.stderr.trim()}`);
  return { link, neighbours: neighbours as NeighRow[], fdb: fdb.stdout.trim() ? (JSON.parse(fdb.stdout) as FdbRow[]) : [] };
}

async function readRouting(exec: Exec, family: Family): Promise<{ rules: RouteRow[]; routes: RouteRow[] }> {
  const read = await readBatch<RouteRow>(exec, 'ip', ['rule list', 'route show table all'], [`-${family}`, '-N']);
  const [rules, routes] = read.rows;
  if (!rules || !routes) throw new EgressError('EGW_ERR_NETLINK', `ip -${family} rule/route list: ${[...read.failures.values()].join('; ')}`);
  return { rules: [...rules], routes: [...routes] };
}

/**
 * The kernel read through `ip -json` and `bridge -json` processes (each costs 15-25 ms to start
 * here): what tests script with a fake `exec`, and the reference the rtnetlink reads are checked against.
 */
export function processReads(exec: Exec): KernelReads {
  return {
    device: (name) => readDevice(exec, name),
    addresses: () => execJson<LinkRow>(exec, 'ip', ['address', 'show']),
    routing: (family) => readRouting(exec, family),
  };
}
