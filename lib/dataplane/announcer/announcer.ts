import { buildAnnouncement } from './build-announcement.js';
import { validateTiming, type AnnouncerOptions, type AttemptEvent, type AttemptOutcome, type Timing } from './announcer-options.js';
import { checkIfname, parseAnnounceTarget, type AnnounceTarget } from './announce-target.js';
import { DataplaneError } from './errors.js';
import { linkSkipReason, readLink, SYS_CLASS_NET, type LinkInfo, type SkipReason } from './link-info.js';
import { packetSocketOpener, type FrameSocket, type OpenFrameSocket } from './packet-socket.js';
import { RefreshRound } from './refresh-round.js';

export interface AnnounceResult {
  /** Canonical form of the announced IP. */
  readonly ip: string;
  readonly ifname: string;
  /** True when this call started the announcement (and its burst); false when it was under way. */
  readonly started: boolean;
}

export interface AnnouncementStatus {
  readonly ip: string;
  readonly ifname: string;
  readonly family: 4 | 6;
  readonly framesSent: number;
  readonly skipped: number;
  readonly failures: number;
  /** Outcome of the latest attempt; undefined before the first one completes. */
  readonly last: AttemptOutcome | undefined;
  readonly lastSkip: SkipReason | undefined;
  readonly lastError: DataplaneError | undefined;
  /** Date.now() of the latest frame sent. */
  readonly lastSentAt: number | undefined;
  /** ifindex the latest frame went to. */
  readonly ifindex: number | undefined;
}

/** What callers (and fakes, pinned with `satisfies AnnouncerLike`) rely on. */
export interface AnnouncerLike {
  /**
   * Announces ip on ifname: a burst, then the periodic refresh. Announcing what is under way
   * changes nothing (the caller decides what is announced; nothing is counted here). Throws
   * EGW_ERR_ANNOUNCE_INPUT / _CLOSED, nothing else: link and socket problems are recorded in
   * status(), and retried on the next refresh.
   */
  announce(ip: string, ifname: string): AnnounceResult;
  /** Stops announcing ip on ifname, or on every interface when ifname is omitted. Returns how many announcements stopped. */
  withdraw(ip: string, ifname?: string): number;
  /** Snapshot of every active announcement, sorted by ip then ifname. */
  status(): AnnouncementStatus[];
  /** Resolves when no send attempt is in flight. */
  settled(): Promise<void>;
  /** Stops every announcement and closes every socket. Idempotent. */
  close(): Promise<void>;
}

interface Entry {
  readonly key: string;
  readonly target: AnnounceTarget;
  readonly ifname: string;
  stopped: boolean;
  /** Index into burstMs of the attempt that ran last; >= length means refreshing. */
  step: number;
  /** The next attempt of a burst; refreshes wait in the shared round instead. */
  timer: NodeJS.Timeout | undefined;
  inflight: Promise<void> | undefined;
  framesSent: number;
  skipped: number;
  failures: number;
  last: AttemptOutcome | undefined;
  lastSkip: SkipReason | undefined;
  lastError: DataplaneError | undefined;
  lastSentAt: number | undefined;
  ifindex: number | undefined;
}

/**
 * Gratuitous ARP / unsolicited NA sender for EIPs this node holds. One AF_PACKET socket per
 * ifindex, opened on first use and closed when no announcement sends through it any more.
 * A new announcement bursts on timers of its own; after its burst it joins the one refresh round
 * all announcements share, so a node holding many EIPs wakes once a refresh period.
 */
export class Announcer implements AnnouncerLike {
  readonly #timing: Timing;
  readonly #readLink: (ifname: string) => Promise<LinkInfo | undefined>;
  readonly #openSocket: OpenFrameSocket;
  readonly #onAttempt: ((event: AttemptEvent) => void) | undefined;
  readonly #entries = new Map<string, Entry>();
  readonly #sockets = new Map<number, FrameSocket>();
  readonly #refresh: RefreshRound<Entry>;
  /** Link reads under way, by ifname: the announcements a round runs at once share one read per link. */
  readonly #linkReads = new Map<string, Promise<LinkInfo | undefined>>();
  #closing: Promise<void> | undefined;

  constructor(options: AnnouncerOptions = {}) {
    this.#timing = validateTiming(options);
    const sysClassNet = options.sysClassNet ?? SYS_CLASS_NET;
    this.#readLink = options.readLink ?? ((ifname) => readLink(ifname, sysClassNet));
    this.#openSocket = options.openSocket ?? packetSocketOpener();
    this.#onAttempt = options.onAttempt;
    this.#refresh = new RefreshRound(this.#timing.refreshMs, (entry) => this.#run(entry));
  }

  announce(ip: string, ifname: string): AnnounceResult {
    if (this.#closing !== undefined) {
      throw new DataplaneError('EGW_ERR_ANNOUNCE_CLOSED', `announce ${ip} on ${ifname} after close()`);
    }
    const target = parseAnnounceTarget(ip);
    checkIfname(ifname);
    const key = entryKey(target.ip, ifname);
    const existing = this.#entries.get(key);
    if (existing !== undefined) return { ip: target.ip, ifname, started: false };
    const entry: Entry = {
      key,
      target,
      ifname,
      stopped: false,
      step: 0,
      timer: undefined,
      inflight: undefined,
      framesSent: 0,
      skipped: 0,
      failures: 0,
      last: undefined,
      lastSkip: undefined,
      lastError: undefined,
      lastSentAt: undefined,
      ifindex: undefined,
    };
    this.#entries.set(key, entry);
    this.#run(entry);
    return { ip: target.ip, ifname, started: true };
  }

  withdraw(ip: string, ifname?: string): number {
    const canonical = parseAnnounceTarget(ip).ip;
    let stopped = 0;
    for (const entry of [...this.#entries.values()]) {
      if (entry.target.ip !== canonical || (ifname !== undefined && entry.ifname !== ifname)) continue;
      this.#stop(entry);
      stopped++;
    }
    if (stopped > 0) this.#pruneSockets();
    return stopped;
  }

  status(): AnnouncementStatus[] {
    return [...this.#entries.values()]
      .sort((a, b) => compareKeys(a, b))
      .map((e) => ({
        ip: e.target.ip,
        ifname: e.ifname,
        family: e.target.family,
        framesSent: e.framesSent,
        skipped: e.skipped,
        failures: e.failures,
        last: e.last,
        lastSkip: e.lastSkip,
        lastError: e.lastError,
        lastSentAt: e.lastSentAt,
        ifindex: e.ifindex,
      }));
  }

  async settled(): Promise<void> {
    for (;;) {
      const pending = [...this.#entries.values()].flatMap((e) => (e.inflight ? [e.inflight] : []));
      if (pending.length === 0) return;
      await Promise.all(pending);
    }
  }

  close(): Promise<void> {
    this.#closing ??= this.#closeOnce();
    return this.#closing;
  }

  async #closeOnce(): Promise<void> {
    const inflight = [...this.#entries.values()].flatMap((e) => (e.inflight ? [e.inflight] : []));
    for (const entry of [...this.#entries.values()]) this.#stop(entry);
    this.#refresh.clear();
    await Promise.all(inflight);
    for (const socket of this.#sockets.values()) socket.close();
    this.#sockets.clear();
  }

  #stop(entry: Entry): void {
    entry.stopped = true;
    clearTimeout(entry.timer);
    entry.timer = undefined;
    this.#refresh.leave(entry);
    this.#entries.delete(entry.key);
  }

  #run(entry: Entry): void {
    entry.timer = undefined;
    entry.inflight = this.#attempt(entry).then(() => {
      entry.inflight = undefined;
      if (!entry.stopped) this.#scheduleNext(entry);
    });
  }

  #scheduleNext(entry: Entry): void {
    const { burstMs } = this.#timing;
    const next = entry.step + 1;
    entry.step = Math.min(next, burstMs.length);
    if (next >= burstMs.length) {
      this.#refresh.join(entry);
      return;
    }
    // Offsets are kept relative to the previous attempt; an attempt takes well under 1 ms.
    entry.timer = setTimeout(() => this.#run(entry), burstMs[next]! - burstMs[next - 1]!);
    entry.timer.unref();
  }

  /** Never rejects: every outcome is recorded on the entry. */
  async #attempt(entry: Entry): Promise<void> {
    let outcome: AttemptOutcome;
    try {
      const link = await this.#sharedReadLink(entry.ifname);
      if (entry.stopped) return;
      const reason = linkSkipReason(link);
      outcome = reason === undefined && link?.mac !== undefined ? this.#send(entry, link.ifindex, link.mac) : { kind: 'skipped', reason: reason ?? 'notEthernet' };
    } catch (err) {
      if (entry.stopped) return;
      const error =
        err instanceof DataplaneError
          ? err
          : new DataplaneError('EGW_ERR_ANNOUNCE_SEND', `announcing ${entry.target.ip} on ${entry.ifname}`, {
              cause: err,
            });
      outcome = { kind: 'failed', error };
    }
    this.#record(entry, outcome);
  }

  #sharedReadLink(ifname: string): Promise<LinkInfo | undefined> {
    let read = this.#linkReads.get(ifname);
    if (read === undefined) {
      read = this.#readLink(ifname);
      this.#linkReads.set(ifname, read);
      const forget = () => void (this.#linkReads.get(ifname) === read && this.#linkReads.delete(ifname));
      read.then(forget, forget);
    }
    return read;
  }

  #send(entry: Entry, ifindex: number, mac: Uint8Array): AttemptOutcome {
    const previous = entry.ifindex;
    entry.ifindex = ifindex;
    if (previous !== undefined && previous !== ifindex) this.#pruneSockets(); // link was re-created
    let socket = this.#sockets.get(ifindex);
    if (socket === undefined) {
      socket = this.#openSocket(ifindex);
      this.#sockets.set(ifindex, socket);
    }
    try {
      return { kind: 'sent', bytes: socket.send(buildAnnouncement(entry.target, mac)) };
    } catch (err) {
      // Reopen on the next attempt: the socket may be bound to a device that is gone.
      socket.close();
      this.#sockets.delete(ifindex);
      throw err;
    }
  }

  #record(entry: Entry, outcome: AttemptOutcome): void {
    const recovered = entry.last !== undefined && entry.last.kind !== 'sent' && outcome.kind === 'sent';
    entry.last = outcome;
    if (outcome.kind === 'sent') {
      entry.framesSent++;
      entry.lastSentAt = Date.now();
      // The link just became usable (came up, was created, stopped failing): burst again, as a
      // takeover, instead of waiting a whole refresh period between single frames.
      if (recovered) entry.step = 0;
    } else if (outcome.kind === 'skipped') {
      entry.skipped++;
      entry.lastSkip = outcome.reason;
    } else {
      entry.failures++;
      entry.lastError = outcome.error;
    }
    if (this.#onAttempt !== undefined) {
      try {
        this.#onAttempt({ ip: entry.target.ip, ifname: entry.ifname, family: entry.target.family, outcome });
      } catch {
        // A metrics or logging bug must not stop announcements.
      }
    }
  }

  /** Closes sockets whose ifindex no active announcement sent through last. */
  #pruneSockets(): void {
    const used = new Set<number>();
    for (const entry of this.#entries.values()) if (entry.ifindex !== undefined) used.add(entry.ifindex);
    for (const [ifindex, socket] of this.#sockets) {
      if (!used.has(ifindex)) {
        socket.close();
        this.#sockets.delete(ifindex);
      }
    }
  }
}

function entryKey(ip: string, ifname: string): string {
  return `${ip}%${ifname}`;
}

function compareKeys(a: Entry, b: Entry): number {
  return a.target.family - b.target.family || Buffer.compare(a.target.bytes, b.target.bytes) || (a.ifname < b.ifname ? -1 : a.ifname > b.ifname ? 1 : 0);
}
