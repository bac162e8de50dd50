/**
 * The Programmed condition through kubectl, on a cluster of its own (2 workers, 1 gateway node):
 * a policy turns Programmed once the gateway node and every node with selected pods have applied
 * it (measured from the API server's side, with the API writes it cost); a worker whose apply
 * fails (a VXLAN device left from an install under another device name holds sluice's VNI and
 * port, so the tunnel cannot be created: a real leftover, nothing simulated) turns it False, naming
 * that worker and the error, until the device is gone. And the periodic resync repairs what was
 * deleted behind the agent's back and counts it in sluice_resync_kernel_writes_total.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Condition, EgressPolicyWire } from '../../lib/api/wire.js';
import { AGENT_METRICS_PORT, agentDaemon } from '../labkit/cluster/agent-daemon.js';
import type { Lab } from '../labkit/lab.js';
import { apiWrites, isLeaseWrite, writesBetween, type WriteCounts } from './support/api-writes.js';
import { conditionOf, watchPolicy } from './support/condition-watch.js';
import { expectLeavesAs } from './support/echo.js';
import { kubectl, kubectlJson } from './support/kubectl.js';
import { appSelector, egressPolicy } from './support/manifests.js';
import { condition, policyStatus } from './support/policy-status.js';
import { GATEWAY_NAME, ScenarioLab, scenarioSkip } from './support/scenario-lab.js';
import { waitFor } from './support/wait.js';

const WORKER_1 = 'worker-1';
const WORKER_2 = 'worker-2';
/** worker-1's agent in the drift scenario: short, so it waits seconds, not the default minute. */
const RESYNC_SECONDS = 3;
/** sluice's VXLAN settings in the lab (the agent's defaults). */
const VNI = 100;
const VXLAN_PORT = 4789;
const LEFTOVER = 'old.vxlan';
const SCENARIO_TIMEOUT_MS = 150_000;
const CONVERGE_MS = 60_000;

type Programmed = Pick<Condition, 'status' | 'reason' | 'message'>;

async function programmed(lab: Lab, p: EgressPolicyWire): Promise<Programmed | undefined> {
  return condition(await policyStatus(lab, p), 'Programmed');
}

async function waitProgrammed(lab: Lab, p: EgressPolicyWire, want: { status: string; reason: string; message?: RegExp }, timeoutMs = CONVERGE_MS): Promise<Programmed> {
  return waitFor(`Programmed=${want.status} (${want.reason})`, timeoutMs, async () => {
    const c = await programmed(lab, p);
    if (c?.status === want.status && c.reason === want.reason && (!want.message || want.message.test(c.message))) return c;
    throw new Error(JSON.stringify(c));
  });
}

/**
 * `kubectl get egresspolicy` as a user reads it: the header and the row of one policy, cut into
 * cells where the header's columns start (an empty cell, such as IPV6 here, is blank).
 */
async function getRow(lab: Lab, namespace: string, name: string): Promise<{ header: string[]; row: string[] }> {
  const lines = (await kubectl(lab, ['get', 'egresspolicy', '-n', namespace])).replace(/\n+$/, '').split('\n');
  const starts = [...lines[0]!.matchAll(/\S+/g)].map((m) => m.index!);
  const cells = (l: string) => starts.map((at, i) => l.slice(at, starts[i + 1] ?? l.length).trim());
  const row = lines
    .slice(1)
    .map(cells)
    .find((c) => c[0] === name);
  if (!row) throw new Error(`no row for ${name} in:\n${lines.join('\n')}`);
  return { header: cells(lines[0]!), row };
}

function column(table: { header: string[]; row: string[] }, name: string): string | undefined {
  return table.row[table.header.indexOf(name)];
}

/** Writes to sluice's resources and Events between two counts (Lease renewals left out). */
function sluiceWrites(before: WriteCounts, after: WriteCounts): Record<string, number> {
  return Object.fromEntries(Object.entries(writesBetween(before, after)).filter(([r]) => !isLeaseWrite(r) && (r.includes('egress.sluice.dev') || r === 'events')));
}

/** Waits until nothing of sluice's has been written for `quietMs`, then returns the counts. */
async function settledWrites(lab: Lab, quietMs = 3_000): Promise<WriteCounts> {
  let last = await apiWrites(lab);
  for (let stable = 0; stable < quietMs; stable += 500) {
    await sleep(500);
    const now = await apiWrites(lab);
    if (Object.keys(sluiceWrites(last, now)).length > 0) stable = -500;
    last = now;
  }
  return last;
}

async function resyncRepairs(lab: Lab, node: string): Promise<Record<string, number>> {
  const ip = (await lab.state()).nodes.find((n) => n.name === node)!.ips[0]!;
  const r = await lab.exec({ node }, ['curl', '-sS', '--max-time', '5', `http://${ip}:${AGENT_METRICS_PORT}/metrics`]);
  const out: Record<string, number> = {};
  for (const m of r.stdout.matchAll(/^sluice_resync_kernel_writes_total\{subsystem="([^"]+)"\} (\d+)$/gm)) out[m[1]!] = Number(m[2]);
  return out;
}

describe('Programmed end to end', { skip: scenarioSkip, timeout: 12 * 60_000 }, () => {
  let env: ScenarioLab;

  before(
    async () => {
      env = await ScenarioLab.up('prog', {
        workers: 2,
        gateways: 1,
        pods: [
          { namespace: 'default', name: 'web-1', labels: { app: 'web' }, node: WORKER_1 },
          { namespace: 'default', name: 'idle', labels: { app: 'idle' }, node: WORKER_2 },
        ],
      });
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

  test('kubectl shows Ready and Programmed; a failed apply on one worker turns Programmed False naming it, and True again once repaired', { timeout: SCENARIO_TIMEOUT_MS }, (t) =>
    env.scenario(async (s) => {
      const p = egressPolicy('default', 'web', { egressGatewayName: GATEWAY_NAME, appliedTo: appSelector('web') });
      const eip = env.defaultEipV4;
      const hasTunnel = async (node: string) => (await s.lab.exec({ node }, ['ip', 'link', 'show', 'dev', 'egress.vxlan'], { allowFailure: true })).exitCode === 0;
      assert.equal(await hasTunnel(WORKER_2), true, `${WORKER_2} has its tunnel device before any pod is selected there (every node has one)`);

      // 1. created: Programmed once the gateway node and worker-1 applied it
      const watch = await watchPolicy(s.lab, 'default', 'web');
      try {
        const before = await apiWrites(s.lab);
        await s.apply(p);
        const on = await waitProgrammed(s.lab, p, { status: 'True', reason: 'Programmed' });
        assert.match(on.message, /gateway node "gateway-1"/);
        const table = await getRow(s.lab, 'default', 'web');
        assert.deepEqual(table.header, ['NAME', 'GATEWAY', 'IPV4', 'IPV6', 'EGRESSTUNNEL', 'READY', 'PROGRAMMED', 'AGE']);
        assert.deepEqual([column(table, 'IPV4'), column(table, 'READY'), column(table, 'PROGRAMMED')], [eip, 'True', 'True'], table.row.join(' '));
        await expectLeavesAs(s.lab, 'default/web-1', eip);
        const created = watch.first((e) => e.type === 'ADDED');
        const programmedAt = watch.first((e) => conditionOf(e, 'Programmed')?.status === 'True');
        assert.ok(created && programmedAt, `watch saw ${watch.events.length} events`);
        const status = await policyStatus(s.lab, p);
        const server =
          (Date.parse(condition(status, 'Programmed')!.lastTransitionTime) -
            Date.parse((await kubectlJson<EgressPolicyWire>(s.lab, ['get', 'egresspolicy', 'web', '-n', 'default'])).metadata!.creationTimestamp!)) /
          1000;
        t.diagnostic(
          `Programmed True ${programmedAt.at - created.at} ms after the policy was stored at ${new Date(created.at).toISOString()} (watch next to the API server); lastTransitionTime - creationTimestamp = ${server} s`,
        );
        t.diagnostic(`Programmed transitions seen: ${watch.events.map((e) => `${e.type} ${conditionOf(e, 'Programmed')?.reason ?? '-'} +${e.at - created.at}ms`).join(', ')}`);
        t.diagnostic(`API writes for the new policy, until quiet: ${JSON.stringify(sluiceWrites(before, await settledWrites(s.lab)))}`);
      } finally {
        watch.stop();
      }

      // 2. a leftover VXLAN device on worker-2 takes sluice's VNI and port the moment its own device
      // is deleted (before the agent's repair can put it back); then a selected pod lands there
      const takeOver = `ip link del egress.vxlan; ip link add ${LEFTOVER} type vxlan id ${VNI} dstport ${VXLAN_PORT} dev eth0 nolearning`;
      await waitFor(
        'the leftover device to take the VNI',
        30_000,
        async () => ((await s.lab.exec({ node: WORKER_2 }, ['sh', '-c', takeOver], { allowFailure: true })).exitCode === 0 ? true : undefined),
        500,
      );
      let breakAt = await apiWrites(s.lab);
      await s.addPod({ namespace: 'default', name: 'web-2', labels: { app: 'web' }, node: WORKER_2 });
      const off = await waitProgrammed(s.lab, p, {
        status: 'False',
        reason: 'ApplyFailed',
        message: /^not programmed on worker-2: apply failed with EGW_ERR_NETLINK: links: .*VXLAN device with the specified VNI already exists/,
      });
      assert.doesNotMatch(off.message, /worker-1|gateway-1/, 'only the node that failed is named');
      t.diagnostic(`Programmed: ${off.message}`);
      const broken = await getRow(s.lab, 'default', 'web');
      assert.deepEqual([column(broken, 'READY'), column(broken, 'PROGRAMMED')], ['True', 'False']);
      const tunnels = (await kubectl(s.lab, ['get', 'egresstunnels'])).trim().split('\n');
      t.diagnostic(tunnels.join('\n'));
      assert.match(tunnels.find((l) => l.startsWith(`${WORKER_2} `)) ?? '', /\sFailed\s*$/, 'kubectl get egresstunnels shows the failed apply');
      const events = await kubectlJson<{ items: Array<{ reason: string; type: string; message: string; involvedObject: { name: string } }> }>(s.lab, [
        'get',
        'events',
        '-n',
        'default',
      ]);
      assert.ok(
        events.items.some((e) => e.reason === 'ApplyFailed' && e.type === 'Warning' && e.involvedObject.name === 'web' && e.message.includes(WORKER_2)),
        'a Warning Event on the policy',
      );
      t.diagnostic(`API writes from the pod to Programmed=False, until quiet: ${JSON.stringify(sluiceWrites(breakAt, await settledWrites(s.lab)))}`);

      // a worker that keeps failing writes nothing more while nothing changes (its retries report the same)
      breakAt = await apiWrites(s.lab);
      await sleep(10_000);
      const whileBroken = sluiceWrites(breakAt, await apiWrites(s.lab));
      t.diagnostic(`API writes in 10 s of a failing worker: ${JSON.stringify(whileBroken)}`);
      assert.deepEqual(whileBroken, {});

      // 3. repaired: True again, and web-2 leaves with the EIP
      const repairAt = await apiWrites(s.lab);
      const repaired = Date.now();
      await s.lab.exec({ node: WORKER_2 }, ['ip', 'link', 'del', LEFTOVER]);
      await waitProgrammed(s.lab, p, { status: 'True', reason: 'Programmed' }, 90_000);
      t.diagnostic(`Programmed True again ${Date.now() - repaired} ms after the device was removed (the agent retries with backoff)`);
      const fixed = await getRow(s.lab, 'default', 'web');
      assert.deepEqual([column(fixed, 'READY'), column(fixed, 'PROGRAMMED')], ['True', 'True']);
      await expectLeavesAs(s.lab, 'default/web-2', eip);
      t.diagnostic(`API writes from the repair to Programmed=True, until quiet: ${JSON.stringify(sluiceWrites(repairAt, await settledWrites(s.lab)))}`);
    }),
  );

  test(
    "the resync repairs a rule deleted behind the agent's back, counts it in sluice_resync_kernel_writes_total, and writes nothing to the API",
    { timeout: SCENARIO_TIMEOUT_MS },
    (t) =>
      env.scenario(async (s) => {
        const state = await s.lab.state();
        const node = state.nodes.find((n) => n.name === WORKER_1)!;
        await s.lab.replaceDaemon(agentDaemon(state, node, { ...state.agent, args: [...(state.agent?.args ?? []), '--resync-interval', String(RESYNC_SECONDS)] }));
        const p = egressPolicy('default', 'web-drift', { egressGatewayName: GATEWAY_NAME, appliedTo: appSelector('web') });
        await s.apply(p);
        await waitProgrammed(s.lab, p, { status: 'True', reason: 'Programmed' });
        await expectLeavesAs(s.lab, 'default/web-1', env.defaultEipV4);
        const rules = async () => (await s.lab.exec({ node: WORKER_1 }, ['ip', 'rule', 'show', 'pref', '9001'])).stdout.trim();
        const rule = await rules();
        assert.match(rule, /fwmark/, 'worker-1 routes marked packets to the gateway');
        const before = await resyncRepairs(s.lab, WORKER_1);
        const writesBefore = await settledWrites(s.lab);
        await s.lab.exec({ node: WORKER_1 }, ['ip', 'rule', 'del', 'pref', '9001']);
        const deleted = Date.now();
        await waitFor('the resync to put the rule back', (RESYNC_SECONDS + 20) * 1000, async () => ((await rules()) === rule ? true : undefined), 100);
        t.diagnostic(`rule back ${Date.now() - deleted} ms after it was deleted (resync every ${RESYNC_SECONDS} s)`);
        const after = await waitFor('the repair to be counted', 10_000, async () => {
          const now = await resyncRepairs(s.lab, WORKER_1);
          return (now.routes ?? 0) > (before.routes ?? 0) ? now : undefined;
        });
        t.diagnostic(`sluice_resync_kernel_writes_total on ${WORKER_1}: ${JSON.stringify(before)} -> ${JSON.stringify(after)}`);
        await expectLeavesAs(s.lab, 'default/web-1', env.defaultEipV4);
        assert.equal((await programmed(s.lab, p))?.status, 'True');
        assert.deepEqual(sluiceWrites(writesBefore, await apiWrites(s.lab)), {}, 'a repair the cluster cannot see costs no API write');
      }),
  );
});
