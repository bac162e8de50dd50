import { BROADCAST_MAC, ETHERTYPE_ARP, ETHERTYPE_IPV4, ethernetFrame, type EthernetFrame } from './ethernet.js';

export const ARP_PAYLOAD_LEN = 28;
const ARP_HTYPE_ETHERNET = 1;
const ARP_OP_REQUEST = 1;

/**
 * Gratuitous ARP in request form (RFC 5227 3): broadcast, sender = target = EIP, target hardware
 * address zero. Linux treats it as GARP (sip == tip) and overrides an existing neighbour entry.
 * Not padded to 60 bytes: drivers pad short frames.
 */
export function buildGratuitousArp(mac: Uint8Array, ipv4: Uint8Array): EthernetFrame {
  if (ipv4.length !== 4) throw new RangeError('gratuitous ARP needs a 4-byte IPv4 address');
  const frame = ethernetFrame(BROADCAST_MAC, mac, ETHERTYPE_ARP, ARP_PAYLOAD_LEN);
  const arp = frame.subarray(14);
  arp.writeUInt16BE(ARP_HTYPE_ETHERNET, 0);
  arp.writeUInt16BE(ETHERTYPE_IPV4, 2);
  arp[4] = 6; // hardware address length
  arp[5] = 4; // protocol address length
  arp.writeUInt16BE(ARP_OP_REQUEST, 6);
  arp.set(mac, 8);
  arp.set(ipv4, 14);
  // bytes 18..23: target hardware address, left zero
  arp.set(ipv4, 24);
  return { dst: BROADCAST_MAC, ethertype: ETHERTYPE_ARP, bytes: frame };
}
