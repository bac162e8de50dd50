/**
 * Planned moves an operator asks for, proven with packets: a cordon, `sluice drain` and `sluice
 * rebalance` each move an egress IP make-before-break (the external echo sees the flow leave from
 * the other gateway as the EIP, with a short gap and no TCP reset, and no more lost than a SIGTERM
 * of the carrying agent loses in the same lab), an uncordon or undrain moves nothing back, and bad
 * annotation values are refused without moving anything. One lab: 1 worker, 2 gateway nodes, two
 * pods each with a policy on its own EIP, chosen so that each gateway node is one EIP's preferred
 * node (the rendezvous winner). Bounds are functional and generous.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { rendezvousPick } from '../../lib/planner/hrw.js';
import { DRAIN_ANNOTATION, REBALANCE_ANNOTATION } from '../../lib/api/group.js';
import type { EgressPolicyWire } from '../../lib/api/wire.js';
import { eipV4 } from './support/addresses.js';
import { expectLeavesAs } from './support/echo.js';
import { describeFlow, lastCarrier, nodesByMac, watchWhile, type WatchReport } from './support/failover-watch.js';
import { applyObjects, kubectl, kubectlJson } from './support/kubectl.js';
import { appSelector, egressPolicy } from './support/manifests.js';
import { waitGatewaysFit } from './support/peer-liveness.js';
import { policyStatus, waitAssigned } from './support/policy-status.js';
import { GATEWAY_NAME, POOL_SIZE, ScenarioLab, scenarioSkip } from './support/scenario-lab.js';
import { sluiceAdmin } from './support/sluice-admin.js';
import { waitFor } from './support/wait.js';

const PLANNED_BOUND_MS = 1_000;
/**
 * A cordon, drain or rebalance is a planned move like SIGTERM: it may lose what SIGTERM lost in
 * this lab (scenario (a)), and this many datagrams more (50 ms of the flow: a loaded machine stalls agents).
 */
const PLANNED_LOSS_SLACK = 50;
const TCP_CONNECTIONS = 10;
/** Generous: on a loaded machine the agents' threads stall for seconds, and the gateways' fitness is awaited first. */
const SCENARIO_TIMEOUT_MS = 300_000;

interface EventList {
  items: Array<{ reason: string; type: string; message: string; involvedObject: { kind: string; name: string } }>;
}

describe('operator-requested moves: cordon, sluice drain, sluice rebalance', { skip: scenarioSkip, timeout: 20 * 60_000 }, () => {
  let env: ScenarioLab;
  let macs: Map<string, string>;
  /** Policy A's EIP prefers gateways[0], B's prefers gateways[1]. */
  let policyA: EgressPolicyWire;
  let policyB: EgressPolicyWire;
  let eipA: string;
  let eipB: string;
  /** Datagrams the SIGTERM handoff (a) lost: what the other planned moves may lose, plus PLANNED_LOSS_SLACK. */
  let sigtermLost: number | undefined;
  const lab = () => env.lab;
  const gw = (i: number) => env.gatewayNodes[i]!;

  function report(t: TestContext, what: string, r: WatchReport<unknown>): void {
    t.diagnostic(`${what}: ${describeFlow(r.udp, macs)}`);
    if (r.tcp) t.diagnostic(`${what}: TCP ${r.tcp.survived}/${r.tcp.connections.length} survived, ${r.tcp.resets} reset`);
  }

  /** Moved from → to make-before-break: every datagram from the EIP, a short gap, no TCP reset. */
  function assertPlannedMove(r: WatchReport<unknown>, eip: string, from: string, to: string): void {
    assert.equal(macs.get(r.udp.runs[0]!.via), from, `the flow first left through ${from}`);
    assert.equal(lastCarrier(r.udp, macs), to, `the flow leaves through ${to} at the end: ${describeFlow(r.udp, macs)}`);
    assert.ok(r.udp.maxGapMs < PLANNED_BOUND_MS, `outage ${r.udp.maxGapMs} ms`);
    assert.deepEqual([...new Set(r.udp.sources.map((s) => s.src))], [eip], 'every datagram arrived from the EIP');
    if (r.tcp) {
      assert.equal(r.tcp.resets, 0, 'no TCP connection reset');
      assert.equal(r.tcp.survived, TCP_CONNECTIONS);
    }
  }

  /** No more lost than the SIGTERM handoff lost, plus the slack. */
  function assertLosesNoMoreThanSigterm(r: WatchReport<unknown>): void {
    const bound = (sigtermLost ?? 0) + PLANNED_LOSS_SLACK;
    assert.ok(r.udp.lost <= bound, `${r.udp.lost} datagrams lost; SIGTERM lost ${sigtermLost ?? 'nothing (not run)'}, so at most ${bound}: ${describeFlow(r.udp, macs)}`);
  }

  /** Nothing moved: the flow left through `node` all along. */
  function assertStayed(r: WatchReport<unknown>, node: string): void {
    assert.deepEqual([...new Set(r.udp.runs.map((x) => macs.get(x.via)))], [node], describeFlow(r.udp, macs));
    assert.ok(r.udp.maxGapMs < PLANNED_BOUND_MS, `a gap of ${r.udp.maxGapMs} ms`);
  }

  async function events(reason: string): Promise<EventList['items']> {
    return (await kubectlJson<EventList>(lab(), ['get', 'events', '-A'])).items.filter((e) => e.reason === reason);
  }

  before(
    async () => {
      env = await ScenarioLab.up('drain', {
        workers: 1,
        gateways: 2,
        nodeGraceSeconds: 40,
        pods: [
          { namespace: 'default', name: 'client-a', labels: { app: 'client-a' }, node: 'worker-1' },
          { namespace: 'default', name: 'client-b', labels: { app: 'client-b' }, node: 'worker-1' },
        ],
      });
      await env.settle();
      // a gateway node that started last stands aside for its start hold: a policy made then would stay elsewhere
      await waitGatewaysFit(env.lab, env.gatewayNodes);
      // two pool addresses whose preferred nodes differ (the default EIP is offset 5)
      const offsets = Array.from({ length: POOL_SIZE - 10 }, (_, i) => i + 10);
      eipA = eipV4(
        env.info,
        offsets.find((o) => rendezvousPick(eipV4(env.info, o), env.gatewayNodes) === gw(0))!,
      );
      eipB = eipV4(
        env.info,
        offsets.find((o) => rendezvousPick(eipV4(env.info, o), env.gatewayNodes) === gw(1))!,
      );
      policyA = egressPolicy('default', 'a', { egressGatewayName: GATEWAY_NAME, egressIP: { ipv4: eipA }, appliedTo: appSelector('client-a') });
      policyB = egressPolicy('default', 'b', { egressGatewayName: GATEWAY_NAME, egressIP: { ipv4: eipB }, appliedTo: appSelector('client-b') });
      await applyObjects(env.lab, [policyA, policyB]);
      await waitAssigned(env.lab, policyA, { node: gw(0), ipv4: eipA, programmed: true });
      await waitAssigned(env.lab, policyB, { node: gw(1), ipv4: eipB, programmed: true });
      await expectLeavesAs(env.lab, 'default/client-a', eipA);
      await expectLeavesAs(env.lab, 'default/client-b', eipB);
      macs = await nodesByMac(env.lab);
    },
    { timeout: 300_000 },
  );

  after(
    async () => {
      await (env ? env.down() : ScenarioLab.downUnfinished('drain'));
    },
    { timeout: 60_000 },
  );

  test(
    '(a) SIGTERM of the agent carrying B (restarted 2 s later) hands B over make-before-break: the loss the other moves are held to',
    { timeout: SCENARIO_TIMEOUT_MS },
    async (t) => {
      await waitGatewaysFit(lab(), env.gatewayNodes);
      try {
        const r = await watchWhile(lab(), { pod: 'default/client-b', tcp: TCP_CONNECTIONS, afterMs: 3_000 }, async () => {
          await lab().stopAgent(gw(1));
          await sleep(2_000);
          await lab().startAgent(gw(1));
        });
        report(t, `SIGTERM to the agent on ${gw(1)}, restarted 2 s later`, r);
        sigtermLost = r.udp.lost;
        assertPlannedMove(r, eipB, gw(1), gw(0));
      } finally {
        await lab()
          .startAgent(gw(1))
          .catch(() => undefined);
      }
      // B stays on gw(0) (sticky): the cordon below moves every EIP that node holds
      await waitAssigned(lab(), policyB, { node: gw(0), programmed: true });
    },
  );

  test('(b) a cordon moves every EIP off the node make-before-break, losing no more than SIGTERM; the uncordon moves nothing back', { timeout: SCENARIO_TIMEOUT_MS }, async (t) => {
    await waitGatewaysFit(lab(), env.gatewayNodes);
    try {
      const r = await watchWhile(lab(), { pod: 'default/client-a', tcp: TCP_CONNECTIONS, afterMs: 3_000 }, () => kubectl(lab(), ['cordon', gw(0)]));
      report(t, `kubectl cordon ${gw(0)}`, r);
      assertPlannedMove(r, eipA, gw(0), gw(1));
      assertLosesNoMoreThanSigterm(r);
      await waitAssigned(lab(), policyB, { node: gw(1) });
      await waitAssigned(lab(), policyA, { node: gw(1) });
      await waitFor('a GatewayHandoff Event naming the cordon', 20_000, async () => {
        const e = (await events('GatewayHandoff')).find((x) => x.involvedObject.name === 'a' && x.message.includes('cordoned'));
        if (!e) throw new Error('none yet');
        return e;
      });
    } finally {
      await kubectl(lab(), ['uncordon', gw(0)]);
    }
    const back = await watchWhile(lab(), { pod: 'default/client-a', afterMs: 4_000 }, async () => undefined);
    report(t, `after kubectl uncordon ${gw(0)}`, back);
    assertStayed(back, gw(1));
    assert.equal((await policyStatus(lab(), policyA)).node, gw(1), 'sticky: status.node unchanged by the uncordon');
  });

  test(
    '(c) sluice rebalance moves the EIP that is off its preferred node back to it, make-before-break, and acknowledges the request',
    { timeout: SCENARIO_TIMEOUT_MS },
    async (t) => {
      await waitGatewaysFit(lab(), env.gatewayNodes);
      await waitAssigned(lab(), policyA, { node: gw(1), programmed: true });
      const r = await watchWhile(lab(), { pod: 'default/client-a', tcp: TCP_CONNECTIONS, afterMs: 3_000 }, () => sluiceAdmin(lab(), ['rebalance', GATEWAY_NAME, '--wait', '90']));
      report(t, `sluice rebalance ${GATEWAY_NAME}`, r);
      assert.equal(r.value.exitCode, 0, r.value.stderr);
      assert.match(r.value.stdout, /rebalanced: request ".+": every egress IP is on its preferred node/);
      assertPlannedMove(r, eipA, gw(1), gw(0));
      assertLosesNoMoreThanSigterm(r);
      assert.equal((await policyStatus(lab(), policyB)).node, gw(1), 'B was on its preferred node: it stays');
      const gateway = await kubectlJson<{ status: { rebalance?: { state: string; remaining: number } } }>(lab(), ['get', 'egressgateway.egress.sluice.dev', GATEWAY_NAME]);
      assert.deepEqual(gateway.status.rebalance && { state: gateway.status.rebalance.state, remaining: gateway.status.rebalance.remaining }, { state: 'Done', remaining: 0 });
      assert.ok((await events('Rebalanced')).length > 0, 'a Rebalanced Event on the gateway');
      assert.ok(
        (await events('GatewayHandoff')).some((e) => e.involvedObject.name === 'a' && e.message.includes('rebalance')),
        'a GatewayHandoff Event naming the rebalance',
      );
    },
  );

  test('(d) sluice drain moves the EIP off the node and waits for it; sluice undrain moves nothing back', { timeout: SCENARIO_TIMEOUT_MS }, async (t) => {
    await waitGatewaysFit(lab(), env.gatewayNodes);
    await waitAssigned(lab(), policyA, { node: gw(0), programmed: true });
    try {
      const r = await watchWhile(lab(), { pod: 'default/client-a', tcp: TCP_CONNECTIONS, afterMs: 3_000 }, () => sluiceAdmin(lab(), ['drain', gw(0), '--wait', '60']));
      report(t, `sluice drain ${gw(0)}`, r);
      assert.equal(r.value.exitCode, 0, r.value.stderr);
      assert.match(r.value.stdout, new RegExp(`drained: no policy leaves through node/${gw(0)}`));
      assertPlannedMove(r, eipA, gw(0), gw(1));
      assertLosesNoMoreThanSigterm(r);
    } finally {
      const undrain = await sluiceAdmin(lab(), ['undrain', gw(0)]);
      assert.equal(undrain.exitCode, 0, undrain.stderr);
    }
    const back = await watchWhile(lab(), { pod: 'default/client-a', afterMs: 4_000 }, async () => undefined);
    report(t, `after sluice undrain ${gw(0)}`, back);
    assertStayed(back, gw(1));
  });

  test('(e) bad annotation values: refused in status and Events, nothing moves, nothing crashes', { timeout: SCENARIO_TIMEOUT_MS }, async (t) => {
    const before = (await policyStatus(lab(), policyA)).node!;
    const r = await watchWhile(lab(), { pod: 'default/client-a', afterMs: 4_000 }, async () => {
      await kubectl(lab(), ['annotate', 'egressgateway.egress.sluice.dev', GATEWAY_NAME, `${REBALANCE_ANNOTATION}=not a token!`, '--overwrite']);
      await kubectl(lab(), ['annotate', 'node', before, `${DRAIN_ANNOTATION}=soon`, '--overwrite']);
    });
    try {
      report(t, 'bad annotations', r);
      assertStayed(r, before);
      await waitFor('the Rebalanced condition refuses the request', 20_000, async () => {
        const g = await kubectlJson<{ status: { conditions?: Array<{ type: string; status: string; reason: string; message: string }> } }>(lab(), [
          'get',
          'egressgateway.egress.sluice.dev',
          GATEWAY_NAME,
        ]);
        const c = g.status.conditions?.find((x) => x.type === 'Rebalanced');
        if (c?.reason !== 'InvalidRequest' || c.status !== 'False' || !c.message.includes('not a request token')) throw new Error(JSON.stringify(c));
        return c;
      });
      await waitFor('Warning Events for both', 20_000, async () => {
        if ((await events('InvalidRebalanceRequest')).length === 0) throw new Error('no InvalidRebalanceRequest Event');
        if (!(await events('InvalidDrainAnnotation')).some((e) => e.involvedObject.kind === 'Node' && e.involvedObject.name === before))
          throw new Error('no InvalidDrainAnnotation Event');
        return true;
      });
      await sleep(1_000);
      assert.equal((await policyStatus(lab(), policyA)).node, before, 'nothing moved');
      await expectLeavesAs(lab(), 'default/client-a', eipA);
    } finally {
      await kubectl(lab(), ['annotate', 'egressgateway.egress.sluice.dev', GATEWAY_NAME, `${REBALANCE_ANNOTATION}-`]);
      await kubectl(lab(), ['annotate', 'node', before, `${DRAIN_ANNOTATION}-`]);
    }
  });
});
