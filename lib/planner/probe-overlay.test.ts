/**
 * The probes as an overlay on the API's view: a peer unfit by the probes is not eligible, every
 * node computes the same successor from the same facts, and two holders of one EIP resolve to one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Snapshot } from './snapshot.js';
import { plan } from './plan.js';
import { resolveCluster } from './resolve.js';
import { rendezvousPick } from './hrw.js';
import { probeFacts, probeFactsKey, type ProbeFacts } from './probe-facts.js';
import { probePeers } from './probe-peers.js';
import { gateway, namespace, node, pod, policy, snapshotOf, tunnel } from './testing/cluster.js';
import type { LivenessView, PeerLiveness } from '../liveness/liveness-types.js';

const EIP = '198.18.0.110';
const GATEWAYS = ['gateway-1', 'gateway-2', 'gateway-3'];

function cluster(statusNode?: string): Snapshot {
  return snapshotOf([
    node('worker-1', 1),
    ...GATEWAYS.map((name, i) => node(name, i + 2, { labels: { egress: 'true' } })),
    namespace('default'),
    pod('default', 'client', 'worker-1', ['10.244.1.5'], { app: 'web' }),
    gateway('default', { nodeSelector: { selector: { matchLabels: { egress: 'true' } } }, ippools: { ipv4: ['198.18.0.100-198.18.0.120'], ipv4DefaultEIP: EIP } }),
    policy(
      'default',
      'web',
      { egressGatewayName: 'default', appliedTo: { podSelector: { matchLabels: { app: 'web' } } } },
      statusNode ? { status: { node: statusNode, eip: { ipv4: EIP } } } : {},
    ),
  ]);
}

/** `unfit` nodes, dead ones unless `aside` (draining, unhealthy). */
const facts = (unfit: string[], holders: Record<string, string[]> = {}, aside = false): ProbeFacts => ({
  unfit,
  dead: aside ? [] : unfit,
  holders: new Map(Object.entries(holders)),
});
const withProbes = (s: Snapshot, f: ProbeFacts): Snapshot => ({ ...s, probes: f });
const ownerOf = (s: Snapshot) => resolveCluster(s).assignment.policies.get('default/web')!.node;

test('a peer unfit by the probes is not eligible; without probe facts the API alone decides', () => {
  const s = cluster('gateway-1');
  assert.equal(ownerOf(s), 'gateway-1');
  assert.equal(ownerOf(withProbes(s, facts([]))), 'gateway-1', 'no unfit peer: status keeps it');
  const moved = ownerOf(withProbes(s, facts(['gateway-1'])));
  assert.equal(moved, rendezvousPick(EIP, ['gateway-2', 'gateway-3']), 'the rendezvous winner over the fit nodes');
  assert.deepEqual(resolveCluster(withProbes(s, facts(['gateway-1']))).eligible.get('default'), ['gateway-2', 'gateway-3']);
  assert.equal(ownerOf(withProbes(s, facts(GATEWAYS, {}, true))), 'gateway-1', 'every gateway node stepping aside by the probes: the API view stands');
  assert.equal(ownerOf(withProbes(s, facts(GATEWAYS))), 'gateway-1', 'every gateway node dead by the probes: not acted on, status stands');
  assert.equal(ownerOf(withProbes(s, { unfit: GATEWAYS, dead: ['gateway-1', 'gateway-2'], holders: new Map() })), 'gateway-1', 'the dead ones when the rest step aside');
});

test('every node computes the same successor from the same facts: the new owner holds the EIP, the worker routes to it', () => {
  const s = withProbes(cluster('gateway-1'), facts(['gateway-1']));
  const successor = rendezvousPick(EIP, ['gateway-2', 'gateway-3'])!;
  const plans = ['worker-1', ...GATEWAYS].map((n) => plan(s, n));
  for (const p of plans) assert.equal(p.policies[0]!.node, successor, `${p.node} agrees`);
  for (const p of plans)
    assert.deepEqual(
      p.eips.map((e) => e.ip),
      p.node === successor ? [EIP] : [],
      `${p.node} holds the EIP only if it is the successor`,
    );
  const worker = plans[0]!;
  assert.equal(worker.policies[0]!.role, 'worker');
  // the worker already has a table towards every gateway node; only the mark changes
  assert.equal(worker.routing.tables.length, plan(cluster('gateway-1'), 'worker-1').routing.tables.length);
});

test('two holders: status decides when it names one of them', () => {
  const both = { [EIP]: ['gateway-1', 'gateway-2'] };
  assert.equal(ownerOf(withProbes(cluster('gateway-1'), facts([], both))), 'gateway-1');
  assert.equal(ownerOf(withProbes(cluster('gateway-2'), facts([], both))), 'gateway-2');
});

test('two holders and status names neither: the rendezvous winner over the holders, not over every eligible node', () => {
  const both = { [EIP]: ['gateway-1', 'gateway-3'] };
  const winner = rendezvousPick(EIP, ['gateway-1', 'gateway-3']);
  assert.equal(ownerOf(withProbes(cluster('gateway-2'), facts([], both))), winner, 'status names a non-holder');
  assert.equal(ownerOf(withProbes(cluster(), facts([], both))), winner, 'no status');
  // whichever node computes it, from the same facts
  for (const self of ['worker-1', ...GATEWAYS]) assert.equal(plan(withProbes(cluster(), facts([], both)), self).policies[0]!.node, winner);
});

test('a holder that is not eligible is no contender: a draining or dead holder loses to the other one', () => {
  const winner = rendezvousPick(EIP, ['gateway-2', 'gateway-3'])!;
  assert.equal(ownerOf(withProbes(cluster('gateway-1'), facts(['gateway-1'], { [EIP]: ['gateway-1', winner] }))), winner);
  assert.equal(ownerOf(withProbes(cluster('gateway-1'), facts(['gateway-1', 'gateway-3'], { [EIP]: ['gateway-1', 'gateway-2'] }))), 'gateway-2');
});

test('status names a node that is not eligible and one eligible node holds the EIP: the successor is the hash winner all the same (the controller checks claims against it)', () => {
  const winner = rendezvousPick(EIP, ['gateway-2', 'gateway-3'])!;
  const other = winner === 'gateway-2' ? 'gateway-3' : 'gateway-2';
  assert.equal(ownerOf(withProbes(cluster('gateway-1'), facts(['gateway-1'], { [EIP]: [other] }))), winner);
});

test('one holder that status does not name: status decides (the controller moves it; the holder withdraws)', () => {
  assert.equal(ownerOf(withProbes(cluster('gateway-1'), facts([], { [EIP]: ['gateway-2'] }))), 'gateway-1');
});

function peer(name: string, over: Partial<PeerLiveness> = {}): PeerLiveness {
  return { node: name, address: `198.18.0.${name.length}`, heard: true, alive: true, healthy: true, draining: false, holds: [], misses: 0, sinceHeardMs: 10, ...over };
}
const view = (peers: PeerLiveness[], isolated = false): LivenessView => ({ peers: new Map(peers.map((p) => [p.node, p])), isolated });

test('probe facts: unfit peers and the node itself as its peers judge it; only live nodes count as holders', () => {
  const v = view([peer('gateway-2', { alive: false, heard: false, holds: [EIP] }), peer('gateway-3', { draining: true, holds: [EIP] }), peer('worker-1', { healthy: false })]);
  const f = probeFacts(v, { node: 'gateway-1', fit: true, holds: [EIP, '198.18.0.111'] });
  assert.deepEqual(f.unfit, ['gateway-2', 'gateway-3', 'worker-1']);
  assert.deepEqual(f.dead, ['gateway-2'], 'only unfit by death');
  assert.deepEqual(
    [...f.holders],
    [
      [EIP, ['gateway-1', 'gateway-3']],
      ['198.18.0.111', ['gateway-1']],
    ],
  );
  assert.deepEqual(probeFacts(view([]), { node: 'gateway-1', fit: false, holds: [] }).unfit, ['gateway-1'], 'a node that steps aside plans itself out');
});

test('probe facts key: equal facts give one key, any change a new one (the agent plans again)', () => {
  const a = probeFacts(view([peer('gateway-2', { holds: [EIP] })]), { node: 'gateway-1', fit: true, holds: [] });
  const b = probeFacts(view([peer('gateway-2', { holds: [EIP], misses: 1, sinceHeardMs: 150 })]), { node: 'gateway-1', fit: true, holds: [] });
  assert.equal(probeFactsKey(a), probeFactsKey(b), 'misses and timings change no plan');
  const c = probeFacts(view([peer('gateway-2', { holds: [] })]), { node: 'gateway-1', fit: true, holds: [] });
  assert.notEqual(probeFactsKey(a), probeFactsKey(c));
  assert.notEqual(probeFactsKey(a), probeFactsKey(probeFacts(view([peer('gateway-2', { holds: [EIP], draining: true })]), { node: 'gateway-1', fit: true, holds: [] })));
});

test('after this node stalled, a peer it hears again counts as alive though the prober holds it down; one it does not hear stays dead', () => {
  const v = view([peer('gateway-2', { alive: false, heard: true, holds: [EIP] }), peer('gateway-3', { alive: false, heard: false })]);
  const trusting = probeFacts(v, { node: 'gateway-1', fit: true, holds: [] });
  assert.deepEqual(trusting.unfit, ['gateway-2', 'gateway-3']);
  const doubting = probeFacts(v, { node: 'gateway-1', fit: true, holds: [], doubtDeaths: true });
  assert.deepEqual(doubting.unfit, ['gateway-3']);
  assert.deepEqual(doubting.holders.get(EIP), ['gateway-2']);
  const unhealthy = view([peer('gateway-2', { alive: false, heard: true, healthy: false })]);
  assert.deepEqual(probeFacts(unhealthy, { node: 'gateway-1', fit: true, holds: [], doubtDeaths: true }).unfit, ['gateway-2'], 'what the peer says of itself still counts');
});

test('a planned handoff whose only successor is not fit yet (held down, not yet healthy): the draining owner stays eligible, the worker keeps an active policy towards it', () => {
  // gateway-1 drains; gateway-2 and gateway-3 are unfit by the probes but not dead (unhealthy, or held down and so judged not fit)
  const s = withProbes(cluster('gateway-1'), { unfit: GATEWAYS, dead: [], holders: new Map([[EIP, ['gateway-1']]]) });
  assert.deepEqual(resolveCluster(s).eligible.get('default'), GATEWAYS, 'no gateway left with no node while the API has them');
  const worker = plan(s, 'worker-1').policies[0]!;
  assert.equal(worker.active, true, "the policy stays active: the pod's flows stay NATed");
  assert.equal(worker.node, 'gateway-1');
  assert.deepEqual(
    plan(s, 'gateway-1').eips.map((e) => e.ip),
    [EIP],
    'the draining owner keeps its EIP',
  );
  // once one node is fit again, it takes over and the draining one is out
  const fitAgain = withProbes(cluster('gateway-1'), { unfit: ['gateway-1', 'gateway-3'], dead: [], holders: new Map([[EIP, ['gateway-1']]]) });
  assert.equal(ownerOf(fitAgain), 'gateway-2');
});

test('make-before-break on workers: they keep steering to the draining carrier until the successor says it holds the EIP', () => {
  const successor = rendezvousPick(EIP, ['gateway-2', 'gateway-3'])!;
  const workerRules = (s: Snapshot) => JSON.stringify(plan(s, 'worker-1').nft);
  const draining = withProbes(cluster('gateway-1'), { unfit: ['gateway-1'], dead: [], holders: new Map([[EIP, ['gateway-1']]]) });
  const a = resolveCluster(draining).assignment.policies.get('default/web')!;
  assert.equal(a.node, successor, 'the successor takes over at once');
  assert.equal(a.steerTo, 'gateway-1', 'workers still send to the draining carrier that holds the EIP');
  assert.deepEqual(
    plan(draining, successor).eips.map((e) => e.ip),
    [EIP],
    'the successor adds the EIP',
  );
  const held = withProbes(cluster('gateway-1'), { unfit: ['gateway-1'], dead: [], holders: new Map([[EIP, ['gateway-1', successor]]]) });
  assert.equal(resolveCluster(held).assignment.policies.get('default/web')!.steerTo, undefined, 'the successor holds it: workers switch');
  const gone = withProbes(cluster('gateway-1'), { unfit: ['gateway-1'], dead: [], holders: new Map() });
  assert.equal(resolveCluster(gone).assignment.policies.get('default/web')!.steerTo, undefined, 'the old carrier no longer holds it: nothing to steer to');
  // the worker's rules use the old carrier's mark, then the successor's
  assert.notEqual(workerRules(draining), workerRules(held));
  assert.equal(workerRules(held), workerRules(withProbes(cluster(successor), facts([]))));
  assert.equal(workerRules(draining), workerRules(cluster('gateway-1')), "while steering, the worker's rules are those towards the old carrier");
});

/**
 * The cluster as each agent sees it once the gateway label is off gateway-1, the carrier: its
 * agents watch only the nodes a nodeSelector matches, so gateway-1 is known by its EgressTunnel
 * alone (`watched`), or, as the controller sees it, still a Node without the label.
 */
function unlabelled(holders: string[], watched: boolean, statusNode = 'gateway-1'): Snapshot {
  const tunnels = GATEWAYS.map((name, i) =>
    tunnel(name, { tunnel: { ipv4: `172.31.0.${i + 2}`, mac: `02:00:00:00:00:0${i + 2}`, parent: { name: 'eth0', ipv4: `198.18.0.${12 + i}` } }, mark: String(i + 1) }),
  );
  const s = snapshotOf([
    node('worker-1', 1),
    ...GATEWAYS.map((name, i) => node(name, i + 2, { labels: name === 'gateway-1' ? {} : { egress: 'true' } })),
    ...tunnels,
    namespace('default'),
    pod('default', 'client', 'worker-1', ['10.244.1.5'], { app: 'web' }),
    gateway('default', { nodeSelector: { selector: { matchLabels: { egress: 'true' } } }, ippools: { ipv4: ['198.18.0.100-198.18.0.120'], ipv4DefaultEIP: EIP } }),
    policy('default', 'web', { egressGatewayName: 'default', appliedTo: { podSelector: { matchLabels: { app: 'web' } } } }, { status: { node: statusNode, eip: { ipv4: EIP } } }),
  ]);
  const view = watched ? { ...s, nodes: s.nodes.filter((n) => n.name !== 'gateway-1') } : s;
  return withProbes(view, facts([], { [EIP]: holders }));
}

for (const watched of [true, false]) {
  test(`the gateway label removed from the carrier (${watched ? "the agent's view: known by its tunnel alone" : 'still a Node'}): workers keep its mark, table and tunnel peer, and mark towards it until the successor holds the EIP`, () => {
    const successor = rendezvousPick(EIP, ['gateway-2', 'gateway-3'])!;
    const moving = unlabelled(['gateway-1'], watched);
    assert.equal(resolveCluster(moving).assignment.policies.get('default/web')!.steerTo, 'gateway-1');
    const worker = plan(moving, 'worker-1');
    const mark = worker.marks.gateways['gateway-1'];
    assert.equal(mark, 1, 'the carrier keeps its mark while it carries');
    const rules = worker.nft.chains.find((c) => c.name === 'egress_mark')!.rules.filter((r) => r.comment === 'worker default/web');
    assert.ok(rules.length > 0, "the worker still marks the pod's traffic");
    assert.ok(JSON.stringify(rules).includes(`"right":${mark}}`), "with the carrier's mark");
    const into = worker.routing.rules.find((r) => r.fwmark === mark && !r.iifLo)?.table;
    assert.ok(into !== undefined && worker.routing.routes.some((r) => r.table === into && r.dst === 'default' && r.via === '172.31.0.2'), 'and a rule and a route for it');
    assert.ok(
      worker.vxlan!.peers.some((p) => p.node === 'gateway-1' && p.underlayIp === '198.18.0.12'),
      'and the carrier as a tunnel peer',
    );
    assert.ok(
      probePeers(moving, 'worker-1').some((p) => p.node === 'gateway-1' && p.probe),
      'the worker still probes it (it hears when it stops holding)',
    );
    assert.deepEqual(
      plan(moving, successor).eips.map((e) => e.ip),
      [EIP],
      'the successor takes the EIP',
    );
    const held = unlabelled(['gateway-1', successor], watched);
    assert.equal(resolveCluster(held).assignment.policies.get('default/web')!.steerTo, undefined);
    const switched = plan(held, 'worker-1');
    assert.ok(JSON.stringify(switched.nft).includes(`"right":${switched.marks.gateways[successor]}}`), 'then towards the successor');
  });
}

for (const watched of [true, false]) {
  test(`the gateway label removed and status already naming the successor (the controller moves it at once; ${watched ? 'the carrier known by its tunnel alone' : 'still a Node'}): workers keep marking towards the old carrier while it alone holds the EIP`, () => {
    const successor = rendezvousPick(EIP, ['gateway-2', 'gateway-3'])!;
    const moved = unlabelled(['gateway-1'], watched, successor);
    assert.equal(resolveCluster(moved).assignment.policies.get('default/web')!.steerTo, 'gateway-1');
    const worker = plan(moved, 'worker-1');
    const mark = worker.marks.gateways['gateway-1'];
    assert.equal(mark, 1, 'the old carrier keeps its mark while it holds the EIP');
    const rules = worker.nft.chains.find((c) => c.name === 'egress_mark')!.rules.filter((r) => r.comment === 'worker default/web');
    assert.ok(rules.length > 0 && JSON.stringify(rules).includes(`"right":${mark}}`), "the pod's traffic is marked towards the old carrier, not dropped");
    const into = worker.routing.rules.find((r) => r.fwmark === mark && !r.iifLo)?.table;
    assert.ok(into !== undefined && worker.routing.routes.some((r) => r.table === into && r.via === '172.31.0.2'), 'with a rule and a route into the tunnel towards it');
    assert.ok(worker.vxlan!.peers.some((p) => p.node === 'gateway-1'));
    assert.ok(
      probePeers(moved, 'worker-1').some((p) => p.node === 'gateway-1' && p.probe),
      'the worker still probes it: it hears the successor take over and the old carrier let go',
    );
    assert.ok(
      probePeers(unlabelled(['gateway-1'], watched, successor), 'gateway-1').some((p) => p.node === 'worker-1' && !p.probe),
      'the old carrier still answers the worker while it holds the EIP',
    );
    const held = plan(unlabelled(['gateway-1', successor], watched, successor), 'worker-1');
    assert.ok(JSON.stringify(held.nft).includes(`"right":${held.marks.gateways[successor]}}`), 'then towards the successor, once it holds the EIP');
    const released = unlabelled([successor], watched, successor);
    assert.ok(!probePeers(released, 'worker-1').some((p) => p.node === 'gateway-1'), 'the old carrier let go: no longer probed');
    assert.equal(plan(released, 'worker-1').marks.gateways['gateway-1'], undefined, 'nor given a mark');
  });
}
