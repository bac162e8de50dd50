/** Gratuitous ARP and unsolicited NA frames as `tcpdump -e -nn` prints them. */

/** tcpdump filter for ARP and ICMPv6 neighbour advertisements (type 136, no extension headers). */
export const ANNOUNCE_FILTER = 'arp or (icmp6 and ip6[40] == 136)';

export interface Announcement {
  readonly kind: 'garp' | 'na';
  /** Ethernet source address of the frame. */
  readonly mac: string;
  readonly ip: string;
}

const BROADCAST = 'ff:ff:ff:ff:ff:ff';
const LINE = /^\S+ ([0-9a-f]{2}(?::[0-9a-f]{2}){5}) > ([0-9a-f:]{17}), ethertype (ARP|IPv6) .*?: (.*)$/;

/** Gratuitous ARP (a request for the sender's own IP, or a broadcast reply) and NA frames among the lines. */
export function parseAnnouncements(lines: readonly string[]): Announcement[] {
  const out: Announcement[] = [];
  for (const line of lines) {
    const m = LINE.exec(line.trim());
    if (!m) continue;
    const [, mac, dst, type, rest] = m as unknown as [string, string, string, string, string];
    if (type === 'ARP') {
      const req = /Request who-has (\S+) tell (\S+?),/.exec(rest);
      const rep = /Reply (\S+) is-at /.exec(rest);
      if (req && req[1] === req[2]) out.push({ kind: 'garp', mac, ip: req[1]! });
      else if (rep && dst === BROADCAST) out.push({ kind: 'garp', mac, ip: rep[1]! });
    } else {
      const na = /neighbor advertisement, tgt is (\S+?),/.exec(rest);
      if (na) out.push({ kind: 'na', mac, ip: na[1]! });
    }
  }
  return out;
}
