import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PeerTable, type PeerReport } from './peer-table.js';

const TIMING = { windowMs: 300, holdDownMs: 5000, fenceMs: 900 };
const PEERS = [
  { node: 'gw-2', address: '198.18.0.2' },
  { node: 'gw-3', address: '198.18.0.3' },
  { node: 'worker-4', address: '198.18.0.4' },
];

function report(heard: string[] = [], extra: Partial<PeerReport> = {}): PeerReport {
  return { healthy: true, draining: false, truncated: false, holds: [], heard, ...extra };
}

/** A table at time 0 with the three peers, and a clock that only moves when told. */
function table(timing = TIMING) {
  let now = 0;
  const t = new PeerTable(timing, now);
  t.setPeers(PEERS, now);
  return {
    t,
    at: (ms: number) => (now = ms),
    hear: (node: string, heard: string[] = [], extra: Partial<PeerReport> = {}) => t.heardFrom(node, report(heard, extra), now),
    alive: (node: string) => {
      t.evaluate(now);
      return t.view(now).peers.get(node)!.alive;
    },
    view: () => {
      t.evaluate(now);
      return t.view(now);
    },
  };
}

test('a peer never heard is alive for one window after it was added, then dead', () => {
  const { at, alive, t } = table();
  assert.equal(alive('gw-2'), true);
  at(300);
  assert.equal(alive('gw-2'), true);
  at(301);
  assert.equal(alive('gw-2'), false);
  t.setPeers([...PEERS, { node: 'late', address: '198.18.0.9' }], 301);
  assert.equal(alive('late'), true, 'a peer added later gets its own window');
});

test('heard within the window, dead after it', () => {
  const { at, hear, alive, view } = table();
  at(100);
  hear('gw-2');
  assert.equal(view().peers.get('gw-2')!.heard, true);
  at(400);
  assert.equal(alive('gw-2'), true);
  at(401);
  assert.equal(alive('gw-2'), false);
  assert.equal(view().peers.get('gw-2')!.heard, false);
  assert.equal(view().peers.get('gw-2')!.sinceHeardMs, 301);
});

test('a peer that the others still hear is alive through their fresh heard lists (a partition between two nodes)', () => {
  const { at, hear, alive, view } = table();
  for (let ms = 0; ms <= 2000; ms += 100) {
    at(ms);
    hear('worker-4', ['gw-2', 'gw-3']);
    if (ms < 500) hear('gw-2'); // then gw-2 is cut off from this node, but not from worker-4
  }
  assert.equal(alive('gw-2'), true);
  assert.equal(view().peers.get('gw-2')!.heard, false);
  // worker-4 stops hearing gw-2 too: its list no longer names it.
  at(2100);
  hear('worker-4', ['gw-3']);
  assert.equal(alive('gw-2'), false);
});

test('a stale heard list does not keep a peer alive', () => {
  const { at, hear, alive } = table();
  at(100);
  hear('gw-2', ['gw-3']);
  hear('gw-3', ['gw-2']);
  at(350);
  hear('worker-4', ['gw-2']);
  assert.equal(alive('gw-2'), true);
  at(651);
  assert.equal(alive('gw-2'), false, "worker-4's list (heard at 350) is older than the window");
  assert.equal(alive('gw-3'), false, "gw-2's list naming gw-3 is from a peer no longer heard");
});

test('hold-down: a peer judged dead is alive again only after being heard without a gap for holdDownMs', () => {
  const { at, hear, alive } = table();
  at(0);
  hear('gw-2');
  at(301);
  assert.equal(alive('gw-2'), false);
  // Flapping: heard 200 ms, silent 400 ms, again and again: never alive.
  for (let start = 1000; start < 8000; start += 600) {
    for (let ms = start; ms <= start + 200; ms += 100) {
      at(ms);
      hear('gw-2');
      assert.equal(alive('gw-2'), false, `flapping at ${ms}`);
    }
  }
  // Steady from 9000: alive at 14000, not before.
  for (let ms = 9000; ms <= 14_500; ms += 100) {
    at(ms);
    hear('gw-2');
    assert.equal(alive('gw-2'), ms >= 14_000, `steady at ${ms}`);
  }
});

test('a gap longer than the window between two evaluations still starts the hold-down', () => {
  const { t, at, hear } = table();
  at(0);
  hear('gw-2');
  t.evaluate(0);
  at(350); // no tick evaluated during the gap
  const ev = hear('gw-2');
  assert.deepEqual(
    ev.flipped.filter((f) => f.node === 'gw-2'),
    [{ node: 'gw-2', alive: false }],
  );
  assert.equal(t.view(350).peers.get('gw-2')!.alive, false);
});

test('flags, holds and truncation come from the last packet; a change is reported, a refresh is not', () => {
  const { at, hear, view } = table();
  at(10);
  assert.equal(hear('gw-2', [], { holds: ['198.18.0.100'] }).changed, true);
  at(20);
  assert.equal(hear('gw-2', [], { holds: ['198.18.0.100'] }).changed, false);
  at(30);
  assert.equal(hear('gw-2', [], { holds: ['198.18.0.100'], draining: true, healthy: false, truncated: true }).changed, true);
  const peer = view().peers.get('gw-2')!;
  assert.deepEqual(
    { healthy: peer.healthy, draining: peer.draining, holds: peer.holds, truncated: peer.truncated },
    { healthy: false, draining: true, holds: ['198.18.0.100'], truncated: true },
  );
});

test('misses count the probe rounds without an answer, and an answer resets them', () => {
  const { t, at, hear } = table();
  assert.deepEqual(t.probing(), []);
  at(10);
  hear('gw-2');
  at(100);
  assert.deepEqual(t.probing(), ['gw-3', 'worker-4']);
  assert.deepEqual(t.probing(), ['gw-2', 'gw-3', 'worker-4']);
  assert.equal(t.view(100).peers.get('gw-3')!.misses, 2);
  hear('gw-3');
  assert.equal(t.view(100).peers.get('gw-3')!.misses, 0);
});

test('isolated when no peer was heard directly for the fence time, not before the first fence', () => {
  const { at, hear, view, t } = table();
  at(899);
  assert.equal(view().isolated, false);
  at(900);
  assert.equal(view().isolated, true);
  hear('worker-4');
  assert.equal(t.view(900).isolated, false);
  at(1800);
  assert.equal(view().isolated, false);
  at(1801);
  assert.equal(view().isolated, true);
  t.setPeers([], 1801);
  assert.equal(view().isolated, false, 'a node without peers is alone, not cut off');
});

test('hears nobody once no node was heard for a detection window: sooner than isolated, and over with the first packet', () => {
  const { at, hear, view, t } = table();
  at(299);
  assert.equal(view().hearsNobody, false, 'not before a window has passed');
  at(300);
  assert.deepEqual([view().hearsNobody, view().isolated], [true, false]);
  assert.equal(t.evaluate(300).changed, false, 'reported as a change once');
  hear('worker-4');
  assert.equal(t.view(300).hearsNobody, false, 'a known or probed node heard: at once');
  assert.equal(t.nextChangeAt(300), 600, 'judged again when that packet is a window old');
  at(600);
  assert.equal(view().hearsNobody, false);
  at(601);
  assert.equal(view().hearsNobody, true);
  t.setPeers([], 601);
  assert.equal(view().hearsNobody, false, 'a node without peers judges nothing');
});

test('the heard list names the peers heard directly within the window', () => {
  const { t, at, hear } = table();
  at(0);
  hear('gw-3');
  at(200);
  hear('gw-2', ['worker-4']);
  assert.deepEqual(t.heardNodes(200), ['gw-2', 'gw-3']);
  assert.deepEqual(t.heardNodes(301), ['gw-2']);
});

test('a peer whose address changes starts afresh; one that leaves is reported', () => {
  const { t, at, hear } = table();
  at(0);
  hear('gw-2');
  at(1000);
  assert.deepEqual(t.setPeers([{ node: 'gw-2', address: '198.18.0.22' }, PEERS[1]!], 1000), ['worker-4']);
  assert.equal(t.byAddress('198.18.0.2'), undefined);
  assert.equal(t.byAddress('198.18.0.22')?.node, 'gw-2');
  t.evaluate(1000);
  assert.equal(t.view(1000).peers.get('gw-2')!.alive, true, 'a new address: a new start window');
  assert.equal(t.view(1000).peers.get('gw-2')!.sinceHeardMs, undefined);
});

test('the next change is due when the earliest window runs out, and evaluating then judges the death', () => {
  const { t, at, hear, alive } = table();
  assert.equal(t.nextChangeAt(0), 300, 'the start windows end');
  at(10);
  hear('gw-2', ['gw-3', 'worker-4']);
  at(40);
  hear('gw-3', ['gw-2', 'worker-4']);
  hear('worker-4', ['gw-2', 'gw-3']);
  assert.equal(t.nextChangeAt(40), 310, "gw-2's window, from its last packet");
  at(120);
  hear('gw-2', ['gw-3', 'worker-4']);
  assert.equal(t.nextChangeAt(120), 340, "gw-3's and worker-4's windows now come first");
  at(340);
  assert.equal(alive('gw-3'), true, 'heard within the window, its end included');
  assert.equal(t.nextChangeAt(340), 420);
  // gw-2 last heard at 120 and silent since: dead at its deadline, not one tick later
  hear('gw-3', ['worker-4']);
  hear('worker-4', ['gw-3']);
  at(421);
  assert.equal(alive('gw-2'), false);
  assert.equal(t.nextChangeAt(421), 640, 'then the next windows; a dead peer has no deadline until it is heard');
});

test('a known node that is not probed: no state, but its packets keep this node from being isolated', () => {
  const { t, at, hear, view } = table();
  t.setPeers([PEERS[0]!], 0);
  t.setKnown([{ node: 'worker-9', address: '198.18.0.9' }], 0);
  assert.deepEqual(t.byAddress('198.18.0.9'), { node: 'worker-9', address: '198.18.0.9', probed: false });
  assert.equal(t.byAddress('198.18.0.2')?.probed, true);
  at(900);
  assert.equal(view().isolated, true, 'nothing heard for the fence time');
  hear('worker-9');
  assert.equal(t.view(900).isolated, false, 'a known node heard: not cut off, at once');
  assert.deepEqual([...view().peers.keys()], ['gw-2'], 'no view entry for a node that is not probed');
  assert.deepEqual(t.heardNodes(900), [], 'nor in the heard list');
  t.setPeers([], 900);
  at(1801);
  assert.equal(view().isolated, true, 'no probed peer left, known nodes silent: isolated');
  t.setKnown([], 1801);
  assert.equal(view().isolated, false, 'nothing known: alone, not cut off');
});

test('a known node that is not probed vouches for the peers it hears (a worker sees both sides of a partition between two gateways)', () => {
  const { t, at, hear, alive, view } = table();
  t.setPeers([PEERS[0]!], 0);
  t.setKnown([{ node: 'worker-9', address: '198.18.0.9' }], 0);
  for (let ms = 0; ms <= 2000; ms += 100) {
    at(ms);
    hear('worker-9', ['gw-2', 'gw-3', 'unknown-node']);
    if (ms < 500) hear('gw-2');
  }
  assert.equal(alive('gw-2'), true, 'gw-2 is cut off from this node, but worker-9 still hears it');
  assert.equal(view().peers.get('gw-2')!.heard, false);
  assert.deepEqual([...view().peers.keys()], ['gw-2'], 'vouching gives a node that is not probed no view entry');
  at(2050);
  hear('worker-9', []);
  assert.equal(alive('gw-2'), false, 'worker-9 stops naming gw-2: judged dead at once');
  at(2100);
  hear('worker-9', ['gw-2']);
  at(2500);
  assert.equal(alive('gw-2'), false, "worker-9's list from 2100 is older than the window at 2500");
  assert.equal(t.nextChangeAt(2100), 2400, "a voucher's list runs out one window after it was heard");
});

test('a node that is not known vouches for nothing', () => {
  const { t, at, hear, alive } = table({ ...TIMING, holdDownMs: 0 });
  t.setPeers([PEERS[0]!], 0);
  t.setKnown([{ node: 'worker-9', address: '198.18.0.9' }], 0);
  at(1000);
  hear('worker-9', ['gw-2']);
  assert.equal(alive('gw-2'), true, 'a known node vouches');
  t.setKnown([], 1000);
  assert.equal(alive('gw-2'), false, 'its list goes with it');
  hear('stranger', ['gw-2']);
  assert.equal(alive('gw-2'), false, 'a stranger is not heard');
});

test('only known nodes (a lone gateway node the workers probe): isolation is judged from their packets', () => {
  const t = new PeerTable(TIMING, 0);
  t.setKnown([{ node: 'worker-9', address: '198.18.0.9' }], 0);
  t.heardFrom('worker-9', report(), 800);
  assert.equal(t.evaluate(1101).changed, true, 'hears nobody after a detection window');
  assert.equal(t.evaluate(1700).changed, false);
  assert.equal(t.view(1700).isolated, false);
  t.evaluate(1701);
  assert.equal(t.view(1701).isolated, true);
});

test('a view of 999 dead peers is built fresh and nothing of it is kept: heap bounded over many changes', () => {
  const t = new PeerTable(TIMING, 0);
  const many = Array.from({ length: 999 }, (_, i) => ({ node: `node-${i}`, address: `198.18.${i >> 8}.${i & 255}` }));
  t.setPeers(many, 0);
  const gc = (globalThis as { gc?: () => void }).gc;
  const heapAfter = (rounds: number, from: number) => {
    for (let i = 0; i < rounds; i++) {
      const at = from + i * 100;
      t.heardFrom(`node-${i % 999}`, report([], { holds: [`10.0.0.${i % 250}`] }), at);
      t.probing();
      t.evaluate(at);
      assert.equal(t.view(at).peers.size, 999);
    }
    gc?.();
    return process.memoryUsage().heapUsed;
  };
  const first = heapAfter(200, 1000);
  const later = heapAfter(2000, 100_000);
  // without --expose-gc the figure includes garbage; the bound is generous either way
  assert.ok(later - first < 64 * 2 ** 20, `heap grew by ${((later - first) / 2 ** 20).toFixed(1)} MiB over 2000 changes`);
});
