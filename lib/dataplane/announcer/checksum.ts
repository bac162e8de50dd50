/** RFC 1071 internet checksum: one's complement of the one's-complement sum of 16-bit words. */
export function internetChecksum(data: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i + 1 < data.length; i += 2) sum += (data[i]! << 8) | data[i + 1]!;
  if (data.length % 2 === 1) sum += data[data.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** ICMPv6 checksum (RFC 4443 2.3) over the RFC 8200 8.1 pseudo-header and the message. */
export function icmpv6Checksum(src: Uint8Array, dst: Uint8Array, message: Uint8Array): number {
  const pseudo = Buffer.alloc(40);
  pseudo.set(src, 0);
  pseudo.set(dst, 16);
  pseudo.writeUInt32BE(message.length, 32);
  pseudo[39] = 58; // next header: ICMPv6
  return internetChecksum(Buffer.concat([pseudo, message]));
}
