import { icmpv6Checksum } from './checksum.js';
import { ETHERTYPE_IPV6, ethernetFrame, type EthernetFrame } from './ethernet.js';

export const IPV6_HEADER_LEN = 40;
const NA_MESSAGE_LEN = 32; // 24-byte NA + 8-byte target link-layer address option
const ICMPV6_NEXT_HEADER = 58;
const ICMPV6_NEIGHBOR_ADVERTISEMENT = 136;
const NA_FLAG_OVERRIDE = 0x20; // R=0x80 and S=0x40 stay clear: not a router, not solicited
const ND_OPT_TARGET_LINKADDR = 2;
const ND_HOP_LIMIT = 255; // receivers drop ND with any other hop limit (RFC 4861 7.1.2)

const ALL_NODES_IPV6: Readonly<Uint8Array> = Uint8Array.of(0xff, 0x02, ...new Array<number>(13).fill(0), 0x01);
const ALL_NODES_MAC: Readonly<Uint8Array> = Uint8Array.of(0x33, 0x33, 0, 0, 0, 1);

/**
 * Unsolicited neighbour advertisement (RFC 4861 7.2.6) for `target`, sent from `target` to
 * ff02::1 with the override flag and a target link-layer address option.
 */
export function buildUnsolicitedNa(mac: Uint8Array, target: Uint8Array): EthernetFrame {
  if (target.length !== 16) throw new RangeError('neighbour advertisement needs a 16-byte IPv6 address');
  const frame = ethernetFrame(ALL_NODES_MAC, mac, ETHERTYPE_IPV6, IPV6_HEADER_LEN + NA_MESSAGE_LEN);
  const ip = frame.subarray(14, 14 + IPV6_HEADER_LEN);
  ip.writeUInt32BE(6 << 28, 0); // version 6, traffic class 0, flow label 0
  ip.writeUInt16BE(NA_MESSAGE_LEN, 4);
  ip[6] = ICMPV6_NEXT_HEADER;
  ip[7] = ND_HOP_LIMIT;
  ip.set(target, 8);
  ip.set(ALL_NODES_IPV6, 24);

  const na = frame.subarray(14 + IPV6_HEADER_LEN);
  na[0] = ICMPV6_NEIGHBOR_ADVERTISEMENT;
  na[1] = 0; // code
  na[4] = NA_FLAG_OVERRIDE;
  na.set(target, 8);
  na[24] = ND_OPT_TARGET_LINKADDR;
  na[25] = 1; // option length in units of 8 bytes
  na.set(mac, 26);
  na.writeUInt16BE(icmpv6Checksum(target, ALL_NODES_IPV6, na), 2);
  return { dst: ALL_NODES_MAC, ethertype: ETHERTYPE_IPV6, bytes: frame };
}
