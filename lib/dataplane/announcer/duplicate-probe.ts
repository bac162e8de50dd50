import { setTimeout as sleep } from 'node:timers/promises';
import { parseAnnounceTarget, checkIfname } from './announce-target.js';
import { DataplaneError } from './errors.js';
import { linkSkipReason, readLink, SYS_CLASS_NET } from './link-info.js';
import { loadPacketSocketAddon, nameErrno, type PacketSocketAddon } from './packet-socket.js';
import { answerFor, buildArpProbe, buildNsProbe } from './probe-frames.js';

/** Asks the link whether another host holds an address (duplicate address detection). */
export interface DuplicateAddressProbe {
  /**
   * Resolves with the MAC address of a host on `ifname` that answers for `ip`, or undefined when
   * none did. Rejects (EGW_ERR_ANNOUNCE_*) when it could not ask: no link, no NET_RAW, no addon.
   */
  probe(ip: string, ifname: string): Promise<string | undefined>;
}

/**
 * RFC 5227 spaces three probes 1-2 s apart and waits 2 s more, for links with slow or sleeping
 * hosts; a LAN host answers ARP in milliseconds. Three probes 100 ms apart (one lost frame is not a
 * miss) and 200 ms after the last take 400 ms, and only when an egress IP is first taken.
 */
export interface ProbeTiming {
  readonly probes: number;
  readonly intervalMs: number;
  readonly waitMs: number;
  /** How often the listening socket is read while waiting. */
  readonly pollMs: number;
}

export const PROBE_TIMING: ProbeTiming = Object.freeze({ probes: 3, intervalMs: 100, waitMs: 200, pollMs: 5 });

const FRAME_BUFFER = 2048;

export function duplicateAddressProbe(options: { addon?: PacketSocketAddon; sysClassNet?: string; timing?: ProbeTiming } = {}): DuplicateAddressProbe {
  const timing = options.timing ?? PROBE_TIMING;
  return {
    async probe(ip, ifname) {
      const target = parseAnnounceTarget(ip);
      const link = await readLink(checkIfname(ifname), options.sysClassNet ?? SYS_CLASS_NET);
      const skip = linkSkipReason(link);
      if (skip || !link?.mac) throw new DataplaneError('EGW_ERR_ANNOUNCE_LINK', `cannot probe for ${target.ip} on ${ifname}: ${skip ?? 'no MAC address'}`);
      const mac = link.mac;
      const addon = options.addon ?? loadPacketSocketAddon();
      const opened: number[] = [];
      const open = (what: string, fn: () => number) => {
        try {
          opened.push(fn());
          return opened[opened.length - 1]!;
        } catch (err) {
          throw new DataplaneError('EGW_ERR_ANNOUNCE_SOCKET', `${what} on ${ifname} (ifindex ${link.ifindex}): ${nameErrno(err)}`, { cause: err });
        }
      };
      try {
        const listener = open('listening for neighbours', () => addon.listen(link.ifindex, target.family));
        const sender = open('opening AF_PACKET socket', () => addon.open(link.ifindex));
        const frame = target.family === 4 ? buildArpProbe(mac, target.bytes) : buildNsProbe(mac, target.bytes);
        const buffer = Buffer.alloc(FRAME_BUFFER);
        const answered = (): string | undefined => {
          for (let n = addon.receive(listener, buffer); n > 0; n = addon.receive(listener, buffer)) {
            const who = answerFor(buffer.subarray(0, n), target.bytes, mac);
            if (who) return who;
          }
          return undefined;
        };
        for (let i = 0; i < timing.probes; i++) {
          try {
            addon.send(sender, link.ifindex, frame.ethertype, Buffer.from(frame.dst), frame.bytes);
          } catch (err) {
            throw new DataplaneError('EGW_ERR_ANNOUNCE_SEND', `probing for ${target.ip} on ${ifname}: ${nameErrno(err)}`, { cause: err });
          }
          const until = Date.now() + (i + 1 < timing.probes ? timing.intervalMs : timing.waitMs);
          do {
            const who = answered();
            if (who) return who;
            await sleep(timing.pollMs);
          } while (Date.now() < until);
        }
        return answered();
      } finally {
        for (const fd of opened) {
          try {
            addon.close(fd);
          } catch {
            // Linux releases the descriptor even when close(2) reports an error
          }
        }
      }
    },
  };
}
