import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataplaneError } from './errors.js';
import type { EthernetFrame } from './ethernet.js';

/** The surface of native/packet-socket.c. System errors carry `errno` and `syscall`. */
export interface PacketSocketAddon {
  open(ifindex: number): number;
  send(fd: number, ifindex: number, ethertype: number, dstMac: Buffer, frame: Buffer): number;
  close(fd: number): void;
  /** A non-blocking listener for ARP (family 4) or neighbour advertisements (family 6) on one link. */
  listen(ifindex: number, family: 4 | 6): number;
  /** The next frame received into `buffer`: its length, or 0 when none is queued. */
  receive(fd: number, buffer: Buffer): number;
}

/** A send-only link-layer socket bound to one interface. */
export interface FrameSocket {
  readonly ifindex: number;
  /** Sends a whole Ethernet frame; returns the bytes sent. Throws EGW_ERR_ANNOUNCE_SEND. */
  send(frame: EthernetFrame): number;
  /** Idempotent. */
  close(): void;
}

export type OpenFrameSocket = (ifindex: number) => FrameSocket;

const ADDON_PATH = join('native', 'build', 'Release', 'packet_socket.node');

// Walk up from this module so the same code works from lib/, dist/lib/ and a bundle in dist/.
function findAddon(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const candidate = join(dir, ADDON_PATH);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return undefined;
}

const ERRNO_NAMES = new Map(Object.entries(constants.errno).map(([name, n]) => [n, name]));

/**
 * Gives a native system error its symbolic `code` (ENODEV, EPERM, ...) like Node's own errors,
 * and returns that code for messages.
 */
export function nameErrno(err: unknown): string {
  if (typeof err !== 'object' || err === null) return String(err);
  const e = err as { errno?: unknown; code?: unknown };
  if (typeof e.code !== 'string' && typeof e.errno === 'number') {
    e.code = ERRNO_NAMES.get(e.errno) ?? `errno ${e.errno}`;
  }
  return typeof e.code === 'string' ? e.code : String(err);
}

let cached: PacketSocketAddon | undefined;

/** Loads native/build/Release/packet_socket.node once. Throws EGW_ERR_ANNOUNCE_NATIVE. */
export function loadPacketSocketAddon(): PacketSocketAddon {
  if (cached !== undefined) return cached;
  const path = findAddon();
  if (path === undefined) {
    throw new DataplaneError(
      'EGW_ERR_ANNOUNCE_NATIVE',
      `${ADDON_PATH} not found above ${dirname(fileURLToPath(import.meta.url))}; ` + 'run `npm ci` (or `npm run install`) with a C compiler and Node headers available',
    );
  }
  try {
    cached = createRequire(import.meta.url)(path) as PacketSocketAddon;
    return cached;
  } catch (err) {
    throw new DataplaneError('EGW_ERR_ANNOUNCE_NATIVE', `loading ${path}`, { cause: err });
  }
}

/** Opens AF_PACKET sockets through the addon. Needs CAP_NET_RAW. */
export function packetSocketOpener(addon: PacketSocketAddon = loadPacketSocketAddon()): OpenFrameSocket {
  return (ifindex) => {
    let fd: number;
    try {
      fd = addon.open(ifindex);
    } catch (err) {
      throw new DataplaneError('EGW_ERR_ANNOUNCE_SOCKET', `opening AF_PACKET socket ifindex=${ifindex}: ${nameErrno(err)}`, { cause: err });
    }
    let open = true;
    return {
      ifindex,
      send(frame) {
        if (!open) throw new DataplaneError('EGW_ERR_ANNOUNCE_SEND', `socket for ifindex=${ifindex} is closed`);
        try {
          return addon.send(fd, ifindex, frame.ethertype, Buffer.from(frame.dst), frame.bytes);
        } catch (err) {
          throw new DataplaneError('EGW_ERR_ANNOUNCE_SEND', `sending ${frame.bytes.length}-byte frame ifindex=${ifindex}: ${nameErrno(err)}`, { cause: err });
        }
      },
      close() {
        if (!open) return;
        open = false;
        try {
          addon.close(fd);
        } catch {
          // Linux releases the descriptor even when close(2) reports an error; nothing to retry.
        }
      },
    };
  };
}
