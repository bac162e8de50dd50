/**
 * Reads `tcpdump -tt -n -e -x` output of UDP datagrams into sequence arrivals: a header line with
 * the kernel's capture time, the Ethernet source (the hop that delivered it) and the source
 * address, then the IP packet in hex lines.
 */
import { parseSeqPayload } from './udp-seq-format.js';
import type { SeqArrival } from './udp-seq-report.js';

// "1765050000.123456 02:aa:bb:cc:dd:ee > 02:11:22:33:44:55, ethertype IPv4 (0x0800), length 56: 198.18.0.105.40312 > 198.18.0.2.21001: UDP, length 14"
const HEADER = /^(\d+\.\d+) ([0-9a-f]{2}(?::[0-9a-f]{2}){5}) > [0-9a-f:]{17}, ethertype (IPv4|IPv6) \(0x[0-9a-f]+\), length \d+: (\S+)\.(\d+) > \S+: UDP/;
const HEX = /^\s+0x[0-9a-f]+:\s+((?:[0-9a-f]{2,4}\s?)+)/;

export class SeqCaptureParser {
  private pending: { at: number; via: string; v6: boolean; src: string; srcPort: number; hex: string } | undefined;

  constructor(private readonly onArrival: (a: SeqArrival) => void) {}

  line(text: string): void {
    const h = HEADER.exec(text);
    if (h) {
      this.flush();
      this.pending = { at: Number(h[1]) * 1000, via: h[2]!, v6: h[3] === 'IPv6', src: h[4]!, srcPort: Number(h[5]), hex: '' };
      return;
    }
    const x = HEX.exec(text);
    if (x && this.pending) this.pending.hex += x[1]!.replace(/\s+/g, '');
  }

  /** The last packet has no header after it: call at the end of the output. */
  flush(): void {
    const p = this.pending;
    this.pending = undefined;
    if (!p) return;
    const packet = Buffer.from(p.hex, 'hex');
    const ipHeader = p.v6 ? 40 : ((packet[0] ?? 0) & 0x0f) * 4;
    const seq = parseSeqPayload(packet.subarray(ipHeader + 8));
    if (seq !== undefined) this.onArrival({ at: p.at, seq, src: p.src, srcPort: p.srcPort, via: p.via });
  }
}
