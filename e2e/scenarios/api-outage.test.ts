/**
 * Reliability: the API server goes away while traffic flows, first refusing connections (every
 * watch cut, the process alive), then as a stopped process (restarted from its state file, so
 * every watch resumes with 410 Expired and relists). The dataplane must not notice: no kernel
 * write on any node, no lost packet on a TCP flow, a UDP flow and ICMP echoes through the gateway.
 * Once it is back, nothing that has not changed is written again, and no node is blamed.
 * `make test` keeps each outage short; `make soak` holds it for 5 minutes (reliability-scale.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Lab } from '../labkit/lab.js';
import { API_SERVER_ROLE } from '../labkit/plugins.js';
import { waitInformersBack } from './support/agent-log.js';
import { apiWrites, isLeaseWrite, writesBetween, type WriteCounts } from './support/api-writes.js';
import { daemonIdentities, diedOrRestarted } from './support/daemons.js';
import { ALL_PROTOS, assertLeavesAs, expectLeavesAs } from './support/echo.js';
import { agentCounters, firstDifference, kernelListing, kernelWrites, totalOf } from './support/kernel-state.js';
import { kubectlResult } from './support/kubectl.js';
import { appSelector, egressPolicy } from './support/manifests.js';
import { nodeHealth } from './support/node-health.js';
import { PingFlow, type PingReport } from './support/ping-flow.js';
import { waitAssigned } from './support/policy-status.js';
import { API_OUTAGE_MS, SOAK } from './support/reliability-scale.js';
import { GATEWAY_NAME, ScenarioLab, scenarioSkip } from './support/scenario-lab.js';
import { StreamFlow, type FlowReport } from './support/stream-flow.js';
import { waitFor } from './support/wait.js';

const GRACE_SECONDS = 5;
const CLIENT = 'default/client';
/** Informers back off up to 30 s (+20 % jitter) between attempts: the longest a reconnect may take. */
const RECONNECT_BOUND_MS = 45_000;
/** After the agents reconnect: time for the controller's pass and the agents' reconciles to finish. */
const SETTLE_MS = 3_000;
/** How long a quiet cluster is watched to learn its steady rate of Lease writes. */
const QUIET_SAMPLE_MS = 4_000;
/**
 * The plan of the gateway that carries a policy depends on whether its agent holds the controller
 * Lease: only the leader watches every Node, so only a leading gateway routes replies by the
 * workers' podCIDRs; otherwise it routes them by per-pod /32s. A leader steps down after 10 s
 * without a renewal, so an outage longer than that moves the Lease. The assignment (EIPs and
 * their nodes) is the same with and without it; the reply routes are not. Checked, as todo, on
 * the nodes where the Lease moved.
 */
const LEASE_DEPENDENT_PLAN =
  "the carrying gateway's reply routes depend on the controller Lease (as leader it sees every Node and routes a worker's podCIDR, e.g. 10.244.1.0/24; otherwise one /32 per pod): a leader steps down after 10 s without renewal, so the outage rewrites them when the carrying gateway gains or loses the Lease";

interface OutageVariant {
  readonly name: string;
  readonly down: (lab: Lab) => Promise<void>;
  readonly up: (lab: Lab) => Promise<void>;
  /** A new API server process counts writes from zero. */
  readonly countsRestart: boolean;
}

const VARIANTS: readonly OutageVariant[] = [
  { name: 'refusing connections', down: (lab) => lab.apiServerDown(), up: (lab) => lab.apiServerUp(), countsRestart: false },
  { name: 'stopped and restarted', down: (lab) => lab.stopDaemon(API_SERVER_ROLE), up: (lab) => lab.startDaemon(API_SERVER_ROLE), countsRestart: true },
];

async function everyNode<T>(nodes: readonly string[], read: (node: string) => Promise<T>): Promise<Map<string, T>> {
  return new Map(await Promise.all(nodes.map(async (n) => [n, await read(n)] as const)));
}

describe('API server outage end to end', { skip: scenarioSkip, timeout: (SOAK ? 30 : 6) * 60_000 }, () => {
  let env: ScenarioLab;
  let nodes: string[];

  before(async () => {
    env = await ScenarioLab.up('outage', {
      workers: 1,
      gateways: 2,
      nodeGraceSeconds: GRACE_SECONDS,
      pods: [{ namespace: 'default', name: 'client', labels: { app: 'client' } }],
    });
    nodes = env.info.nodes.map((n) => n.name);
    await env.settle();
  }, { timeout: 180_000 });

  after(async () => {
    await env?.down();
  }, { timeout: 60_000 });

  for (const variant of VARIANTS) {
    test(`API server ${variant.name} for ${API_OUTAGE_MS / 1000} s: no kernel write, no lost packet, no burst of API writes, no node blamed`, { timeout: API_OUTAGE_MS + 180_000 }, (t) =>
      env.scenario(async (s) => {
        const p = egressPolicy('default', 'steady', { egressGatewayName: GATEWAY_NAME, appliedTo: appSelector('client') });
        await s.apply(p);
        const at = await waitAssigned(s.lab, p);
        await expectLeavesAs(s.lab, CLIENT, at.ipv4!, { protos: ALL_PROTOS });

        // Quiet first: kernel and API writes have stopped moving; learn the Lease renewal rate.
        await waitFor('the kernel writes to settle', 30_000, async () => {
          const a = await everyNode(nodes, async (n) => totalOf(await kernelWrites(s.lab, n)));
          await sleep(2_000);
          const b = await everyNode(nodes, async (n) => totalOf(await kernelWrites(s.lab, n)));
          return nodes.every((n) => a.get(n) === b.get(n)) ? true : undefined;
        }, 0);
        const quietFrom = await apiWrites(s.lab);
        await sleep(QUIET_SAMPLE_MS);
        const quiet = writesBetween(quietFrom, await apiWrites(s.lab));
        const leaseRate = (quiet['leases.coordination.k8s.io'] ?? 0) / QUIET_SAMPLE_MS;
        assert.deepEqual(Object.keys(quiet).filter((r) => !isLeaseWrite(r)), [], `a quiet cluster writes only Leases: ${JSON.stringify(quiet)}`);

        const stream = await StreamFlow.start(s.lab, CLIENT);
        const udp = await StreamFlow.start(s.lab, CLIENT, { proto: 'udp' });
        const ping = await PingFlow.start(s.lab, CLIENT);
        const countersBefore = await everyNode(nodes, (n) => agentCounters(s.lab, n));
        const leaseMoved = new Set<string>();
        const kernelChanges = new Map<string, string>();
        const compareKernels = (when: string, now: Map<string, Awaited<ReturnType<typeof agentCounters>>>) => {
          for (const n of nodes) {
            const [a, b] = [countersBefore.get(n)!, now.get(n)!];
            if (a.leader !== b.leader) leaseMoved.add(n);
            if (!kernelChanges.has(n) && JSON.stringify(a.kernelWrites) !== JSON.stringify(b.kernelWrites)) {
              kernelChanges.set(n, `${when}: ${JSON.stringify(a.kernelWrites)} → ${JSON.stringify(b.kernelWrites)}`);
            }
          }
        };
        const listingBefore = await everyNode(nodes, (n) => kernelListing(s.lab, n));
        const healthBefore = await nodeHealth(s.lab);
        const agents = await daemonIdentities(s.lab, ['agent:']);
        let apiBefore: WriteCounts = {};
        let downAt = 0;
        let upAt = 0;
        let backAt = 0;
        let st: FlowReport, ud: FlowReport, pg: PingReport;
        try {
          await waitFor('the flows to be answered', 5_000, async () => (stream.answered >= 3 && udp.answered >= 3 && ping.received >= 3 ? true : undefined), 50);
          apiBefore = await apiWrites(s.lab);
          downAt = Date.now();
          await variant.down(s.lab);
          let checks = 0;
          try {
            const refused = await kubectlResult(s.lab, ['get', 'egresspolicy', '-A']);
            assert.notEqual(refused.exitCode, 0, 'the API server is unreachable');
            // Look at the kernels while the API server is away, not only afterwards.
            while (Date.now() - downAt < API_OUTAGE_MS) {
              await sleep(Math.min(10_000, API_OUTAGE_MS - (Date.now() - downAt)));
              compareKernels(`${Math.round((Date.now() - downAt) / 1000)} s into the outage`, await everyNode(nodes, (n) => agentCounters(s.lab, n)));
              checks++;
            }
          } finally {
            upAt = Date.now();
            await variant.up(s.lab);
          }
          t.diagnostic(`${variant.name}: down ${Math.round((upAt - downAt) / 1000)} s, kernel counters checked ${checks} times meanwhile`);
          const lastRetry = await waitInformersBack(s.lab, nodes, downAt, RECONNECT_BOUND_MS);
          backAt = Date.now();
          t.diagnostic(`every agent's informers were back ${Math.max(0, Math.round((lastRetry - upAt) / 100) / 10)} s after the API server`);
          await sleep(SETTLE_MS);
        } finally {
          [st, ud, pg] = await Promise.all([stream.stop(), udp.stop(), ping.stop()]);
        }
        const apiAfter = await apiWrites(s.lab);

        // The dataplane: nothing written, nothing different, nothing lost.
        compareKernels('after recovery', await everyNode(nodes, (n) => agentCounters(s.lab, n)));
        const listingAfter = await everyNode(nodes, (n) => kernelListing(s.lab, n));
        for (const n of nodes) {
          const [a, b] = [listingBefore.get(n)!, listingAfter.get(n)!];
          if (a !== b && !kernelChanges.has(n)) kernelChanges.set(n, `kernel listing, first difference ${firstDifference(a, b)}`);
        }
        const changed = (among: readonly string[]) => among.filter((n) => kernelChanges.has(n)).map((n) => `${n}: ${kernelChanges.get(n)}`);
        if (leaseMoved.size) t.diagnostic(`the controller Lease moved on ${[...leaseMoved].join(', ')}; ${at.node} carries the policy`);
        assert.deepEqual(changed(nodes.filter((n) => !leaseMoved.has(n))), [], 'no kernel write during or after the outage');
        await t.test('nor on the nodes where the controller Lease moved', { todo: LEASE_DEPENDENT_PLAN }, () => assert.deepEqual(changed([...leaseMoved]), []));
        const gap = (r: { maxGapMs: number; maxGapEndedAt: number }) => `longest gap ${r.maxGapMs} ms (ended ${((r.maxGapEndedAt - downAt) / 1000).toFixed(1)} s after the API server went)`;
        t.diagnostic(`tcp: ${st.sent} lines, ${st.answered} answers, ${gap(st)}; udp: ${ud.sent} datagrams, ${ud.answered} answers, ${gap(ud)}; icmp: ${pg.transmitted} echoes, ${pg.lost} lost, ${gap(pg)}`);
        assert.equal(st.brokeWith, undefined, 'the TCP connection stays up');
        assert.equal(st.answered, st.sent, 'every TCP line is answered');
        assert.equal(st.outOfOrder, 0);
        assert.deepEqual(st.peers.map((x) => x.split(':')[0]), [at.ipv4], `one TCP connection, seen as the EIP: ${st.peers.join(', ')}`);
        assert.equal(ud.brokeWith, undefined, 'the UDP flow stays up');
        assert.equal(ud.answered, ud.sent, 'every datagram is answered');
        assert.deepEqual(ud.peers.map((x) => x.split(':')[0]), [at.ipv4], `one UDP flow, seen as the EIP: ${ud.peers.join(', ')}`);
        assert.equal(pg.lost, 0, `ICMP echoes lost: ${pg.lost} of ${pg.transmitted}`);

        // The API: after recovery only Lease renewals, at their usual rate; nothing rewritten.
        const since = writesBetween(variant.countsRestart ? {} : apiBefore, apiAfter);
        const windowMs = Date.now() - (variant.countsRestart ? upAt : downAt);
        t.diagnostic(`API writes from ${variant.countsRestart ? 'the restart' : 'the outage'} until ${Math.round((Date.now() - backAt) / 1000)} s after the agents were back: ${JSON.stringify(since)} (quiet Lease rate ${(leaseRate * 1000).toFixed(2)}/s)`);
        assert.deepEqual(Object.fromEntries(Object.entries(since).filter(([r]) => !isLeaseWrite(r))), {}, 'nothing but Leases is written after the outage');
        const leaseBound = Math.ceil(2 * leaseRate * windowMs) + 10;
        assert.ok((since['leases.coordination.k8s.io'] ?? 0) <= leaseBound, `Lease writes ${since['leases.coordination.k8s.io']} > ${leaseBound} (twice the quiet rate over ${Math.round(windowMs / 1000)} s): a burst`);

        // Nobody blamed, nobody restarted, nothing moved.
        assert.deepEqual(await nodeHealth(s.lab), healthBefore, 'every node stays Ready since the same time, without taints');
        assert.deepEqual(await diedOrRestarted(s.lab, agents), [], 'every agent kept running');
        assert.deepEqual(await waitAssigned(s.lab, p), at, 'the policy stays where it was');
        await assertLeavesAs(s.lab, CLIENT, at.ipv4!, { protos: ALL_PROTOS });
      }));
  }
});
