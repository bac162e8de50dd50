import type { AnnounceTarget } from './announce-target.js';
import { buildGratuitousArp } from './arp-frame.js';
import type { EthernetFrame } from './ethernet.js';
import { buildUnsolicitedNa } from './na-frame.js';

/** The frame that moves `target` to `mac` in its neighbours' caches. */
export function buildAnnouncement(target: AnnounceTarget, mac: Uint8Array): EthernetFrame {
  return target.family === 4 ? buildGratuitousArp(mac, target.bytes) : buildUnsolicitedNa(mac, target.bytes);
}
