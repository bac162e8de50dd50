import { formatIpBytes, type Family } from '../../api/ip.js';

export const AF_INET = 2;
export const AF_INET6 = 10;
export const AF_BRIDGE = 7;

export const familyOf = (af: number): Family | undefined => (af === AF_INET ? 4 : af === AF_INET6 ? 6 : undefined);

/** An address attribute (4 or 16 bytes, network order) as text. */
export function ipText(b: Buffer): string | undefined {
  return b.length === 4 || b.length === 16 ? formatIpBytes(b) : undefined;
}

/** A link-layer address as iproute2 prints it: lowercase hex bytes joined by colons. */
export const macText = (b: Buffer): string => [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');

export const u32 = (b: Buffer | undefined): number | undefined => (b && b.length >= 4 ? b.readUInt32LE(0) : undefined);
export const u8 = (b: Buffer | undefined): number | undefined => (b && b.length >= 1 ? b.readUInt8(0) : undefined);
