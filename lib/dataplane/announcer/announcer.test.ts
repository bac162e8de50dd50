import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, test, type TestContext } from 'node:test';
import { Announcer, type AnnounceResult, type AnnouncerLike, type AnnouncementStatus } from './announcer.js';
import type { AttemptEvent } from './announcer-options.js';
import { DataplaneError } from './errors.js';
import type { EthernetFrame } from './ethernet.js';
import type { LinkInfo } from './link-info.js';
import type { FrameSocket } from './packet-socket.js';

// A driver's tests can pin their fake the same way.
const fakeAnnouncer = {
  announce: (ip: string, ifname: string): AnnounceResult => ({ ip, ifname, started: true }),
  withdraw: () => 0,
  status: (): AnnouncementStatus[] => [],
  settled: async () => {},
  close: async () => {},
} satisfies AnnouncerLike;

const link = (name: string, ifindex: number, extra: Partial<LinkInfo> = {}): LinkInfo => ({
  name,
  ifindex,
  mac: Uint8Array.of(2, 0, 0, 0, 0, ifindex),
  flags: 0x1003,
  type: 1,
  operstate: 'up',
  enslaved: false,
  ...extra,
});

/** Fake links and sockets: records every frame and every open/close. */
class Lab {
  readonly links = new Map<string, LinkInfo>([
    ['eth0', link('eth0', 2)],
    ['eth1', link('eth1', 3)],
  ]);
  readonly frames: { ifindex: number; frame: EthernetFrame }[] = [];
  readonly opened: number[] = [];
  readonly closed: number[] = [];
  readonly events: AttemptEvent[] = [];
  /** Link reads, by interface name. */
  readonly reads: string[] = [];
  failSend: Error | undefined;
  failOpen: Error | undefined;

  announcer(options: { refreshMs?: number; burstMs?: number[] } = {}): Announcer {
    return new Announcer({
      refreshMs: 10_000,
      ...options,
      readLink: async (name) => {
        this.reads.push(name);
        return this.links.get(name);
      },
      openSocket: (ifindex): FrameSocket => {
        if (this.failOpen) throw new DataplaneError('EGW_ERR_ANNOUNCE_SOCKET', 'fake', { cause: this.failOpen });
        this.opened.push(ifindex);
        return {
          ifindex,
          send: (frame) => {
            if (this.failSend) throw new DataplaneError('EGW_ERR_ANNOUNCE_SEND', 'fake', { cause: this.failSend });
            this.frames.push({ ifindex, frame });
            return frame.bytes.length;
          },
          close: () => void this.closed.push(ifindex),
        };
      },
      onAttempt: (e) => this.events.push(e),
    });
  }

  sent(ip?: string): number {
    return this.frames.filter((f) => ip === undefined || frameIp(f.frame) === ip).length;
  }
}

function frameIp(frame: EthernetFrame): string {
  const b = frame.bytes;
  return frame.ethertype === 0x0806 ? [...b.subarray(28, 32)].join('.') : b.subarray(62, 78).toString('hex');
}

// setImmediate is not mocked: one turn lets the fake readLink promise and its continuations run.
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

// Millisecond steps: each attempt schedules the next only after its (fake) link read resolves.
async function advance(t: TestContext, ms: number): Promise<void> {
  await flush();
  for (let i = 0; i < ms; i++) {
    t.mock.timers.tick(1);
    await flush();
  }
}

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
beforeEach(() => {
  unhandled.length = 0;
  process.on('unhandledRejection', onUnhandled);
});
afterEach(async () => {
  await flush();
  process.off('unhandledRejection', onUnhandled);
  assert.deepEqual(unhandled, [], 'no unhandled rejections');
});

describe('Announcer timing', () => {
  test('bursts at 0, 50, 200 ms, then refreshes every refreshMs', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const lab = new Lab();
    const a = lab.announcer({ refreshMs: 1000 });
    const result = a.announce('198.18.0.100', 'eth0');
    assert.deepEqual(result, { ip: '198.18.0.100', ifname: 'eth0', started: true });
    await flush();
    assert.equal(lab.sent(), 1, 'at 0 ms');
    await advance(t, 49);
    assert.equal(lab.sent(), 1);
    await advance(t, 1);
    assert.equal(lab.sent(), 2, 'at 50 ms');
    await advance(t, 149);
    assert.equal(lab.sent(), 2);
    await advance(t, 1);
    assert.equal(lab.sent(), 3, 'at 200 ms');
    await advance(t, 999);
    assert.equal(lab.sent(), 3);
    await advance(t, 1);
    assert.equal(lab.sent(), 4, 'first refresh');
    await advance(t, 1000);
    assert.equal(lab.sent(), 5, 'second refresh');
    const [s] = a.status();
    assert.equal(s?.framesSent, 5);
    assert.equal(s?.ifindex, 2);
    assert.deepEqual(s?.last, { kind: 'sent', bytes: 42 });
    await a.close();
  });

  test('announcements made at different times refresh together, each at least every refreshMs', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const lab = new Lab();
    const a = lab.announcer({ refreshMs: 1000 });
    const sentAt = new Map<string, number[]>();
    let now = 0;
    let seen = 0;
    const collect = () => {
      for (const f of lab.frames.slice(seen)) sentAt.set(frameIp(f.frame), [...(sentAt.get(frameIp(f.frame)) ?? []), now]);
      seen = lab.frames.length;
    };
    const step = async (ms: number) => {
      for (let i = 0; i < ms; i++) {
        await flush();
        collect();
        t.mock.timers.tick(1);
        now++;
        await flush();
        collect();
      }
    };
    a.announce('198.18.0.100', 'eth0');
    await step(300);
    a.announce('198.18.0.101', 'eth0');
    await step(700);
    a.announce('198.18.0.102', 'eth1');
    await step(3000);
    // .100's burst ended at 200 ms and started the round (1200, 2200, 3200); the others joined it
    // after their own bursts, which still start at once
    assert.deepEqual(sentAt.get('198.18.0.100'), [0, 50, 200, 1200, 2200, 3200]);
    assert.deepEqual(sentAt.get('198.18.0.101'), [300, 350, 500, 1200, 2200, 3200]);
    assert.deepEqual(sentAt.get('198.18.0.102'), [1000, 1050, 1200, 2200, 3200]);
    await a.close();
  });

  test('a round reads each link once for all the announcements on it', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const lab = new Lab();
    const a = lab.announcer({ refreshMs: 1000 });
    for (let i = 0; i < 5; i++) a.announce(`198.18.0.${100 + i}`, 'eth0');
    a.announce('198.18.0.200', 'eth1');
    await advance(t, 200);
    assert.equal(lab.sent(), 18);
    lab.reads.length = 0;
    await advance(t, 1000);
    assert.equal(lab.sent(), 24, 'every announcement refreshed');
    assert.deepEqual(lab.reads.sort(), ['eth0', 'eth1'], 'one read per link');
    await a.close();
  });

  test('withdraw stops the burst mid-way', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const lab = new Lab();
    const a = lab.announcer();
    a.announce('fd00:198:18::100', 'eth0');
    await advance(t, 50);
    assert.equal(lab.sent(), 2);
    assert.equal(a.withdraw('fd00:198:18::100'), 1);
    await advance(t, 20_000);
    assert.equal(lab.sent(), 2);
    assert.deepEqual(a.status(), []);
    assert.deepEqual(lab.closed, [2], 'the socket closes with its last announcement');
    await a.close();
  });

  test('a link that comes up gets a fresh burst instead of waiting for refreshes', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const lab = new Lab();
    lab.links.set('eth0', link('eth0', 2, { flags: 0x1002 }));
    const a = lab.announcer({ refreshMs: 1000 });
    a.announce('198.18.0.100', 'eth0');
    await advance(t, 200);
    assert.equal(lab.sent(), 0);
    assert.equal(a.status()[0]?.lastSkip, 'linkDown');
    assert.equal(a.status()[0]?.skipped, 3);
    lab.links.set('eth0', link('eth0', 2));
    await advance(t, 1000);
    assert.equal(lab.sent(), 1, 'refresh finds the link up');
    await advance(t, 50);
    assert.equal(lab.sent(), 2, 'and bursts: +50');
    await advance(t, 150);
    assert.equal(lab.sent(), 3, 'and bursts: +200');
    await advance(t, 799);
    assert.equal(lab.sent(), 3);
    await advance(t, 1);
    assert.equal(lab.sent(), 4, 'then refreshes with the round it left (a period after the refresh that found the link up)');
    await a.close();
  });
});

describe('Announcer announcements and sockets', () => {
  test('one announcement per (ip, interface); announcing it again changes nothing', async () => {
    const lab = new Lab();
    const a = lab.announcer();
    assert.equal(a.announce('198.18.0.100', 'eth0').started, true);
    const again = a.announce('198.18.0.100', 'eth0');
    assert.deepEqual(again, { ip: '198.18.0.100', ifname: 'eth0', started: false });
    assert.equal(a.announce('198.18.0.100', 'eth1').started, true, 'another interface is another announcement');
    await a.settled();
    assert.equal(a.status().length, 2);
    assert.equal(a.withdraw('198.18.0.100', 'eth0'), 1, 'announced twice, withdrawn once: stopped');
    assert.deepEqual(
      a.status().map((s) => s.ifname),
      ['eth1'],
    );
    a.announce('198.18.0.100', 'eth0');
    assert.equal(a.withdraw('198.18.0.100'), 2, 'without ifname: every interface');
    assert.deepEqual(a.status(), []);
    assert.equal(a.withdraw('198.18.0.100'), 0, 'withdrawing what is not announced is a no-op');
    await a.close();
  });

  test('one socket per ifindex, closed when nothing sends through it', async () => {
    const lab = new Lab();
    const a = lab.announcer();
    a.announce('198.18.0.100', 'eth0');
    a.announce('fd00:198:18::100', 'eth0');
    a.announce('198.18.0.101', 'eth1');
    await a.settled();
    assert.deepEqual(lab.opened.sort(), [2, 3]);
    a.withdraw('198.18.0.100');
    assert.deepEqual(lab.closed, [], 'eth0 still carries the IPv6 EIP');
    a.withdraw('fd00:198:18::100');
    assert.deepEqual(lab.closed, [2]);
    await a.close();
    assert.deepEqual(lab.closed, [2, 3]);
  });

  test('a re-created link (new ifindex) gets a new socket and the old one closes', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const lab = new Lab();
    const a = lab.announcer({ refreshMs: 1000 });
    a.announce('198.18.0.100', 'eth0');
    await advance(t, 200);
    lab.links.set('eth0', link('eth0', 12));
    await advance(t, 1000);
    assert.deepEqual(lab.opened, [2, 12]);
    assert.deepEqual(lab.closed, [2]);
    assert.equal(a.status()[0]?.ifindex, 12);
    await a.close();
  });

  test('status is sorted by family, address bytes, interface', async () => {
    const lab = new Lab();
    const a = lab.announcer();
    for (const [ip, ifname] of [
      ['fd00::1', 'eth0'],
      ['198.18.0.10', 'eth1'],
      ['198.18.0.9', 'eth1'],
      ['198.18.0.9', 'eth0'],
    ] as const) {
      a.announce(ip, ifname);
    }
    assert.deepEqual(
      a.status().map((s) => `${s.ip}@${s.ifname}`),
      ['198.18.0.9@eth0', '198.18.0.9@eth1', '198.18.0.10@eth1', 'fd00::1@eth0'],
    );
    await a.close();
  });
});

describe('Announcer failures are recorded, not thrown', () => {
  const SOCKET = 'EGW_ERR_ANNOUNCE_SOCKET';
  const eth0 = (extra: Partial<LinkInfo>) => (lab: Lab) => lab.links.set('eth0', link('eth0', 2, extra));
  const cases = [
    { name: 'missing link', setup: (lab: Lab) => lab.links.delete('eth0'), skip: 'linkMissing' },
    { name: 'NOARP link', setup: eth0({ flags: 0x1083 }), skip: 'noArp' },
    { name: 'bridge port', setup: eth0({ enslaved: true }), skip: 'enslaved' },
    { name: 'socket cannot open', setup: (lab: Lab) => (lab.failOpen = new Error('EPERM')), code: SOCKET },
    { name: 'send fails', setup: (lab: Lab) => (lab.failSend = new Error('ENETDOWN')), code: 'EGW_ERR_ANNOUNCE_SEND' },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const lab = new Lab();
      c.setup(lab);
      const a = lab.announcer();
      a.announce('198.18.0.100', 'eth0');
      await a.settled();
      const [s] = a.status();
      assert.equal(s?.framesSent, 0);
      assert.equal(s?.lastSkip, c.skip);
      assert.equal(s?.lastError?.code, c.code);
      assert.equal(lab.events.length, 1);
      assert.equal(lab.events[0]?.outcome.kind, c.skip ? 'skipped' : 'failed');
      await a.close();
    });
  }

  test('after a send error the socket is closed and reopened on the next attempt', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const lab = new Lab();
    lab.failSend = new Error('ENXIO');
    const a = lab.announcer();
    a.announce('198.18.0.100', 'eth0');
    await flush();
    assert.deepEqual(lab.closed, [2]);
    lab.failSend = undefined;
    await advance(t, 50);
    assert.deepEqual(lab.opened, [2, 2]);
    assert.equal(a.status()[0]?.framesSent, 1);
    assert.equal(a.status()[0]?.failures, 1);
    await a.close();
  });

  test('a throwing onAttempt hook does not stop announcements', async () => {
    const a = new Announcer({
      readLink: async () => link('eth0', 2),
      openSocket: (ifindex) => ({ ifindex, send: (f) => f.bytes.length, close: () => {} }),
      onAttempt: () => {
        throw new Error('metrics bug');
      },
    });
    a.announce('198.18.0.100', 'eth0');
    await a.settled();
    assert.equal(a.status()[0]?.framesSent, 1);
    await a.close();
  });
});

describe('Announcer input, options and close', () => {
  const isCode = (code: string) => (err: unknown) => err instanceof DataplaneError && err.code === code;

  test('bad IP or interface name throws a coded error', async () => {
    const a = new Lab().announcer();
    assert.throws(() => a.announce('198.18.0.300', 'eth0'), isCode('EGW_ERR_ANNOUNCE_INPUT'));
    assert.throws(() => a.announce('198.18.0.1', '../etc'), isCode('EGW_ERR_ANNOUNCE_INPUT'));
    assert.deepEqual(a.status(), []);
    await a.close();
  });

  const badOptions = [
    { name: 'burst not starting at 0', options: { burstMs: [10, 50] } },
    { name: 'burst not ascending', options: { burstMs: [0, 200, 50] } },
    { name: 'empty burst', options: { burstMs: [] } },
    { name: 'zero refresh', options: { refreshMs: 0 } },
    { name: 'fractional refresh', options: { refreshMs: 1.5 } },
  ];
  for (const c of badOptions) {
    test(`rejects option: ${c.name}`, () => {
      assert.throws(() => new Lab().announcer(c.options), isCode('EGW_ERR_ANNOUNCE_CONFIG'));
    });
  }

  test('close stops everything, is idempotent, and refuses new work', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const lab = new Lab();
    const a = lab.announcer();
    a.announce('198.18.0.100', 'eth0');
    a.announce('198.18.0.101', 'eth1');
    const closing = a.close(); // while the first attempts are in flight
    assert.equal(a.close(), closing);
    await closing;
    await advance(t, 60_000);
    assert.equal(lab.sent(), 0, 'in-flight attempts see the stop and do not send');
    assert.deepEqual(a.status(), []);
    assert.throws(() => a.announce('198.18.0.100', 'eth0'), isCode('EGW_ERR_ANNOUNCE_CLOSED'));
    assert.equal(a.withdraw('198.18.0.100'), 0);
  });

  test('timers are unref-ed: a process that never calls close() still exits', () => {
    const announcerUrl = new URL('./announcer.js', import.meta.url).href;
    const script = `
      import { Announcer } from ${JSON.stringify(announcerUrl)};
      const a = new Announcer({
        refreshMs: 60000,
        readLink: async () =>
          ({ name: 'eth0', ifindex: 2, mac: new Uint8Array(6), flags: 1, type: 1, operstate: 'up', enslaved: false }),
        openSocket: (ifindex) => ({ ifindex, send: (f) => f.bytes.length, close() {} }),
      });
      a.announce('198.18.0.100', 'eth0');`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      timeout: 5000,
      cwd: fileURLToPath(new URL('.', import.meta.url)),
    });
    assert.equal(r.error, undefined, 'exits before the 5 s timeout');
    assert.equal(r.status, 0, r.stderr.toString());
  });

  test('the fake above satisfies AnnouncerLike', () => {
    assert.equal(fakeAnnouncer.announce('198.18.0.1', 'eth0').started, true);
  });
});
