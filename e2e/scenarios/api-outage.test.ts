/**
 * Reliability: the API server goes away while traffic flows, first refusing connections (every
 * watch cut, the process alive), then as a stopped process (restarted from its state file, so
 * every watch resumes with 410 Expired and relists). The dataplane must not notice: no kernel
 * write on any node, no lost packet on a TCP flow, a UDP flow and ICMP echoes through the gateway.
 * Once it is back, nothing that has not changed is written again, and no node is blamed. The
 * controller replica that held the Lease gives it up during the outage (it cannot renew), and one
 * takes it again afterwards: agents plan without the controller, so no node's plan may change.
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
import { controllerLeaders } from './support/controller-lease.js';
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
/** How long a controller replica may take to hold the Lease again once the API server is back (Lease 15 s). */
const LEASE_BACK_MS = 60_000;

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

describe('API server outage end to end', { skip: scenarioSkip, timeout: (SOAK ? 32 : 9) * 60_000 }, () => {
  let env: ScenarioLab;
  let nodes: string[];

  before(
    async () => {
      env = await ScenarioLab.up('outage', {
        workers: 1,
        gateways: 2,
        nodeGraceSeconds: GRACE_SECONDS,
        pods: [{ namespace: 'default', name: 'client', labels: { app: 'client' } }],
      });
      nodes = env.info.nodes.map((n) => n.name);
      await env.settle();
    },
    { timeout: 180_000 },
  );

  after(
    async () => {
      await env?.down();
    },
    { timeout: 60_000 },
  );

  for (const variant of VARIANTS) {
    test(
      `API server ${variant.name} for ${API_OUTAGE_MS / 1000} s: no kernel write, no lost packet, no burst of API writes, no node blamed`,
      { timeout: API_OUTAGE_MS + 180_000 },
      (t) =>
        env.scenario(async (s) => {
          const p = egressPolicy('default', 'steady', { egressGatewayName: GATEWAY_NAME, appliedTo: appSelector('client') });
          await s.apply(p);
          const at = await waitAssigned(s.lab, p);
          await expectLeavesAs(s.lab, CLIENT, at.ipv4!, { protos: ALL_PROTOS });

          // Quiet first: kernel and API writes have stopped moving; learn the Lease renewal rate.
          await waitFor(
            'the kernel writes to settle',
            30_000,
            async () => {
              const a = await everyNode(nodes, async (n) => totalOf(await kernelWrites(s.lab, n)));
              await sleep(2_000);
              const b = await everyNode(nodes, async (n) => totalOf(await kernelWrites(s.lab, n)));
              return nodes.every((n) => a.get(n) === b.get(n)) ? true : undefined;
            },
            0,
          );
          const quietFrom = await apiWrites(s.lab);
          await sleep(QUIET_SAMPLE_MS);
          const quiet = writesBetween(quietFrom, await apiWrites(s.lab));
          const leaseRate = (quiet['leases.coordination.k8s.io'] ?? 0) / QUIET_SAMPLE_MS;
          assert.deepEqual(
            Object.keys(quiet).filter((r) => !isLeaseWrite(r)),
            [],
            `a quiet cluster writes only Leases: ${JSON.stringify(quiet)}`,
          );

          const stream = await StreamFlow.start(s.lab, CLIENT);
          const udp = await StreamFlow.start(s.lab, CLIENT, { proto: 'udp' });
          const ping = await PingFlow.start(s.lab, CLIENT);
          const countersBefore = await everyNode(nodes, (n) => agentCounters(s.lab, n));
          const leadersBefore = await controllerLeaders(s.lab);
          assert.equal(leadersBefore.length, 1, `one controller replica holds the Lease: ${leadersBefore.join(', ')}`);
          const agentsLeading = new Set<string>();
          const leaderless: string[] = [];
          const kernelChanges = new Map<string, string>();
          const compareKernels = (when: string, now: Map<string, Awaited<ReturnType<typeof agentCounters>>>) => {
            for (const n of nodes) {
              const [a, b] = [countersBefore.get(n)!, now.get(n)!];
              if (a.leader || b.leader) agentsLeading.add(n);
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
          let leadersAfter: string[] = [];
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
                const when = `${Math.round((Date.now() - downAt) / 1000)} s into the outage`;
                compareKernels(when, await everyNode(nodes, (n) => agentCounters(s.lab, n)));
                if ((await controllerLeaders(s.lab)).length === 0) leaderless.push(when);
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
            leadersAfter = await waitFor(
              'one controller replica to hold the Lease again',
              LEASE_BACK_MS,
              async () => {
                const leaders = await controllerLeaders(s.lab);
                return leaders.length === 1 ? leaders : undefined;
              },
              500,
            );
            t.diagnostic(
              `controller Lease: ${leadersBefore[0]} before, held by no replica ${leaderless.join(' and ') || 'at no check'}, ${leadersAfter[0]} after (${Math.round((Date.now() - upAt) / 1000)} s after the API server came back)`,
            );
            // the new holder's first pass, then the agents' reconciles of whatever it wrote
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
          const changed = nodes.filter((n) => kernelChanges.has(n)).map((n) => `${n}: ${kernelChanges.get(n)}`);
          assert.deepEqual(changed, [], 'no kernel write during or after the outage, nor when a controller replica took the Lease again');
          assert.deepEqual([...agentsLeading], [], 'no agent holds the controller Lease: agents plan without it');
          // Otherwise this run proved nothing about a change of holder: the outage outlasts the renew deadline (10 s).
          assert.ok(leaderless.length > 0, `the controller replica ${leadersBefore[0]} gave the Lease up during the ${API_OUTAGE_MS / 1000} s outage`);
          assert.equal(leadersAfter.length, 1);
          const gap = (r: { maxGapMs: number; maxGapEndedAt: number }) =>
            `longest gap ${r.maxGapMs} ms (ended ${((r.maxGapEndedAt - downAt) / 1000).toFixed(1)} s after the API server went)`;
          t.diagnostic(
            `tcp: ${st.sent} lines, ${st.answered} answers, ${gap(st)}; udp: ${ud.sent} datagrams, ${ud.answered} answers, ${gap(ud)}; icmp: ${pg.transmitted} echoes, ${pg.lost} lost, ${gap(pg)}`,
          );
          assert.equal(st.brokeWith, undefined, 'the TCP connection stays up');
          assert.equal(st.answered, st.sent, 'every TCP line is answered');
          assert.equal(st.outOfOrder, 0);
          assert.deepEqual(
            st.peers.map((x) => x.split(':')[0]),
            [at.ipv4],
            `one TCP connection, seen as the EIP: ${st.peers.join(', ')}`,
          );
          assert.equal(ud.brokeWith, undefined, 'the UDP flow stays up');
          assert.equal(ud.answered, ud.sent, 'every datagram is answered');
          assert.deepEqual(
            ud.peers.map((x) => x.split(':')[0]),
            [at.ipv4],
            `one UDP flow, seen as the EIP: ${ud.peers.join(', ')}`,
          );
          assert.equal(pg.lost, 0, `ICMP echoes lost: ${pg.lost} of ${pg.transmitted}`);

          // The API: after recovery only Lease renewals, at their usual rate; nothing rewritten.
          const since = writesBetween(variant.countsRestart ? {} : apiBefore, apiAfter);
          const windowMs = Date.now() - (variant.countsRestart ? upAt : downAt);
          t.diagnostic(
            `API writes from ${variant.countsRestart ? 'the restart' : 'the outage'} until ${Math.round((Date.now() - backAt) / 1000)} s after the agents were back: ${JSON.stringify(since)} (quiet Lease rate ${(leaseRate * 1000).toFixed(2)}/s)`,
          );
          assert.deepEqual(Object.fromEntries(Object.entries(since).filter(([r]) => !isLeaseWrite(r))), {}, 'nothing but Leases is written after the outage');
          const leaseBound = Math.ceil(2 * leaseRate * windowMs) + 10;
          assert.ok(
            (since['leases.coordination.k8s.io'] ?? 0) <= leaseBound,
            `Lease writes ${since['leases.coordination.k8s.io']} > ${leaseBound} (twice the quiet rate over ${Math.round(windowMs / 1000)} s): a burst`,
          );

          // Nobody blamed, nobody restarted, nothing moved.
          assert.deepEqual(await nodeHealth(s.lab), healthBefore, 'every node stays Ready since the same time, without taints');
          assert.deepEqual(await diedOrRestarted(s.lab, agents), [], 'every agent kept running');
          assert.deepEqual(await waitAssigned(s.lab, p), at, 'the policy stays where it was');
          await assertLeavesAs(s.lab, CLIENT, at.ipv4!, { protos: ALL_PROTOS });
        }),
    );
  }

  // The Deployment's standby replica takes over when the holder stops (a rolling update, a drain):
  // agents compute the assignment themselves, so no node's plan may change, and a new holder
  // continues from status without writing anything but its Lease.
  test('the standby controller replica taking over the Lease changes no node plan and writes nothing but the Lease', { timeout: 180_000 }, (t) =>
    env.scenario(async (s) => {
      const p = egressPolicy('default', 'handover', { egressGatewayName: GATEWAY_NAME, appliedTo: appSelector('client') });
      await s.apply(p);
      const at = await waitAssigned(s.lab, p);
      await expectLeavesAs(s.lab, CLIENT, at.ipv4!, { protos: ALL_PROTOS });
      const [holder] = await waitFor(
        'one controller replica to hold the Lease',
        LEASE_BACK_MS,
        async () => {
          const leaders = await controllerLeaders(s.lab);
          return leaders.length === 1 ? leaders : undefined;
        },
        500,
      );
      await waitFor(
        'the kernel writes to settle',
        30_000,
        async () => {
          const a = await everyNode(nodes, async (n) => totalOf(await kernelWrites(s.lab, n)));
          await sleep(2_000);
          const b = await everyNode(nodes, async (n) => totalOf(await kernelWrites(s.lab, n)));
          return nodes.every((n) => a.get(n) === b.get(n)) ? true : undefined;
        },
        0,
      );
      const writesBefore = await everyNode(nodes, (n) => kernelWrites(s.lab, n));
      const listingBefore = await everyNode(nodes, (n) => kernelListing(s.lab, n));
      const apiBefore = await apiWrites(s.lab);
      const stream = await StreamFlow.start(s.lab, CLIENT);
      const udp = await StreamFlow.start(s.lab, CLIENT, { proto: 'udp' });
      let st: FlowReport, ud: FlowReport;
      let successor: string;
      let stopped = false;
      try {
        await waitFor('the flows to be answered', 10_000, async () => (stream.answered >= 3 && udp.answered >= 3 ? true : undefined), 50);
        const stoppedAt = Date.now();
        stopped = true;
        await s.lab.stopDaemon(holder!);
        [successor] = await waitFor(
          'the standby replica to hold the Lease',
          LEASE_BACK_MS,
          async () => {
            const leaders = await controllerLeaders(s.lab);
            return leaders.length === 1 && leaders[0] !== holder ? leaders : undefined;
          },
          200,
        );
        t.diagnostic(`${holder} stopped; ${successor} held the Lease ${((Date.now() - stoppedAt) / 1000).toFixed(1)} s later`);
        await sleep(SETTLE_MS);
      } finally {
        [st, ud] = await Promise.all([stream.stop(), udp.stop()]);
        if (stopped) await s.lab.startDaemon(holder!);
      }
      const apiAfter = await apiWrites(s.lab);
      const writesAfter = await everyNode(nodes, (n) => kernelWrites(s.lab, n));
      const listingAfter = await everyNode(nodes, (n) => kernelListing(s.lab, n));
      const changed = nodes.filter((n) => JSON.stringify(writesBefore.get(n)) !== JSON.stringify(writesAfter.get(n)) || listingBefore.get(n) !== listingAfter.get(n));
      assert.deepEqual(
        changed.map(
          (n) => `${n}: ${JSON.stringify(writesBefore.get(n))} → ${JSON.stringify(writesAfter.get(n))}; listing ${firstDifference(listingBefore.get(n)!, listingAfter.get(n)!)}`,
        ),
        [],
        'no node plan changed',
      );
      assert.deepEqual(
        Object.keys(writesBetween(apiBefore, apiAfter)).filter((r) => !isLeaseWrite(r)),
        [],
        'the new holder wrote nothing but its Lease',
      );
      assert.equal(st.brokeWith, undefined, 'the TCP connection stays up');
      assert.equal(st.answered, st.sent, 'every TCP line is answered');
      assert.equal(ud.answered, ud.sent, 'every datagram is answered');
      assert.deepEqual(
        [...st.peers, ...ud.peers].map((x) => x.split(':')[0]),
        [at.ipv4, at.ipv4],
      );
      assert.deepEqual(await waitAssigned(s.lab, p), at, 'the policy stays where it was');
    }),
  );
});
