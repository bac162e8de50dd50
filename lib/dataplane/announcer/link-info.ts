import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataplaneError } from './errors.js';
import { parseMac } from './ethernet.js';

/** What the announcer needs to know about one interface, as read from /sys/class/net/IF. */
export interface LinkInfo {
  readonly name: string;
  readonly ifindex: number;
  /** Undefined when `address` is not a 6-byte MAC (tunnels, loopback, ...). */
  readonly mac: Uint8Array | undefined;
  /** net_device flags (IFF_*), from `flags`. */
  readonly flags: number;
  /** ARPHRD_* from `type`. */
  readonly type: number;
  readonly operstate: string;
  /** `master` exists: a bridge or bond port answers for its master, not itself. */
  readonly enslaved: boolean;
}

const IFF_UP = 0x1;
const IFF_NOARP = 0x80;
const ARPHRD_ETHER = 1;

/** Why a link gets no announcement; a value for tests and metrics, not a log line. */
export type SkipReason = 'linkMissing' | 'linkDown' | 'noArp' | 'enslaved' | 'notEthernet';

// Admin up but no carrier: frames would be dropped, so wait for a later refresh instead.
const DOWN_OPERSTATES = new Set(['down', 'lowerlayerdown', 'notpresent']);

/** Pure: the reason to skip `link`, or undefined when frames may be sent on it. */
export function linkSkipReason(link: LinkInfo | undefined): SkipReason | undefined {
  if (link === undefined) return 'linkMissing';
  if ((link.flags & IFF_UP) === 0 || DOWN_OPERSTATES.has(link.operstate)) return 'linkDown';
  if ((link.flags & IFF_NOARP) !== 0) return 'noArp';
  if (link.enslaved) return 'enslaved';
  if (link.type !== ARPHRD_ETHER || link.mac === undefined) return 'notEthernet';
  return undefined;
}

export const SYS_CLASS_NET = '/sys/class/net';

/** Reads one link; undefined when it does not exist (in this network namespace). */
export async function readLink(name: string, sysClassNet: string = SYS_CLASS_NET): Promise<LinkInfo | undefined> {
  const dir = join(sysClassNet, name);
  // Synchronous on purpose: sysfs attributes are made in memory and read in microseconds, while
  // each asynchronous read wakes the thread pool four times (open, stat, read, close) and the event loop
  // with it; the announcer reads a link every refresh round on an otherwise idle node.
  const read = (file: string): string => readFileSync(join(dir, file), 'utf8').trim();
  try {
    const ifindex = read('ifindex');
    const address = read('address');
    const flags = read('flags');
    const type = read('type');
    let operstate = 'unknown';
    try {
      operstate = read('operstate');
    } catch {
      // no operstate to read: treated as unknown
    }
    const enslaved = existsSync(join(dir, 'master'));
    return {
      name,
      ifindex: parseSysInt(ifindex, dir, 'ifindex'),
      mac: macOrUndefined(address),
      flags: parseSysInt(flags, dir, 'flags'),
      type: parseSysInt(type, dir, 'type'),
      operstate,
      enslaved,
    };
  } catch (err) {
    // The link vanished (or never existed) between or before the reads.
    const code = (err as { code?: unknown } | null)?.code;
    if (code === 'ENOENT' || code === 'ENODEV') return undefined;
    if (err instanceof DataplaneError) throw err;
    throw new DataplaneError('EGW_ERR_ANNOUNCE_LINK', `reading ${dir}`, { cause: err });
  }
}

function parseSysInt(text: string, dir: string, file: string): number {
  // sysfs writes flags as 0x-prefixed hex, ifindex and type as decimal; Number() reads both.
  const n = Number(text);
  if (text === '' || !Number.isInteger(n) || n < 0) {
    throw new DataplaneError('EGW_ERR_ANNOUNCE_LINK', `unexpected ${join(dir, file)}: ${JSON.stringify(text)}`);
  }
  return n;
}

function macOrUndefined(address: string): Uint8Array | undefined {
  try {
    return parseMac(address);
  } catch {
    return undefined;
  }
}
