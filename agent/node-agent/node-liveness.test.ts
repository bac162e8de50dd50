import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import type { LivenessView, PeerLiveness, SelfReport } from '../../lib/liveness/liveness-types.js';
import type { ProbePeer } from '../../lib/planner/probe-peers.js';
import { plan } from '../../lib/planner/plan.js';
import type { Snapshot } from '../../lib/planner/snapshot.js';
import { baseCluster, node, pod, policy, snapshotOf } from '../../lib/planner/testing/cluster.js';
import { NodeLiveness, type ApiView, type Prober } from './node-liveness.js';
import { othersServe } from './successors.js';

const EIP = '198.18.0.110';

class FakeProber implements Prober {
  peers: readonly ProbePeer[] = [];
  self: SelfReport | undefined;
  current: LivenessView = { peers: new Map(), isolated: false };
  #listeners: (() => void)[] = [];
  closed = false;
  setPeers(peers: readonly ProbePeer[]) {
    this.peers = peers;
  }
  setSelf(self: SelfReport) {
    this.self = self;
  }
  view() {
    return this.current;
  }
  onChange(listener: () => void) {
    this.#listeners.push(listener);
  }
  close() {
    this.closed = true;
  }
  /** The view changes, as the real prober reports it. */
  set(peers: PeerLiveness[], isolated = false, hearsNobody = false) {
    this.current = { peers: new Map(peers.map((p) => [p.node, p])), isolated, hearsNobody };
    for (const l of this.#listeners) l();
  }
}

function peer(node: string, over: Partial<PeerLiveness> = {}): PeerLiveness {
  return { node, address: '198.18.0.12', heard: true, alive: true, healthy: true, draining: false, holds: [], misses: 0, ...over };
}

function setup(api: Partial<ApiView> = {}, holdDownMs = 60, holdAtStart = false) {
  const prober = new FakeProber();
  const changes: string[] = [];
  const relists: number[] = [];
  let answers = true;
  const live = new NodeLiveness({
    nodeName: 'gateway-1',
    prober,
    api: { answers: async () => answers, relist: () => relists.push(Date.now()), listedSince: () => relists.length > 0, ...api },
    holdDownMs,
    windowMs: 300,
    holdAtStart,
    onChange: (reason) => changes.push(reason),
    log: pino({ level: 'silent' }),
  });
  return { prober, changes, relists, live, setAnswers: (a: boolean) => (answers = a) };
}

const until = async (what: string, ok: () => boolean, ms = 3_000) => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

test('a peer that dies by the probes: the agent is told at once and plans without it', () => {
  const { prober, changes, live } = setup();
  prober.set([peer('gateway-2'), peer('worker-1')]);
  assert.deepEqual(changes, []);
  assert.deepEqual(live.facts().facts.unfit, []);
  prober.set([peer('gateway-2', { alive: false, heard: false, misses: 3 }), peer('worker-1')]);
  assert.deepEqual(changes, ['liveness']);
  assert.deepEqual(live.facts().facts.unfit, ['gateway-2']);
  prober.set([peer('gateway-2', { alive: false, heard: false, misses: 4 }), peer('worker-1')]);
  assert.deepEqual(changes, ['liveness'], 'one more miss changes no plan');
  live.close();
});

test('the self report: holds after an apply, unhealthy after a failed one, draining when stopping', () => {
  const { prober, changes, live } = setup();
  assert.deepEqual(prober.self, { healthy: true, draining: false, holds: [] });
  live.applied(true, [EIP]);
  assert.deepEqual(prober.self, { healthy: true, draining: false, holds: [EIP] });
  assert.deepEqual(live.facts().facts.holders.get(EIP), ['gateway-1']);
  live.applied(false, [EIP]);
  assert.equal(prober.self!.healthy, false);
  assert.deepEqual(live.facts().facts.unfit, ['gateway-1'], 'it plans itself out as its peers do');
  live.applied(true, [EIP]);
  live.drain();
  assert.equal(prober.self!.draining, true);
  assert.ok(changes.length >= 2);
  live.close();
  assert.equal(prober.closed, true);
});

test('a peer alive by the probes that says it holds an EIP is a holder; a dead one is not', () => {
  const { prober, live } = setup();
  prober.set([peer('gateway-2', { holds: [EIP] })]);
  assert.equal(live.heldBy('gateway-2', EIP), true);
  assert.equal(live.heldBy('gateway-3', EIP), false);
  prober.set([peer('gateway-2', { holds: [EIP], alive: false })]);
  assert.equal(live.heldBy('gateway-2', EIP), false);
  live.close();
});

test('isolated and no API answer: fenced (steps aside), then back only after the hold-down with a fresh API view', async () => {
  const { prober, changes, relists, live, setAnswers } = setup();
  live.applied(true, [EIP]);
  setAnswers(false);
  prober.set([peer('gateway-2', { alive: false, heard: false })], true);
  await until('the fence', () => live.fence === 'fenced');
  assert.ok(changes.includes('fence fenced'));
  assert.ok(live.facts().facts.unfit.includes('gateway-1'), 'a fenced node plans its EIPs away');
  assert.equal(prober.self!.draining, true);
  setAnswers(true);
  const heard = Date.now();
  prober.set([peer('gateway-2')], false);
  assert.equal(live.fence, 'rejoining');
  assert.equal(relists.length, 1, 'the API view is listed again');
  assert.ok(live.facts().facts.unfit.includes('gateway-1'), 'takes nothing back yet');
  await until('the end of the hold-down', () => live.fence === 'open');
  assert.ok(Date.now() - heard >= 60, 'not before the hold-down');
  assert.ok(changes.includes('fence open'));
  assert.deepEqual(live.facts().facts.unfit, []);
  live.close();
});

test('displaced: soon after it heard nobody, a peer heard again holds its EIP; it withdraws at once and takes nothing back for the hold-down, although the API server answers', async () => {
  const { prober, changes, live } = setup();
  live.applied(true, [EIP]);
  prober.set([peer('gateway-2', { alive: false, heard: false }), peer('worker-1', { alive: false, heard: false })], false, true);
  assert.equal(live.fence, 'open', 'hearing nobody moves nothing: the peers may all be dead');
  prober.set([peer('gateway-2', { alive: false }), peer('worker-1', { alive: false })]);
  assert.equal(live.fence, 'open', 'heard again, holding nothing of this node yet');
  prober.set([peer('gateway-2', { alive: false, holds: [EIP] }), peer('worker-1', { alive: false })]);
  assert.equal(live.fence, 'rejoining', 'the peers judged this node dead and moved its EIP');
  assert.ok(changes.includes('fence rejoining'));
  assert.ok(live.facts().facts.unfit.includes('gateway-1'), 'plans its EIP away');
  assert.equal(prober.self!.draining, true, 'and says so to its peers');
  await new Promise((r) => setTimeout(r, 80));
  assert.equal(live.fence, 'rejoining', 'not back while the peers it hears are held down (they count this node dead as long)');
  prober.set([peer('gateway-2', { holds: [EIP] }), peer('worker-1')]);
  await until('the end of the hold-down', () => live.fence === 'open');
  live.close();
});

test("a peer that holds this node's EIP is no displacement without a recent time of hearing nobody (a planned handoff)", async () => {
  const { prober, live } = setup();
  live.applied(true, [EIP]);
  prober.set([peer('gateway-2', { holds: [EIP] })]);
  assert.equal(live.fence, 'open');
  prober.set([peer('gateway-2', { alive: false, heard: false })], false, true);
  await new Promise((r) => setTimeout(r, 80));
  prober.set([peer('gateway-2', { alive: false, holds: [EIP] })]);
  assert.equal(live.fence, 'open', 'it heard nobody longer ago than the hold-down');
  live.close();
});

test('isolated while the API server answers: no fence (the peers may be the ones that died)', async () => {
  let asked = 0;
  const { prober, live } = setup({ answers: async () => (asked++, true) });
  prober.set([peer('gateway-2', { alive: false, heard: false })], true);
  await until('an API check', () => asked > 0);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(live.fence, 'open');
  live.close();
});

test('isolated without a probed peer (a lone gateway node that heard only the workers) is judged like any isolation', async () => {
  const { prober, live, setAnswers } = setup();
  setAnswers(false);
  prober.set([], true);
  await until('fenced', () => live.fence === 'fenced');
  live.close();
});

test('after this process stalled for half a window, a peer heard again counts as alive; later the prober decides again', async () => {
  const { prober, live } = setup({}, 150);
  const heldDown = peer('gateway-2', { alive: false, heard: true });
  prober.set([heldDown]);
  assert.deepEqual(live.facts().facts.unfit, ['gateway-2'], 'no stall: the prober decides');
  await new Promise((r) => setTimeout(r, 60));
  const until = Date.now() + 250;
  while (Date.now() < until); // the event loop does not run
  assert.deepEqual(live.facts().facts.unfit, [], 'the death may have been this process not listening: seen before the stall timer runs');
  await new Promise((r) => setTimeout(r, 80));
  assert.deepEqual(live.facts().facts.unfit, []);
  prober.set([peer('gateway-2', { alive: false, heard: false })]);
  assert.deepEqual(live.facts().facts.unfit, ['gateway-2'], 'not heard now: dead');
  prober.set([heldDown]);
  // the doubt outlasts the hold-down by four windows (the peers' hold-down starts when they are heard again)
  await new Promise((r) => setTimeout(r, 150 + 4 * 300 + 100));
  assert.deepEqual(live.facts().facts.unfit, ['gateway-2'], 'after the hold-down the prober decides again');
  live.close();
});

/** The policy's carrier in gateway-1's plan after it reviewed its hold at the start, as the agent plans. */
function carrierAfterReview(live: NodeLiveness, snapshot: Snapshot): string | undefined {
  live.reviewStartHold((facts) => othersServe(snapshot, facts, 'gateway-1'));
  const p = plan({ ...snapshot, probes: live.facts().facts }, 'gateway-1').policies.find((x) => x.name === 'p');
  return p?.active ? p.node : undefined;
}

const visitorPolicy = () => [
  pod('default', 'visitor', 'worker-1', ['10.244.1.5'], { app: 'visitor' }),
  policy('default', 'p', { egressGatewayName: 'default', appliedTo: { podSelector: { matchLabels: { app: 'visitor' } } } }),
];

test('after the start, a node stands aside while another gateway node fit by the probes can carry its policies', () => {
  const { prober, live } = setup({}, 60_000, true);
  const snapshot = snapshotOf([...baseCluster(), ...visitorPolicy()]);
  prober.set([peer('gateway-2'), peer('worker-1')]);
  assert.equal(carrierAfterReview(live, snapshot), 'gateway-2');
  assert.equal(prober.self!.draining, true, 'its peers see it aside too');
  live.close();
});

test('a lone gateway node does not stand aside after its start: a policy that comes meanwhile is carried, not inactive', () => {
  const { prober, live } = setup({}, 60_000, true);
  // the gateway node started before the policy existed: nothing to carry then, so the hold began
  const lone = snapshotOf([...baseCluster().filter((d) => (d['metadata'] as { name?: string }).name !== 'gateway-2'), node('gateway-2', 3), ...visitorPolicy()]);
  prober.set([peer('gateway-2'), peer('worker-1')]);
  assert.equal(carrierAfterReview(live, lone), 'gateway-1');
  assert.equal(prober.self!.draining, false, 'its peers count it fit too');
  live.close();
});

test('two gateway nodes started together: each sees the other aside, both end the hold, and it does not come back', () => {
  const { prober, live } = setup({}, 60_000, true);
  const snapshot = snapshotOf([...baseCluster(), ...visitorPolicy()]);
  prober.set([peer('gateway-2', { draining: true }), peer('worker-1')]);
  assert.ok(carrierAfterReview(live, snapshot) !== undefined, 'the policy is carried');
  assert.equal(prober.self!.draining, false);
  prober.set([peer('gateway-2'), peer('worker-1')]);
  live.reviewStartHold((facts) => othersServe(snapshot, facts, 'gateway-1'));
  assert.equal(prober.self!.draining, false, 'ended for good: the two cannot take turns');
  live.close();
});

test('the other gateway node dies during the hold: this one ends it and takes over', () => {
  const { prober, live } = setup({}, 60_000, true);
  const snapshot = snapshotOf([
    ...baseCluster(),
    ...visitorPolicy().slice(0, 1),
    policy(
      'default',
      'p',
      { egressGatewayName: 'default', appliedTo: { podSelector: { matchLabels: { app: 'visitor' } } } },
      { status: { eip: { ipv4: EIP }, node: 'gateway-2' } },
    ),
  ]);
  prober.set([peer('gateway-2'), peer('worker-1')]);
  assert.equal(carrierAfterReview(live, snapshot), 'gateway-2');
  prober.set([peer('gateway-2', { alive: false, heard: false, misses: 3 }), peer('worker-1')]);
  assert.equal(carrierAfterReview(live, snapshot), 'gateway-1');
  live.close();
});
