import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { canonicalIp, type Family } from '../../api/ip.js';
import { EgressError } from '../../errors.js';
import { readBatch } from '../iproute/batch-read.js';
import type { Exec } from '../iproute/exec.js';
import { canonicalMac, canonicalPrefix } from '../iproute/ip-text.js';
import type { ObservedDevice, ObservedFdb, ObservedLinks, ObservedNeighbour } from './link-types.js';

interface JsonAddr {
  family: string;
  local: string;
  prefixlen: number;
  scope?: string;
}

interface JsonLink {
  ifname: string;
  flags?: string[];
  mtu: number;
  address?: string;
  linkinfo?: { info_kind?: string; info_data?: { id?: number; port?: number; local?: string; local6?: string; link?: string; learning?: boolean } };
  addr_info?: JsonAddr[];
}

interface JsonNeigh {
  dst: string;
  lladdr?: string;
  state?: string[];
}

interface JsonFdb {
  mac: string;
  dst?: string;
}

async function readMtu(sysClassNet: string, ifname: string): Promise<number | undefined> {
  try {
    const n = Number((await readFile(join(sysClassNet, ifname, 'mtu'), 'utf8')).trim());
    return Number.isInteger(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

interface DeviceRead {
  readonly link?: JsonLink;
  readonly neighbours: JsonNeigh[];
  readonly fdb: JsonFdb[];
}

/** One `ip` batch (details + addresses, neighbours) and one `bridge` process, in parallel; a missing device is no error. */
async function readDevice(exec: Exec, device: string): Promise<DeviceRead> {
  const [ip, fdb] = await Promise.all([
    readBatch<JsonLink | JsonNeigh>(exec, 'ip', [`address show dev ${device}`, `neigh show dev ${device}`], ['-details']),
    exec('bridge', ['-json', 'fdb', 'show', 'dev', device]),
  ]);
  const [links, neighbours] = ip.rows;
  if (!links || !neighbours) {
    const why = [...ip.failures.values()].join('; ');
    if (/does not exist|Cannot find device/i.test(why)) return { neighbours: [], fdb: [] };
    throw new EgressError('EGW_ERR_NETLINK', `ip address/neigh show dev ${device}: ${why}`);
  }
  const link = (links as JsonLink[]).find((l) => l.ifname === device);
  if (!link) return { neighbours: [], fdb: [] };
  if (fdb.exitCode !== 0) throw new EgressError('EGW_ERR_NETLINK', `bridge fdb show dev ${device}: ${fdb.stderr.trim()}`);
  return { link, neighbours: neighbours as JsonNeigh[], fdb: fdb.stdout.trim() ? (JSON.parse(fdb.stdout) as JsonFdb[]) : [] };
}

function toDevice(link: JsonLink, neighbours: JsonNeigh[], fdb: JsonFdb[]): ObservedDevice {
  const data = link.linkinfo?.info_data ?? {};
  const local = data.local ?? data.local6;
  return {
    kind: link.linkinfo?.info_kind ?? 'unknown',
    ...(data.id !== undefined ? { vni: data.id } : {}),
    ...(data.port !== undefined ? { port: data.port } : {}),
    ...(local ? { local: canonicalIp(local) } : {}),
    ...(data.link ? { parent: data.link } : {}),
    ...(data.learning !== undefined ? { learning: data.learning } : {}),
    mtu: link.mtu,
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
    fdb: fdb.filter((f): f is Required<JsonFdb> => f.dst !== undefined).map((f): ObservedFdb => ({ mac: canonicalMac(f.mac), dst: canonicalIp(f.dst) })),
  };
}

/** Reads our device (and only it), its neighbours and FDB, and the parent NIC's MTU. */
export async function observeLinks(exec: Exec, device: string, parentHint: string | undefined, sysClassNet: string): Promise<ObservedLinks> {
  const [read, hintedMtu] = await Promise.all([readDevice(exec, device), parentHint ? readMtu(sysClassNet, parentHint) : Promise.resolve(undefined)]);
  const parentName = parentHint ?? read.link?.linkinfo?.info_data?.link;
  const mtu = parentHint ? hintedMtu : parentName ? await readMtu(sysClassNet, parentName) : undefined;
  return {
    device,
    ...(read.link ? { link: toDevice(read.link, read.neighbours, read.link.linkinfo?.info_kind === 'vxlan' ? read.fdb : []) } : {}),
    ...(parentName ? { parent: { name: parentName, ...(mtu !== undefined ? { mtu } : {}) } } : {}),
  };
}
