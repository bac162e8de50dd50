/** One captured frame: time in microseconds since the epoch, and its bytes. */
export interface CapturedFrame {
  readonly atUs: number;
  readonly bytes: Buffer;
}

const MAGIC_US = 0xa1b2c3d4;
const MAGIC_NS = 0xa1b23c4d;

/** Reads a classic libpcap file (as `tcpdump -w` writes it), either byte order. */
export function parsePcap(file: Buffer): CapturedFrame[] {
  if (file.length < 24) throw new Error(`pcap too short: ${file.length} bytes`);
  const magicLE = file.readUInt32LE(0);
  const le = magicLE === MAGIC_US || magicLE === MAGIC_NS;
  const magic = le ? magicLE : file.readUInt32BE(0);
  if (magic !== MAGIC_US && magic !== MAGIC_NS) throw new Error(`not a pcap file (magic ${magic.toString(16)})`);
  const u32 = (at: number): number => (le ? file.readUInt32LE(at) : file.readUInt32BE(at));
  const fractionToUs = magic === MAGIC_NS ? 1 / 1000 : 1;
  const frames: CapturedFrame[] = [];
  for (let at = 24; at + 16 <= file.length;) {
    const captured = u32(at + 8);
    frames.push({
      atUs: u32(at) * 1_000_000 + u32(at + 4) * fractionToUs,
      bytes: file.subarray(at + 16, at + 16 + captured),
    });
    at += 16 + captured;
  }
  return frames;
}
