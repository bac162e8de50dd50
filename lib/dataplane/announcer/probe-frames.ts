/**
 * Duplicate address detection on the wire: the probes a node sends before it takes an egress IP,
 * and the frames that say another host already has it. IPv4 as RFC 5227 (ARP probe), IPv6 as
 * RFC 4862 (neighbour solicitation from the unspecified address).
 */
import { ARP_PAYLOAD_LEN } from './arp-frame.js';
import { icmpv6Checksum } from './checksum.js';
import { BROADCAST_MAC, ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_IPV6, ETHERNET_HEADER_LEN, ethernetFrame, formatMac, type EthernetFrame } from './ethernet.js';
import { IPV6_HEADER_LEN } from './na-frame.js';

const ARP_HTYPE_ETHERNET = 1;
const ARP_OP_REQUEST = 1;
const ICMPV6 = 58;
const NEIGHBOR_SOLICITATION = 135;
const NEIGHBOR_ADVERTISEMENT = 136;
const NS_MESSAGE_LEN = 24; // no source link-layer option: the source is unspecified (RFC 4861 4.3)
const ND_HOP_LIMIT = 255;
const UNSPECIFIED_IPV6 = new Uint8Array(16);

/** ARP probe (RFC 5227 2.1.1): a broadcast request for `ipv4` with sender address 0.0.0.0. */
export function buildArpProbe(mac: Uint8Array, ipv4: Uint8Array): EthernetFrame {
  if (ipv4.length !== 4) throw new RangeError('an ARP probe needs a 4-byte IPv4 address');
  const frame = ethernetFrame(BROADCAST_MAC, mac, ETHERTYPE_ARP, ARP_PAYLOAD_LEN);
  const arp = frame.subarray(ETHERNET_HEADER_LEN);
  arp.writeUInt16BE(ARP_HTYPE_ETHERNET, 0);
  arp.writeUInt16BE(ETHERTYPE_IPV4, 2);
  arp[4] = 6;
  arp[5] = 4;
  arp.writeUInt16BE(ARP_OP_REQUEST, 6);
  arp.set(mac, 8);
  // bytes 14..17: sender protocol address 0.0.0.0, so no neighbour caches the probe; 18..23: target MAC zero
  arp.set(ipv4, 24);
  return { dst: BROADCAST_MAC, ethertype: ETHERTYPE_ARP, bytes: frame };
}

/** ff02::1:ffXX:XXXX, the solicited-node group of `target`, and its Ethernet address 33:33:ff:XX:XX:XX. */
function solicitedNode(target: Uint8Array): { ip: Uint8Array; mac: Uint8Array } {
  const ip = Uint8Array.of(0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, target[13]!, target[14]!, target[15]!);
  return { ip, mac: Uint8Array.of(0x33, 0x33, 0xff, target[13]!, target[14]!, target[15]!) };
}

/** Neighbour solicitation for DAD (RFC 4862 5.4.2): from ::, to the solicited-node group of `target`. */
export function buildNsProbe(mac: Uint8Array, target: Uint8Array): EthernetFrame {
  if (target.length !== 16) throw new RangeError('a neighbour solicitation needs a 16-byte IPv6 address');
  const group = solicitedNode(target);
  const frame = ethernetFrame(group.mac, mac, ETHERTYPE_IPV6, IPV6_HEADER_LEN + NS_MESSAGE_LEN);
  const ip = frame.subarray(ETHERNET_HEADER_LEN, ETHERNET_HEADER_LEN + IPV6_HEADER_LEN);
  ip.writeUInt32BE(6 << 28, 0);
  ip.writeUInt16BE(NS_MESSAGE_LEN, 4);
  ip[6] = ICMPV6;
  ip[7] = ND_HOP_LIMIT;
  // bytes 8..23: source ::
  ip.set(group.ip, 24);
  const ns = frame.subarray(ETHERNET_HEADER_LEN + IPV6_HEADER_LEN);
  ns[0] = NEIGHBOR_SOLICITATION;
  ns.set(target, 8);
  ns.writeUInt16BE(icmpv6Checksum(UNSPECIFIED_IPV6, group.ip, ns), 2);
  return { dst: group.mac, ethertype: ETHERTYPE_IPV6, bytes: frame };
}

const equal = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * The MAC address of the host that `frame` shows holding `target`, or undefined. ARP: any
 * request or reply with `target` as its sender address (an answer, a gratuitous ARP), or another
 * host's probe for it (RFC 5227 2.1.1: two hosts probing at once both back off). IPv6: a
 * neighbour advertisement for `target`. Frames from `ownMac` never count.
 */
export function answerFor(frame: Uint8Array, target: Uint8Array, ownMac: Uint8Array): string | undefined {
  if (frame.length < ETHERNET_HEADER_LEN) return undefined;
  const buf = Buffer.from(frame.buffer, frame.byteOffset, frame.length);
  const source = frame.subarray(6, 12);
  if (equal(source, ownMac)) return undefined;
  const ethertype = buf.readUInt16BE(12);
  if (ethertype === ETHERTYPE_ARP && target.length === 4 && frame.length >= ETHERNET_HEADER_LEN + ARP_PAYLOAD_LEN) {
    const arp = frame.subarray(ETHERNET_HEADER_LEN);
    if (buf.readUInt16BE(ETHERNET_HEADER_LEN + 2) !== ETHERTYPE_IPV4 || arp[4] !== 6 || arp[5] !== 4) return undefined;
    const senderMac = arp.subarray(8, 14);
    const senderIp = arp.subarray(14, 18);
    const targetIp = arp.subarray(24, 28);
    if (equal(senderMac, ownMac)) return undefined;
    if (equal(senderIp, target)) return formatMac(senderMac);
    if (senderIp.every((b) => b === 0) && equal(targetIp, target)) return formatMac(senderMac);
    return undefined;
  }
  if (ethertype === ETHERTYPE_IPV6 && target.length === 16 && frame.length >= ETHERNET_HEADER_LEN + IPV6_HEADER_LEN + 24) {
    const icmp = frame.subarray(ETHERNET_HEADER_LEN + IPV6_HEADER_LEN);
    if (frame[ETHERNET_HEADER_LEN + 6] !== ICMPV6 || icmp[0] !== NEIGHBOR_ADVERTISEMENT) return undefined;
    return equal(icmp.subarray(8, 24), target) ? formatMac(source) : undefined;
  }
  return undefined;
}
