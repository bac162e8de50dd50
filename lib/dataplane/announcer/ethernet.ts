import { DataplaneError } from './errors.js';

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_IPV6 = 0x86dd;
export const ETHERNET_HEADER_LEN = 14;
const MAC_LEN = 6;

export const BROADCAST_MAC: Readonly<Uint8Array> = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff);

/** A frame ready for the packet socket: the destination and ethertype repeat its header. */
export interface EthernetFrame {
  readonly dst: Uint8Array;
  readonly ethertype: number;
  readonly bytes: Buffer;
}

export function parseMac(text: string): Uint8Array {
  const parts = text.trim().split(':');
  if (parts.length !== MAC_LEN || !parts.every((p) => /^[0-9a-fA-F]{2}$/.test(p))) {
    throw new DataplaneError('EGW_ERR_ANNOUNCE_LINK', `not an Ethernet MAC address: ${JSON.stringify(text)}`);
  }
  return Uint8Array.from(parts, (p) => Number.parseInt(p, 16));
}

export function formatMac(mac: Uint8Array): string {
  return Array.from(mac, (b) => b.toString(16).padStart(2, '0')).join(':');
}

/** Allocates a frame of `payloadLen` bytes after a filled-in Ethernet header. */
export function ethernetFrame(dst: Uint8Array, src: Uint8Array, ethertype: number, payloadLen: number): Buffer {
  if (src.length !== MAC_LEN || dst.length !== MAC_LEN) {
    throw new DataplaneError('EGW_ERR_ANNOUNCE_INPUT', 'MAC addresses must be 6 bytes');
  }
  const frame = Buffer.alloc(ETHERNET_HEADER_LEN + payloadLen);
  frame.set(dst, 0);
  frame.set(src, 6);
  frame.writeUInt16BE(ethertype, 12);
  return frame;
}
