/**
 * SIGKILL during applies. Two plans that differ in nft sets and rules, routes and EIPs alternate
 * on a gateway and a worker; each `sluice apply` is killed (its whole process group, as a
 * container runtime would) after a random delay. After every kill the kernel must hold exactly
 * the old or the new nft table, a restarted apply must converge (`sluice diff` exit 0), and a TCP
 * flow from a pod through both nodes must never be reset.
 *
 * `make test` kills SLUICE_KILL_APPLIES applies (default 6); `make soak` kills 100. Only a kill
 * that found the apply still running counts: an apply that finished before its kill point is
 * checked the same way and run again. SLUICE_KILL_SEED replays a run (the seed is printed).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Lab } from '../labkit/lab.js';
import type { LabInfo } from '../labkit/info.js';
import { eventually } from '../labkit/test-support.js';
import { StreamFlow } from '../scenarios/support/stream-flow.js';
import type { NodePlan } from '../../lib/planner/node-plan.js';
import { policy } from '../../lib/planner/testing/cluster.js';
import { applySnapshot, dataplaneSkip, planAll, upLab } from './dp-lab.js';
import { GATEWAY_NAME, labSnapshot } from './lab-cluster.js';
import { nftListing } from './nft-listing.js';
import { echoAt } from './probes.js';
import { KillableApplies, type KillAt } from './killable-apply.js';
import { applyPlan, diffPlan } from './sluice-cli.js';

function envInteger(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new Error(`${name} must be a positive integer, not ${JSON.stringify(text)}`);
  return Number(text);
}

/** Kills that must land on a running apply (the last round may add one). */
const KILLS = envInteger('SLUICE_KILL_APPLIES', 6);
/** Applies tried at most: a run whose kills keep missing fails instead of going on. */
const MAX_APPLIES = 2 * KILLS + 8;
const SEED = envInteger('SLUICE_KILL_SEED', 1 + Math.floor(Math.random() * 2 ** 31));
const VICTIMS = ['gateway-1', 'worker-1'] as const;
/** The flow must answer again within this long after each round. */
const FLOW_TIMEOUT_MS = 5_000;

type Side = 'a' | 'b';

/** mulberry32: a small seeded generator, so a failing run can be replayed. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

describe('SIGKILL at random points of applies', { skip: dataplaneSkip, timeout: 120_000 + MAX_APPLIES * 10_000 }, () => {
  let lab: Lab | undefined;
  let info: LabInfo;
  let dir: string | undefined;
  const plans = new Map<string, Record<Side, NodePlan>>();
  const files = new Map<string, Record<Side, string>>();
  /** The normalized nft listing each plan leaves on each victim after a complete apply. */
  const tables = new Map<string, Record<Side, string>>();
  const applies = new KillableApplies();
  /** Whole applies (not killed): from spawn to the apply's first child, and per node from there to exit. */
  const startups: number[] = [];
  const works = new Map<string, number[]>(VICTIMS.map((n) => [n, []]));
  const netnsOf = (node: string) => info.nodes.find((n) => n.name === node)!.netns;

  before(async () => {
    lab = await upLab('kill', { ipv6: false, workers: 1, gateways: 2 });
    await lab.addPod({ namespace: 'default', name: 'client', labels: { app: 'web' }, node: 'worker-1' });
    await lab.addPod({ namespace: 'default', name: 'db-1', labels: { app: 'db' }, node: 'worker-1' });
    await lab.addPod({ namespace: 'default', name: 'db-2', labels: { app: 'db' }, node: 'gateway-2' });
    info = await lab.info();
    const [first] = info.lan.eipRangeV4.split('-') as [string];
    const eip = (n: number) => first.replace(/\d+$/, (h) => String(Number(h) + n));
    const pinned = (name: string, app: string, ip: string) =>
      policy(
        'default',
        name,
        { egressGatewayName: GATEWAY_NAME, egressIP: { ipv4: ip }, appliedTo: { podSelector: { matchLabels: { app } } } },
        { status: { node: 'gateway-1', eip: { ipv4: ip } } },
      );
    // a: web only, gateway-2 down and out of the gateway's selector (every node keeps a tunnel
    // route to each node the selector takes). b: web and db (a pod of which runs on gateway-2),
    // every node up and labelled. Web's flow rides gateway-1 in both.
    const a = labSnapshot(info, { policies: [pinned('web', 'web', eip(0))], notReady: ['gateway-2'], unlabelled: ['gateway-2'] });
    const b = labSnapshot(info, { policies: [pinned('web', 'web', eip(0)), pinned('db', 'db', eip(1))] });
    const [pa, pb] = [planAll(info, a), planAll(info, b)];
    dir = await mkdtemp(join(tmpdir(), 'sluice-kill-'));
    for (const node of VICTIMS) {
      const pair = { a: pa.find((p) => p.node === node)!, b: pb.find((p) => p.node === node)! };
      plans.set(node, pair);
      const paths = { a: join(dir, `${node}-a.json`), b: join(dir, `${node}-b.json`) };
      for (const side of ['a', 'b'] as const) await writeFile(paths[side], JSON.stringify(pair[side]));
      files.set(node, paths);
    }
    await applySnapshot(lab, a, { concurrent: true });
    for (const side of ['b', 'a'] as const) {
      for (const node of VICTIMS) {
        const whole = await applies.run(netnsOf(node), files.get(node)![side]);
        assert.deepEqual([whole.finished, whole.exitCode], [true, 0], `${node}: a whole apply of plan ${side} failed`);
        startups.push(whole.workAtMs!);
        works.get(node)!.push(whole.totalMs - whole.workAtMs!);
        tables.set(node, { ...tables.get(node)!, [side]: (await nftListing(lab, node))! });
      }
    }
  });

  after(async () => {
    applies.killAll();
    await lab?.down();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('the two plans differ in sets, rules, routes and EIPs on the nodes that are killed', () => {
    const gw = plans.get('gateway-1')!;
    const wk = plans.get('worker-1')!;
    const names = (p: NodePlan) => p.nft.sets.map((s) => s.name).join();
    const rules = (p: NodePlan) => JSON.stringify(p.nft.chains);
    const routes = (p: NodePlan) => JSON.stringify(p.routing);
    for (const [node, pair] of [
      ['gateway-1', gw],
      ['worker-1', wk],
    ] as const) {
      assert.notEqual(names(pair.a), names(pair.b), `${node} sets`);
      assert.notEqual(rules(pair.a), rules(pair.b), `${node} rules`);
      assert.notEqual(routes(pair.a), routes(pair.b), `${node} routes`);
      assert.notEqual(tables.get(node)!.a, tables.get(node)!.b, `${node} kernel tables`);
    }
    assert.deepEqual([gw.a.eips.length, gw.b.eips.length], [1, 2], 'gateway-1 EIPs');
  });

  test(`${KILLS} killed applies: old or new table, convergence after restart, the flow never reset`, async (t) => {
    const rand = random(SEED);
    t.diagnostic(`seed ${SEED} (SLUICE_KILL_SEED=${SEED} replays this run)`);
    const web = plans.get('gateway-1')!.a.eips[0]!.ip;
    assert.equal((await echoAt(lab!, { pod: 'default/client' }, info.echo.ipv4, 'tcp')).clientIP, web);

    // A quarter of the kills while the CLI starts, the rest at random points of the node's apply itself.
    const startMs = Math.min(...startups);
    const workMs = (node: string) => Math.max(...works.get(node)!);
    const killAt = (node: string): KillAt => (rand() < 0.25 ? { afterSpawnMs: Math.floor(rand() * startMs) } : { afterWorkMs: Math.floor(rand() * workMs(node)) });
    const span = (ms: readonly number[]) => `${Math.min(...ms)}-${Math.max(...ms)} ms`;
    t.diagnostic(`whole applies: the CLI started its apply after ${span(startups)}; the apply then took ${VICTIMS.map((n) => `${span(works.get(n)!)} on ${n}`).join(', ')}`);

    const flow = await StreamFlow.start(lab!, 'default/client');
    let seen = 0;
    let current: Side = 'a';
    const tally = { applies: 0, old: 0, new: 0, finished: 0, restartWrote: 0, inWork: 0 };
    const kills = () => tally.applies - tally.finished;
    let report: Awaited<ReturnType<StreamFlow['stop']>> | undefined;
    try {
      await eventually(async () => assert.ok(flow.answered > 0), FLOW_TIMEOUT_MS);
      for (let round = 0; kills() < KILLS && tally.applies < MAX_APPLIES; round++) {
        const next: Side = current === 'a' ? 'b' : 'a';
        await Promise.all(
          VICTIMS.map(async (node) => {
            const at = killAt(node);
            const outcome = await applies.run(netnsOf(node), files.get(node)![next], at);
            const held = await nftListing(lab!, node);
            const which = held === tables.get(node)![next] ? 'new' : held === tables.get(node)![current] ? 'old' : 'mix';
            if (which === 'mix') assert.fail(`round ${round}, ${node} killed at ${JSON.stringify(at)}: the table is neither plan's:\n${held}`);
            tally.applies += 1;
            if (outcome.finished) {
              assert.equal(which, 'new', `round ${round}, ${node}: an apply that finished left the old table`);
              tally.finished += 1;
            } else {
              tally[which] += 1;
              if (outcome.workAtMs !== undefined) tally.inWork += 1;
            }
            const restarted = await applyPlan(lab!, plans.get(node)![next]);
            if (restarted.writes > 0) tally.restartWrote += 1;
            const diff = await diffPlan(lab!, plans.get(node)![next]);
            assert.deepEqual(diff, { exitCode: 0, lines: [] }, `round ${round}, ${node}: the restarted apply did not converge`);
          }),
        );
        current = next;
        const before = seen;
        await eventually(async () => assert.ok(flow.answered > before, `round ${round}: the flow stopped answering`), FLOW_TIMEOUT_MS);
        seen = flow.answered;
      }
    } finally {
      report = await flow.stop();
    }
    const killed = kills();
    t.diagnostic(
      `${tally.applies} applies, ${killed} killed: ${tally.inWork} during the apply, ${killed - tally.inWork} while the CLI started; ${tally.finished} finished before their kill point; after a kill the old table ${tally.old}, the new table ${tally.new}; the restarted apply had work left ${tally.restartWrote} times`,
    );
    t.diagnostic(`flow: ${report.answered}/${report.sent} lines answered, longest gap ${report.maxGapMs} ms, peers ${report.peers.join(', ')}`);
    assert.equal(report.brokeWith, undefined, 'the flow was reset');
    assert.equal(report.outOfOrder, 0);
    assert.equal(report.answered, report.sent);
    assert.equal(report.peers.length, 1, `one connection, one source: ${report.peers.join(', ')}`);
    assert.ok(report.peers[0]!.startsWith(`${web}:`), `the flow left with ${report.peers[0]}, not ${web}`);
    assert.ok(killed >= KILLS, `only ${killed} of ${tally.applies} applies were still running at their kill point`);
    // Over enough kills, some must land before the nft load and some after it (2^-19 odds otherwise).
    if (killed >= 20) assert.ok(tally.old > 0 && tally.new > 0, `the kills all landed on one side of the nft load (old ${tally.old}, new ${tally.new})`);
  });
});
