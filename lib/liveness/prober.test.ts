/**
 * Probers on 127.0.0.2, .3 and .4 (loopback answers all of 127/8), one port, real UDP, each in its
 * worker thread (the partition test runs the engine in-thread to wrap its socket). Short
 * intervals; every bound is a generous functional one (wait until true), never a timing target.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { setTimeout as sleep } from 'node:timers/promises';
import { Metrics } from '../metrics/metrics.js';
import type { LivenessView } from './liveness-types.js';
import { ProbeEngine } from './probe-engine.js';
import { Prober } from './prober.js';
import { proberConfig, type ProbeEngineOptions, type ProberOptions } from './prober-options.js';
import type { ProbeLogger } from './probe-observers.js';
import { openUdpProbeSocket, type OpenProbeSocket } from './probe-socket.js';
import { decodeProbe, encodeProbe } from './probe-wire.js';

const NODES = [
  { node: 'n2', address: '127.0.0.2' },
  { node: 'n3', address: '127.0.0.3' },
  { node: 'n4', address: '127.0.0.4' },
];
const FAST = { intervalMs: 20, misses: 5, holdDownMs: 0 } as const;
let nextPort = 20_000 + (process.pid % 20_000);

async function until(what: string, condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await sleep(10);
  }
}

type AnyProber = Prober | ProbeEngine;

/** Starts a prober (in its thread, or in-thread with `openSocket`) for each of `nodes`, each probing all the others; `metrics` go to the first. */
async function mesh(options: Partial<ProbeEngineOptions> = {}, nodes = NODES): Promise<{ probers: Map<string, AnyProber>; port: number; close: () => Promise<void> }> {
  const port = options.port ?? nextPort++;
  const probers = new Map<string, AnyProber>();
  for (const [i, n] of nodes.entries()) {
    // the metrics are the first node's: probers sharing one registry would drop each other's series on close
    const all = { ...FAST, ...options, ...(i === 0 ? {} : { metrics: undefined }), node: n.node, addresses: [n.address], port };
    const p = options.openSocket === undefined ? await Prober.start(all) : await ProbeEngine.start(all);
    assert.deepEqual(p.setPeers(NODES.filter((o) => o.node !== n.node)), []);
    probers.set(n.node, p);
  }
  for (const [node, p] of probers) await until(`${node}'s view has its peers`, () => p.view().peers.size === NODES.length - 1);
  return { probers, port, close: async () => void (await Promise.all([...probers.values()].map((p) => p.close()))) };
}

const peer = (p: AnyProber, node: string) => p.view().peers.get(node)!;

/** Drops every datagram between the two addresses, both ways, at the sender. */
function partition(a: string, b: string): OpenProbeSocket {
  return async (address, port, handlers) => {
    const socket = await openUdpProbeSocket(address, port, handlers);
    return {
      send: async (data, to, toPort) => {
        if ((address === a && to === b) || (address === b && to === a)) return;
        await socket.send(data, to, toPort);
      },
      close: () => socket.close(),
    };
  };
}

test('probers on one LAN see each other alive, heard and healthy', async () => {
  const metrics = new Metrics();
  const { probers, close } = await mesh({ metrics });
  try {
    for (const [self, p] of probers) {
      await until(`${self} hears everyone`, () => [...p.view().peers.values()].every((v) => v.heard && v.alive && v.healthy && !v.draining));
      assert.equal(p.view().isolated, false);
      assert.deepEqual(p.stats().bound, [NODES.find((n) => n.node === self)!.address]);
      // probes may come between the worker's bind and its peers: unknown sources are not counted here
      const { unknown_source: _strays, ...rejected } = p.stats().rejected;
      assert.deepEqual(rejected, { name_mismatch: 0, malformed: 0 });
    }
    const text = await metrics.text();
    assert.match(text, /^sluice_probe_peer_alive\{peer="n3"\} 1$/m);
    assert.match(text, /^sluice_probe_rtt_seconds_count [1-9]\d*$/m);
  } finally {
    await close();
  }
});

test('a closed prober is seen dead by the others, who are told at once; its metric series go with it', async () => {
  const metrics = new Metrics();
  const { probers, close } = await mesh({ metrics }, [NODES[0]!, NODES[1]!]);
  const p2 = probers.get('n2')!;
  try {
    await until('n2 hears n3', () => peer(p2, 'n3').heard);
    const told: LivenessView[] = [];
    p2.onChange((view) => told.push(view));
    await probers.get('n3')!.close();
    await until('n2 sees n3 dead', () => told.some((v) => v.peers.get('n3')?.alive === false));
    const dead = told.find((v) => v.peers.get('n3')?.alive === false)!.peers.get('n3')!;
    assert.equal(dead.heard, false);
    assert.ok(dead.misses >= 1 && dead.sinceHeardMs! > 100, `misses ${dead.misses}, since ${dead.sinceHeardMs} ms`);
    assert.equal(peer(p2, 'n4').alive, false, 'n4 never ran: dead after its first window');
    let text = await metrics.text();
    assert.match(text, /^sluice_probe_peer_alive\{peer="n3"\} 0$/m);
    assert.match(text, /^sluice_probe_misses_total\{peer="n3"\} [1-9]\d*$/m);
    p2.setPeers([NODES[2]!]);
    await until('n3 gone from the view', () => !p2.view().peers.has('n3'));
    text = await metrics.text();
    assert.doesNotMatch(text, /peer="n3"/, 'a peer that left has no series');
    assert.match(text, /^sluice_probe_peer_alive\{peer="n4"\} 0$/m);
  } finally {
    await close();
  }
});

test("a peer's health, draining and held EIPs reach the others at once", async () => {
  const { probers, close } = await mesh();
  const p2 = probers.get('n2')!;
  try {
    await until('n2 hears n3', () => peer(p2, 'n3').heard);
    const told: LivenessView[] = [];
    p2.onChange((view) => told.push(view));
    assert.deepEqual(probers.get('n3')!.setSelf({ healthy: false, draining: true, holds: ['198.18.0.101', 'fd00::0101', 'bad'] }), ['bad']);
    await until('n2 sees n3 draining', () => told.some((v) => v.peers.get('n3')?.draining === true));
    const seen = peer(p2, 'n3');
    assert.deepEqual(
      { alive: seen.alive, healthy: seen.healthy, draining: seen.draining, holds: seen.holds },
      { alive: true, healthy: false, draining: true, holds: ['198.18.0.101', 'fd00::101'] },
    );
    probers.get('n3')!.setSelf({ healthy: true, draining: false, holds: [] });
    await until('n2 sees n3 healthy again', () => peer(p2, 'n3').healthy && peer(p2, 'n3').holds.length === 0);
  } finally {
    await close();
  }
});

test('datagrams from unknown addresses, with the wrong name or malformed are dropped and counted', async () => {
  const port = nextPort++;
  const p2 = await Prober.start({ ...FAST, node: 'n2', addresses: ['127.0.0.2'], port });
  p2.setPeers([{ node: 'n5', address: '127.0.0.5' }]);
  await until('the worker has the peer', () => p2.view().peers.has('n5'));
  const sender = (address: string) => {
    const udp = dgram.createSocket('udp4');
    return new Promise<dgram.Socket>((resolve) => udp.bind(0, address, () => resolve(udp)));
  };
  const stranger = await sender('127.0.0.9');
  const known = await sender('127.0.0.5');
  const send = (udp: dgram.Socket, data: Uint8Array) => new Promise<void>((resolve, reject) => udp.send(data, port, '127.0.0.2', (err) => (err ? reject(err) : resolve())));
  const probe = (name: string) => encodeProbe({ type: 'probe', healthy: true, draining: false, seq: 1, stamp: 0, sender: name, holds: [], heard: [] });
  try {
    await until('n5 dead after its start window', () => !peer(p2, 'n5').alive);
    await send(stranger, probe('n5'));
    await send(known, probe('n2x'));
    await send(known, Buffer.from('GET / HTTP/1.1\r\n\r\n'));
    await until('three drops counted', () => Object.values(p2.stats().rejected).reduce((a, b) => a + b) === 3);
    assert.deepEqual(p2.stats().rejected, { unknown_source: 1, name_mismatch: 1, malformed: 1 });
    assert.equal(p2.stats().accepted, 0);
    assert.equal(peer(p2, 'n5').heard, false, 'nothing refreshed n5');
    // The same probe from n5's own address with its own name is used, and answered.
    const answers: Buffer[] = [];
    known.on('message', (data) => answers.push(data));
    await send(known, probe('n5'));
    await until('n5 heard', () => peer(p2, 'n5').heard);
    await until('answered', () => answers.length > 0);
  } finally {
    stranger.close();
    known.close();
    await p2.close();
  }
});

test("a partition between two nodes that a third still sees is no death; once the third's lists go stale, it is", async () => {
  const { probers, close } = await mesh({ openSocket: partition('127.0.0.2', '127.0.0.3') });
  const [p2, p3, p4] = ['n2', 'n3', 'n4'].map((n) => probers.get(n)!);
  try {
    await until('n4 hears n2 and n3', () => peer(p4, 'n2').heard && peer(p4, 'n3').heard);
    await until('n2 and n3 alive to each other through n4', () => {
      const a = peer(p2, 'n3');
      const b = peer(p3, 'n2');
      return a.alive && !a.heard && b.alive && !b.heard && peer(p2, 'n4').heard && peer(p3, 'n4').heard;
    });
    // Watch n2's view of n3 for a while: it never dies (hold-down 0 would let a flap through unseen, so use the listener).
    const told: LivenessView[] = [];
    p2.onChange((view) => told.push(view));
    await sleep(300);
    assert.ok(
      told.every((v) => v.peers.get('n3')!.alive),
      'n3 stayed alive to n2',
    );
    await p4.close();
    await until('n2 and n3 dead to each other', () => !peer(p2, 'n3').alive && !peer(p3, 'n2').alive);
  } finally {
    await close();
  }
});

test('hold-down: a peer back from the dead is alive only after being heard for holdDownMs', async () => {
  const holdDownMs = 400;
  const { probers, port, close } = await mesh({ holdDownMs }, [NODES[0]!, NODES[1]!]);
  const p2 = probers.get('n2')!;
  let p3: Prober | undefined;
  try {
    await until('n2 hears n3', () => peer(p2, 'n3').alive && peer(p2, 'n3').heard);
    await probers.get('n3')!.close();
    await until('n3 dead', () => !peer(p2, 'n3').alive);
    let heardAt: number | undefined;
    let aliveAt: number | undefined;
    p2.onChange((view) => {
      const v = view.peers.get('n3')!;
      if (v.heard) heardAt ??= performance.now();
      if (v.alive) aliveAt ??= performance.now();
    });
    p3 = await Prober.start({ ...FAST, holdDownMs, node: 'n3', addresses: ['127.0.0.3'], port });
    p3.setPeers([NODES[0]!]);
    await until('n3 alive again', () => aliveAt !== undefined, 20_000);
    assert.ok(heardAt !== undefined);
    assert.ok(aliveAt! - heardAt >= holdDownMs - FAST.intervalMs, `alive ${Math.round(aliveAt! - heardAt)} ms after heard`);
  } finally {
    await p3?.close();
    await close();
  }
});

test('isolated when no peer is heard for the fence time, not any more once one is', async () => {
  const port = nextPort++;
  const p2 = await Prober.start({ ...FAST, fenceMs: 200, node: 'n2', addresses: ['127.0.0.2'], port });
  let p3: Prober | undefined;
  try {
    assert.deepEqual(p2.setPeers(NODES.slice(1)), []);
    assert.equal(p2.view().isolated, false, 'not before the first fence time');
    await until('isolated', () => p2.view().isolated);
    p3 = await Prober.start({ ...FAST, node: 'n3', addresses: ['127.0.0.3'], port });
    p3.setPeers([NODES[0]!]);
    await until('no longer isolated', () => !p2.view().isolated);
  } finally {
    await p3?.close();
    await p2.close();
  }
});

test('a known node that is not probed is answered, is sent nothing unasked, and its probes keep this node from being isolated', async () => {
  const port = nextPort++;
  const gw = await Prober.start({ ...FAST, fenceMs: 200, node: 'n2', addresses: ['127.0.0.2'], port });
  let worker: Prober | undefined;
  try {
    assert.deepEqual(gw.setPeers([{ ...NODES[1]!, probe: false }]), []);
    worker = await Prober.start({ ...FAST, node: 'n3', addresses: ['127.0.0.3'], port });
    worker.setPeers([NODES[0]!]);
    await until('the worker hears the gateway', () => worker!.view().peers.get('n2')?.heard === true);
    await until('the gateway counts its answers', () => gw.stats().answered > 0);
    assert.equal(gw.view().peers.size, 0, 'the gateway keeps nothing per known node');
    assert.equal(gw.stats().rounds, 0, 'and probes nobody');
    await sleep(400);
    assert.equal(gw.view().isolated, false, "the worker's probes show the gateway is not cut off");
    await worker.close();
    worker = undefined;
    await until('isolated once the worker is silent', () => gw.view().isolated);
  } finally {
    await worker?.close();
    await gw.close();
  }
});

test('a known node that probes this node is told at once when what this node hears or says changes, and not once it stopped probing', async () => {
  const port = nextPort++;
  // A 500 ms window: n3 must not flap on a loaded machine before it is stopped.
  const timing = { intervalMs: 50, misses: 10, holdDownMs: 0 };
  const gw = await Prober.start({ ...timing, node: 'n2', addresses: ['127.0.0.2'], port });
  let other: Prober | undefined = await Prober.start({ ...timing, node: 'n3', addresses: ['127.0.0.3'], port });
  const worker = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => worker.bind(0, '127.0.0.4', resolve));
  const received: ReturnType<typeof decodeProbe>['packet'][] = [];
  worker.on('message', (data) => received.push(decodeProbe(data).packet));
  const probe = encodeProbe({ type: 'probe', healthy: true, draining: false, seq: 1, stamp: 0, sender: 'n4', holds: [], heard: ['n2'] });
  const asking = setInterval(() => worker.send(probe, port, '127.0.0.2'), timing.intervalMs);
  const news = () => received.filter((p) => p?.type === 'probe');
  try {
    assert.deepEqual(gw.setPeers([NODES[1]!, { ...NODES[2]!, probe: false }]), []);
    other.setPeers([NODES[0]!]);
    await until('the worker is answered that the gateway hears n3', () => received.some((p) => p?.type === 'answer' && p.heard.includes('n3')));
    const earlier = news().length;
    await other.close();
    other = undefined;
    // Only a probe of the gateway's own carries news here: answers come to the worker's probes anyway.
    await until('the gateway tells the worker in a probe that it no longer hears n3', () =>
      news()
        .slice(earlier)
        .some((p) => !p!.heard.includes('n3')),
    );
    gw.setSelf({ healthy: true, draining: true, holds: [] });
    await until('and that it drains', () => news().some((p) => p!.draining));
    await until('both counted', () => gw.stats().told >= 2);
    clearInterval(asking);
    await sleep(3 * timing.intervalMs * timing.misses);
    const before = news().length;
    gw.setSelf({ healthy: false, draining: true, holds: [] });
    await sleep(3 * timing.intervalMs);
    assert.equal(news().length, before, 'a node that stopped probing is told nothing');
  } finally {
    clearInterval(asking);
    worker.close();
    await other?.close();
    await gw.close();
  }
});

test('a socket that does not send (full send buffer): at most a few datagrams per address wait, not one more per round', async () => {
  let waiting = 0;
  const stuck: OpenProbeSocket = async () => ({ send: () => (waiting++, new Promise<void>(() => {})), close() {} });
  const p = await ProbeEngine.start({ ...FAST, node: 'n1', addresses: ['198.18.0.1'], port: nextPort++, openSocket: stuck });
  try {
    const peers = Array.from({ length: 999 }, (_, i) => ({ node: `node-${i}`, address: `198.18.${1 + (i >> 8)}.${i & 255}` }));
    assert.deepEqual(p.setPeers(peers), []);
    await until('20 rounds', () => p.stats().rounds >= 20);
    assert.ok(waiting <= 4 * 999, `${waiting} datagrams waiting for 999 peers after ${p.stats().rounds} rounds`);
    assert.ok((p.stats().errors.EGW_ERR_PROBE_SEND ?? 0) > 0, 'the datagrams not queued are counted');
  } finally {
    await p.close();
  }
});

test('an address that is not on the node is logged and counted, retried, and never throws', async () => {
  const warnings: Record<string, unknown>[] = [];
  const logger: ProbeLogger = { debug() {}, info() {}, warn: (obj) => void warnings.push(obj) };
  const p = await Prober.start({ ...FAST, node: 'n2', addresses: ['198.18.255.1'], port: nextPort++, logger });
  try {
    assert.deepEqual(p.stats().bound, []);
    assert.equal(p.stats().errors.EGW_ERR_PROBE_SOCKET, 1);
    assert.equal(warnings[0]?.code, 'EGW_ERR_PROBE_SOCKET');
    assert.equal(warnings[0]?.errno, 'EADDRNOTAVAIL');
    p.setPeers([{ node: 'n3', address: '198.18.0.3' }]);
    await until('bind retried', () => (p.stats().errors.EGW_ERR_PROBE_SOCKET ?? 0) >= 2, 10_000);
    assert.ok((p.stats().errors.EGW_ERR_PROBE_SEND ?? 0) >= 1, 'probes without a socket are counted');
    assert.equal(warnings.filter((w) => w.op === 'bind').length, 1, 'the same warning is not repeated');
  } finally {
    await p.close();
  }
});

test('setPeers leaves out what cannot be probed and says why', async () => {
  const p = await Prober.start({ ...FAST, node: 'n2', addresses: ['127.0.0.2'], port: nextPort++ });
  try {
    const problems = p.setPeers([
      { node: 'n3', address: '127.0.0.3' },
      { node: 'n3', address: '127.0.0.33' },
      { node: 'n4', address: '127.0.0.3' },
      { node: 'n2', address: '127.0.0.22' },
      { node: 'Bad', address: '127.0.0.5' },
      { node: 'n6', address: '127.0.0.256' },
      { node: 'n7', address: 'fd00::7' },
      { node: 'n8', address: '127.0.0.2' },
    ]);
    assert.deepEqual(
      problems.map((x) => [x.node, x.problem]),
      [
        ['n3', 'node listed twice'],
        ['n4', 'address listed twice'],
        ['n2', 'this node'],
        ['Bad', 'node name is not a DNS-1123 subdomain'],
        ['n6', 'address is not an IP address'],
        ['n7', 'this node has no IPv6 address to probe from'],
        ['n8', "this node's own address"],
      ],
    );
    await until('the worker has the peers', () => p.view().peers.size > 0);
    assert.deepEqual([...p.view().peers.keys()], ['n3']);
    assert.equal(p.stats().errors.EGW_ERR_PROBE_INPUT, 7);
  } finally {
    await p.close();
  }
});

test('options out of range are refused with the option named', async () => {
  const base = { node: 'n2', addresses: ['127.0.0.2'] };
  const cases: [Partial<ProberOptions>, RegExp, string][] = [
    [{ intervalMs: 0 }, /intervalMs/, 'EGW_ERR_PROBE_CONFIG'],
    [{ unhealthyAfterMs: 100 }, /unhealthyAfterMs/, 'EGW_ERR_PROBE_CONFIG'],
    [{ misses: 1.5 }, /misses/, 'EGW_ERR_PROBE_CONFIG'],
    [{ port: 70000 }, /port/, 'EGW_ERR_PROBE_CONFIG'],
    [{ fenceMs: 10 }, /fenceMs/, 'EGW_ERR_PROBE_CONFIG'],
    [{ holdDownMs: -1 }, /holdDownMs/, 'EGW_ERR_PROBE_CONFIG'],
    [{ addresses: ['127.0.0.2', '127.0.0.3'] }, /addresses/, 'EGW_ERR_PROBE_CONFIG'],
    [{ addresses: [] }, /addresses/, 'EGW_ERR_PROBE_CONFIG'],
    [{ addresses: ['localhost'] }, /localhost/, 'EGW_ERR_PROBE_INPUT'],
    [{ node: 'N2' }, /N2/, 'EGW_ERR_PROBE_INPUT'],
  ];
  for (const [options, message, code] of cases) {
    await assert.rejects(Prober.start({ ...base, ...options }), { code, message }, JSON.stringify(options));
  }
  assert.deepEqual(proberConfig(base), {
    node: 'n2',
    addresses: ['127.0.0.2'],
    port: 7473,
    intervalMs: 100,
    misses: 3,
    windowMs: 300,
    holdDownMs: 5000,
    fenceMs: 900,
    unhealthyAfterMs: 2000,
  });
});

test('a burst of changes reaches listeners a few times per interval, and the last view has them all', async () => {
  const port = nextPort++;
  const count = 40;
  const others = Array.from({ length: count }, (_, i) => ({ node: `w${i}`, address: `127.0.1.${i + 1}` }));
  const p2 = await Prober.start({ intervalMs: 50, misses: 3, node: 'n2', addresses: ['127.0.0.2'], port });
  const sockets = await Promise.all(
    others.map((o) => {
      const udp = dgram.createSocket('udp4');
      return new Promise<dgram.Socket>((resolve) => udp.bind(0, o.address, () => resolve(udp)));
    }),
  );
  try {
    p2.setPeers(others);
    const told: LivenessView[] = [];
    p2.onChange((view) => told.push(view));
    const roundsBefore = p2.stats().rounds;
    // Every peer's first packet changes the view (it becomes heard): 40 changes in one burst.
    for (const [i, udp] of sockets.entries()) {
      const probe = encodeProbe({ type: 'probe', healthy: true, draining: false, seq: 1, stamp: 0, sender: others[i]!.node, holds: [], heard: [] });
      udp.send(probe, port, '127.0.0.2');
    }
    await until('all 40 heard in a notified view', () => told.length > 0 && [...told[told.length - 1]!.peers.values()].every((v) => v.heard));
    const ticks = p2.stats().rounds - roundsBefore;
    assert.ok(told.length <= 3 * (ticks + 1), `${told.length} notifications in ${ticks} ticks`);
    assert.ok(told.length < count, `${told.length} notifications for ${count} changes`);
  } finally {
    for (const s of sockets) s.close();
    await p2.close();
  }
});

test('send errors are counted and logged once, never thrown', async () => {
  const warnings: Record<string, unknown>[] = [];
  const logger: ProbeLogger = { debug() {}, info() {}, warn: (obj) => void warnings.push(obj) };
  const p = await Prober.start({ ...FAST, node: 'n2', addresses: ['127.0.0.2'], port: nextPort++, logger });
  try {
    // From a loopback address nothing routes to a LAN address: the kernel refuses every send.
    p.setPeers([{ node: 'n3', address: '198.18.0.3' }]);
    await until('send errors counted', () => (p.stats().errors.EGW_ERR_PROBE_SEND ?? 0) >= 3);
    const sends = warnings.filter((w) => w.op === 'send');
    assert.equal(sends.length, 1, JSON.stringify(warnings));
    assert.equal(sends[0]!.code, 'EGW_ERR_PROBE_SEND');
    assert.equal(peer(p, 'n3').heard, false);
  } finally {
    await p.close();
  }
});
