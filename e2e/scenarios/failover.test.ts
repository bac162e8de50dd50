/**
 * Gateway failover, proven with packets, at the lab's default node grace period of 40 s, so the API
 * path (NotReady → controller → status) cannot be what saves it. One lab for the file: 1 worker,
 * 2 gateway nodes, one policy for a pod on the worker. Every scenario runs a UDP sequence flow at
 * 1000 datagrams a second (the external host's kernel timestamps each one and the MAC it came
 * from), most also 20 long-lived TCP connections and an ARP monitor for the EIP, breaks the
 * gateway carrying the EIP in one way, and restores the lab afterwards, also when it fails. In
 * every move, each datagram must arrive from the EIP: the pod's traffic is dropped rather than
 * sent by another path while the path changes.
 * The bounds are functional and generous (a shared, loaded machine); bench/failover has the figures.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { moves } from '../labkit/flows/udp-seq-report.js';
import { expectLeavesAs } from './support/echo.js';
import { describeFlow, lastCarrier, nodesByMac, watchWhile, type WatchReport } from './support/failover-watch.js';
import { applyObjects, kubectl } from './support/kubectl.js';
import { appSelector, egressPolicy } from './support/manifests.js';
import { holdersOf } from './support/node-state.js';
import { waitGatewaysFit } from './support/peer-liveness.js';
import { policyStatus, waitAssigned } from './support/policy-status.js';
import { GATEWAY_NAME, GATEWAY_NODE_LABELS, ScenarioLab, scenarioSkip } from './support/scenario-lab.js';

/** The lab's default, as the kubelet's: a node is NotReady only after 40 s without heartbeats. */
const GRACE_SECONDS = 40;
const CLIENT = 'default/client';
/** A hard failure: traffic leaves again, as the EIP, from the other gateway within this (receiver's gap). */
const HARD_FAILOVER_BOUND_MS = 3_000;
/** A planned move (SIGTERM, label removal), or a heal that must not move anything. */
const PLANNED_BOUND_MS = 1_000;
/**
 * Label removal is a planned move like SIGTERM: it may lose what SIGTERM lost in this lab (scenario
 * (b)), and this many datagrams more (50 ms of the flow: a loaded machine stalls agents).
 */
const LABEL_LOSS_SLACK = 50;
/** Never two MACs answering for the EIP for longer than this. */
const CONTESTED_BOUND_MS = 1_000;
const TCP_CONNECTIONS = 20;
const TCP_SURVIVORS = 19;
/** The flapping node: link down and up again every FLAP_PERIOD_MS, FLAP_CYCLES times (~20 s). */
const FLAP_PERIOD_MS = 2_000;
const FLAP_CYCLES = 10;
/**
 * The first failure may move the EIP away. After that the flapping node is never reachable for a
 * whole hold-down period (5 s by default, longer than a flap), so it never counts as alive again
 * while it flaps, and sticky ownership keeps the EIP where it went: one move, two at most.
 */
const MAX_FLAP_MOVES = 2;
const SCENARIO_TIMEOUT_MS = 120_000;
/**
 * Scenario (h)'s API outage: long enough that the retries of what failed on it back off well past
 * the healed node's start hold (5 s), so status follows in time only if they run when it is back.
 */
const API_OUTAGE_MS = 20_000;

const POLICY = egressPolicy('default', 'failover', { egressGatewayName: GATEWAY_NAME, appliedTo: appSelector('client') });
const [LABEL, LABEL_VALUE] = Object.entries(GATEWAY_NODE_LABELS)[0]!;

describe('gateway failover at the default node grace period', { skip: scenarioSkip, timeout: 15 * 60_000 }, () => {
  let env: ScenarioLab;
  let eip: string;
  let macs: Map<string, string>;
  /** The node failed hard by the first scenario, healed by the next one. */
  let failed: string | undefined;
  /** Datagrams the SIGTERM handoff (b) lost, the bound of the label removal's (c). */
  let sigtermLost: number | undefined;

  const otherGateway = (node: string) => env.gatewayNodes.find((g) => g !== node)!;
  const lab = () => env.lab;

  /**
   * The node status names, once the policy is Ready, the pod's traffic leaves as the EIP and every
   * node's probes find the gateways fit (past a healed or restarted node's hold-down).
   */
  async function carrier(): Promise<string> {
    await waitGatewaysFit(lab(), env.gatewayNodes);
    const at = await waitAssigned(lab(), POLICY, { ipv4: eip }, 60_000);
    await expectLeavesAs(lab(), CLIENT, eip, { timeoutMs: 60_000 });
    return at.node;
  }

  function report(t: TestContext, what: string, r: WatchReport<unknown>): void {
    t.diagnostic(`${what}: ${describeFlow(r.udp, macs)}`);
    if (r.tcp)
      t.diagnostic(
        `${what}: TCP ${r.tcp.survived}/${r.tcp.connections.length} survived, ${r.tcp.resets} reset (${[...new Set(r.tcp.connections.map((c) => c.endedWith).filter(Boolean))].join(', ') || 'none'}), longest TCP gap ${Math.max(...r.tcp.connections.map((c) => c.maxGapMs))} ms`,
      );
    if (r.arp)
      t.diagnostic(
        `${what}: ARP ${r.arp.rounds} requests, two MACs answered in ${r.arp.contestedRounds} (longest ${r.arp.longestContestedMs} ms), unanswered ≤ ${r.arp.longestUnansweredMs} ms, answered by ${r.arp.runs
          .filter((x) => x.rounds > 1)
          .map((x) => `${macs.get(x.mac) ?? x.mac} ×${x.rounds}`)
          .join(' → ')}`,
      );
  }

  /**
   * The flow left from `from` first and from `to` at the end, and every datagram arrived from the
   * EIP: one with the pod's or a node's address is a leak (the pod's traffic must be dropped
   * rather than leave by another path while the path changes).
   */
  function assertMoved(r: WatchReport<unknown>, from: string, to: string): void {
    const first = r.udp.runs[0];
    assert.equal(first && macs.get(first.via), from, `the flow first left through ${from}`);
    assert.equal(lastCarrier(r.udp, macs), to, `the flow leaves through ${to} at the end: ${describeFlow(r.udp, macs)}`);
    const strays = r.udp.sources.filter((s) => s.src !== eip);
    assert.deepEqual(
      strays.map((s) => `${s.src} via ${macs.get(s.via) ?? s.via} ×${s.count}`),
      [],
      `leaked while moving ${from} → ${to}: ${describeFlow(r.udp, macs)}`,
    );
  }

  /** A planned move: moved as assertMoved says, a short gap, no TCP reset, two MACs only briefly. */
  function assertPlannedMove(r: WatchReport<unknown>, from: string, to: string): void {
    assertMoved(r, from, to);
    assert.ok(r.udp.maxGapMs < PLANNED_BOUND_MS, `outage ${r.udp.maxGapMs} ms`);
    assert.equal(r.tcp!.resets, 0, 'no TCP connection reset');
    assert.equal(r.tcp!.survived, TCP_CONNECTIONS);
    assert.ok(r.arp!.longestContestedMs <= CONTESTED_BOUND_MS, `two MACs answered for the EIP for ${r.arp!.longestContestedMs} ms`);
  }

  before(
    async () => {
      env = await ScenarioLab.up('fo', {
        workers: 1,
        gateways: 2,
        nodeGraceSeconds: GRACE_SECONDS,
        pods: [{ namespace: 'default', name: 'client', labels: { app: 'client' }, node: 'worker-1' }],
      });
      await env.settle();
      await applyObjects(env.lab, [POLICY]);
      eip = (await waitAssigned(env.lab, POLICY)).ipv4!;
      await expectLeavesAs(env.lab, CLIENT, eip);
      macs = await nodesByMac(env.lab);
    },
    { timeout: 240_000 },
  );

  after(
    async () => {
      // A lab whose `up` never returned (its hook timed out) is taken down by name.
      await (env ? env.down() : ScenarioLab.downUnfinished('fo'));
    },
    { timeout: 60_000 },
  );

  test('(a) hard failure of the carrying gateway: the EIP leaves from the other gateway within 3 s, TCP connections survive', { timeout: SCENARIO_TIMEOUT_MS }, async (t) => {
    const from = await carrier();
    const to = otherGateway(from);
    failed = from;
    const r = await watchWhile(lab(), { pod: CLIENT, tcp: TCP_CONNECTIONS, arpFor: eip, afterMs: 6_000 }, () => lab().failNode(from));
    report(t, `fail-node ${from}`, r);
    assertMoved(r, from, to);
    assert.ok(r.udp.maxGapMs <= HARD_FAILOVER_BOUND_MS, `outage ${r.udp.maxGapMs} ms > ${HARD_FAILOVER_BOUND_MS} ms`);
    assert.ok(
      r.tcp!.survived >= TCP_SURVIVORS,
      `${r.tcp!.survived} of ${TCP_CONNECTIONS} TCP connections survived: ${JSON.stringify(r.tcp!.connections.filter((c) => c.reset || !c.flowedAfter))}`,
    );
    assert.ok(r.arp!.longestContestedMs <= CONTESTED_BOUND_MS, `two MACs answered for ${r.arp!.longestContestedMs} ms`);
  });

  // The healed node's agent was killed with its link cut: its EIP's lifetime ran out meanwhile, so
  // it does not answer ARP for it in the seconds its new agent takes to start.
  test(
    '(d) healing the failed node moves nothing back: status.node unchanged, no second gap, never two MACs for the EIP for more than 1 s',
    { timeout: SCENARIO_TIMEOUT_MS },
    async (t) => {
      const node = failed ?? assert.fail('scenario (a) failed no node');
      failed = undefined;
      const before = await policyStatus(lab(), POLICY);
      const r = await watchWhile(lab(), { pod: CLIENT, arpFor: eip, afterMs: 5_000 }, () => lab().healNode(node));
      report(t, `heal-node ${node}`, r);
      const now = await policyStatus(lab(), POLICY);
      assert.equal(before.node, otherGateway(node), `status named the successor before the heal`);
      assert.equal(now.node, before.node, 'status.node unchanged by the heal');
      assertMoved(r, otherGateway(node), otherGateway(node));
      assert.ok(r.udp.maxGapMs < PLANNED_BOUND_MS, `a gap of ${r.udp.maxGapMs} ms while ${node} healed`);
      assert.ok(r.arp!.longestContestedMs <= CONTESTED_BOUND_MS, `two MACs answered for ${r.arp!.longestContestedMs} ms`);
    },
  );

  test(
    '(h) hard failure while the API server is down: within 3 s; the API server back and the node healed at once, the EIP stays where it moved and status follows the successor',
    { timeout: SCENARIO_TIMEOUT_MS },
    async (t) => {
      const from = await carrier();
      const to = otherGateway(from);
      let apiDown = false;
      try {
        await lab().apiServerDown();
        apiDown = true;
        const downAt = Date.now();
        const r = await watchWhile(lab(), { pod: CLIENT, afterMs: 5_000 }, () => lab().failNode(from));
        report(t, `fail-node ${from} with the API server down`, r);
        assertMoved(r, from, to);
        assert.ok(r.udp.maxGapMs <= HARD_FAILOVER_BOUND_MS, `outage ${r.udp.maxGapMs} ms > ${HARD_FAILOVER_BOUND_MS} ms`);
        // The node heals right after the API server is back: the successor's takeover claim and the
        // controller's status write go out as soon as the API server answers again, so status names
        // the successor before the healed node's start hold ends, and it takes nothing back.
        let followed: Promise<number> | undefined;
        const healed = await watchWhile(lab(), { pod: CLIENT, arpFor: eip, afterMs: 8_000 }, async () => {
          await sleep(Math.max(0, API_OUTAGE_MS - (Date.now() - downAt)));
          await lab().apiServerUp();
          apiDown = false;
          const upAt = Date.now();
          followed = waitAssigned(lab(), POLICY, { node: to, ipv4: eip }).then(() => Date.now() - upAt);
          followed.catch(() => undefined); // awaited below; the heal's failure reported first
          await lab().healNode(from);
        });
        t.diagnostic(`status named ${to} within ${await followed} ms of the API server's return (polled while ${from} healed)`);
        report(t, `API server back, heal-node ${from} at once`, healed);
        assertMoved(healed, to, to);
        assert.equal(moves(healed.udp.runs, eip), 0, `the EIP moved while ${from} healed: ${describeFlow(healed.udp, macs)}`);
        assert.ok(healed.udp.maxGapMs < PLANNED_BOUND_MS, `a gap of ${healed.udp.maxGapMs} ms while ${from} healed`);
        assert.ok(healed.arp!.longestContestedMs <= CONTESTED_BOUND_MS, `two MACs answered for ${healed.arp!.longestContestedMs} ms`);
        assert.equal((await policyStatus(lab(), POLICY)).node, to, `status still names ${to} after ${from} healed`);
      } finally {
        if (apiDown) await lab().apiServerUp();
        if ((await lab().info()).nodes.find((n) => n.name === from)?.failed) await lab().healNode(from);
      }
    },
  );

  test(
    '(b) planned handoff, SIGTERM of the carrying agent (and its restart): gap < 1 s, no TCP reset, nothing leaves without the EIP',
    { timeout: SCENARIO_TIMEOUT_MS },
    async (t) => {
      const from = await carrier();
      const to = otherGateway(from);
      try {
        const r = await watchWhile(lab(), { pod: CLIENT, tcp: TCP_CONNECTIONS, arpFor: eip, afterMs: 3_000 }, async () => {
          await lab().stopAgent(from);
          await sleep(2_000);
          await lab().startAgent(from);
        });
        report(t, `SIGTERM to the agent on ${from}, restarted 2 s later`, r);
        sigtermLost = r.udp.lost;
        assertPlannedMove(r, from, to);
      } finally {
        await lab()
          .startAgent(from)
          .catch(() => undefined);
      }
    },
  );

  test(
    '(c) planned handoff, the gateway label removed from the carrying node: gap < 1 s, no TCP reset, nothing leaves without the EIP, no more lost than SIGTERM loses',
    { timeout: SCENARIO_TIMEOUT_MS },
    async (t) => {
      const from = await carrier();
      const to = otherGateway(from);
      try {
        const r = await watchWhile(lab(), { pod: CLIENT, tcp: TCP_CONNECTIONS, arpFor: eip, afterMs: 3_000 }, () => kubectl(lab(), ['label', 'node', from, `${LABEL}-`]));
        report(t, `label ${LABEL} removed from ${from}`, r);
        assertPlannedMove(r, from, to);
        const bound = (sigtermLost ?? 0) + LABEL_LOSS_SLACK;
        assert.ok(r.udp.lost <= bound, `${r.udp.lost} datagrams lost; SIGTERM lost ${sigtermLost ?? 'nothing (not run)'}, so at most ${bound}: ${describeFlow(r.udp, macs)}`);
      } finally {
        await kubectl(lab(), ['label', 'node', from, `${LABEL}=${LABEL_VALUE}`, '--overwrite']);
      }
    },
  );

  test('(g) only the agent of the carrying gateway killed (the node stays Ready): traffic moves within 3 s', { timeout: SCENARIO_TIMEOUT_MS }, async (t) => {
    const from = await carrier();
    const to = otherGateway(from);
    try {
      const r = await watchWhile(lab(), { pod: CLIENT, tcp: TCP_CONNECTIONS, arpFor: eip, afterMs: 6_000 }, () => lab().killAgent(from));
      report(t, `agent on ${from} killed`, r);
      const ready = await kubectl(lab(), ['get', 'node', from, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']);
      assert.equal(ready, 'True', `${from} stays Ready: only its agent died`);
      assertMoved(r, from, to);
      assert.ok(r.udp.maxGapMs <= HARD_FAILOVER_BOUND_MS, `outage ${r.udp.maxGapMs} ms > ${HARD_FAILOVER_BOUND_MS} ms`);
      assert.ok(r.tcp!.survived >= TCP_SURVIVORS, `${r.tcp!.survived} of ${TCP_CONNECTIONS} TCP connections survived`);
      // Not asserted: with its agent dead, nothing on that node can take the EIP off its NIC, so it
      // keeps answering ARP beside the successor until the agent is back (the diagnostic says how long).
    } finally {
      await lab()
        .startAgent(from)
        .catch(() => undefined);
    }
  });

  test(
    '(e) the two gateways partitioned from each other (not from the worker), then healed: never two MACs for the EIP for more than 1 s',
    { timeout: SCENARIO_TIMEOUT_MS },
    async (t) => {
      const a = await carrier();
      const b = otherGateway(a);
      const r = await watchWhile(lab(), { pod: CLIENT, arpFor: eip, afterMs: 5_000 }, async () => {
        await lab().partition(a, b);
        try {
          await sleep(8_000);
        } finally {
          await lab().healPartition(a, b);
        }
      });
      report(t, `partition ${a} | ${b} for 8 s, healed`, r);
      assert.ok(r.arp!.longestContestedMs <= CONTESTED_BOUND_MS, `two MACs answered for the EIP for ${r.arp!.longestContestedMs} ms`);
      const holders = await holdersOf(lab(), env.gatewayNodes, eip);
      assert.equal(holders.length, 1, `after the heal one gateway holds ${eip}: ${holders.join(', ')}`);
      await expectLeavesAs(lab(), CLIENT, eip);
    },
  );

  // The flapping node hears nobody while its link is down; once a peer it hears again holds its EIP
  // it withdraws it and stays aside for the hold-down after its last flap (displaced, fence.ts).
  test(
    '(f) the carrying node failing and healing every 2 s for 20 s: the EIP does not follow the flaps, never two MACs for it for more than 1 s',
    { timeout: SCENARIO_TIMEOUT_MS },
    async (t) => {
      const node = await carrier();
      const r = await watchWhile(lab(), { pod: CLIENT, arpFor: eip, afterMs: 5_000 }, async () => {
        try {
          for (let i = 0; i < FLAP_CYCLES; i++) {
            await lab().setLink(node, false);
            await sleep(FLAP_PERIOD_MS / 2);
            await lab().setLink(node, true);
            await sleep(FLAP_PERIOD_MS / 2);
          }
        } finally {
          await lab().setLink(node, true);
        }
      });
      report(t, `${node}'s link flapping every ${FLAP_PERIOD_MS} ms, ${FLAP_CYCLES} times`, r);
      const moved = moves(r.udp.runs, eip);
      const minutes = (FLAP_CYCLES * FLAP_PERIOD_MS) / 60_000;
      t.diagnostic(
        `the EIP moved ${moved} time(s) during ${FLAP_CYCLES} flaps (${(moved / minutes).toFixed(1)} a minute of flapping), two MACs for at most ${r.arp!.longestContestedMs} ms`,
      );
      assert.ok(moved <= MAX_FLAP_MOVES, `the EIP moved ${moved} times in ${FLAP_CYCLES} flaps`);
      assert.ok(r.arp!.longestContestedMs <= CONTESTED_BOUND_MS, `two MACs answered for the EIP for ${r.arp!.longestContestedMs} ms`);
      assert.deepEqual([...new Set(r.udp.sources.map((s) => s.src))], [eip], 'every datagram arrived from the EIP');
      await expectLeavesAs(lab(), CLIENT, eip);
    },
  );
});
