/**
 * End-to-end policy scenarios on one shared cluster (1 worker, 2 gateway nodes): every object goes
 * through kubectl → API server → controller → agents → kernel, and every assertion is about what
 * the external echo service saw, what the controller wrote, or what is left in a node's kernel.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import type { EgressEndpointSliceWire, EgressGatewayWire } from '../../lib/api/wire.js';
import { eipV4, podIp, spreadEips } from './support/addresses.js';
import { ALL_PROTOS, assertLeavesAs, expectLeavesAs } from './support/echo.js';
import { kubectl, kubectlJson, kubectlResult, manifestStream } from './support/kubectl.js';
import { appSelector, egressClusterPolicy, egressPolicy } from './support/manifests.js';
import { holdersOf, sluiceTable } from './support/node-state.js';
import { waitAssigned } from './support/policy-status.js';
import { GATEWAY_NAME, POOL_SIZE, ScenarioLab, scenarioSkip } from './support/scenario-lab.js';
import { explainLive, sluiceOnNode } from './support/sluice-cli.js';
import { waitFor } from './support/wait.js';
import { crossObjectScenarios } from './parity/cross-object.js';
import { endpointSliceScenarios } from './parity/endpoint-slices.js';
import { tunnelScenarios } from './parity/tunnels.js';

/** The one worker: the shared pods run there. */
const WORKER = 'worker-1';
const WEB = 'default/web';
const OTHER = 'default/other';
const TEAM_A = 'team-a/app';
const TEAM_B = 'team-b/app';
/**
 * A second address of the external host, for destination rules (the echo service listens on all).
 * Not probed over UDP: the echo service answers datagrams from its primary address.
 */
const ALT_DEST = '198.18.0.4';
const SCENARIO_TIMEOUT_MS = 90_000;
const gw = GATEWAY_NAME;

describe('egress policies end to end', { skip: scenarioSkip, timeout: 15 * 60_000 }, () => {
  let env: ScenarioLab;

  before(
    async () => {
      env = await ScenarioLab.up('pol', {
        workers: 1,
        gateways: 2,
        pods: [
          { namespace: 'default', name: 'web', labels: { app: 'web' }, node: WORKER },
          { namespace: 'default', name: 'other', labels: { app: 'other' }, node: WORKER },
          { namespace: 'team-a', name: 'app', labels: { app: 'app' }, node: WORKER },
          { namespace: 'team-b', name: 'app', labels: { app: 'app' }, node: WORKER },
        ],
        namespaceLabels: { 'team-a': { team: 'a' }, 'team-b': { team: 'b' } },
      });
      const prefix = env.info.lan.ipv4Cidr.split('/')[1];
      await env.lab.exec({ host: 'ext' }, ['ip', 'addr', 'add', `${ALT_DEST}/${prefix}`, 'dev', 'eth0']);
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

  test('podSelector: the selected pod leaves with the EIP over http, tcp and udp; others by their node', { timeout: SCENARIO_TIMEOUT_MS }, () =>
    env.scenario(async (s) => {
      const p = egressPolicy('default', 'by-label', { egressGatewayName: gw, appliedTo: appSelector('web') });
      await s.apply(p);
      const at = await waitAssigned(s.lab, p);
      assert.equal(at.ipv4, env.defaultEipV4, 'no egressIP: the gateway default EIP');
      assert.ok(env.gatewayNodes.includes(at.node), `carried by a gateway node, not ${at.node}`);
      await expectLeavesAs(s.lab, WEB, at.ipv4!, { protos: ALL_PROTOS });
      await assertLeavesAs(s.lab, OTHER, env.nodeIpOf(OTHER), { protos: ALL_PROTOS });
    }),
  );

  test('podSubnet: the pod whose address is in the subnet leaves with the EIP', { timeout: SCENARIO_TIMEOUT_MS }, () =>
    env.scenario(async (s) => {
      const p = egressPolicy('default', 'by-subnet', { egressGatewayName: gw, appliedTo: { podSubnet: [`${podIp(env.info, WEB)}/32`] } });
      await s.apply(p);
      const at = await waitAssigned(s.lab, p);
      await expectLeavesAs(s.lab, WEB, at.ipv4!, { protos: ['http', 'udp'] });
      await assertLeavesAs(s.lab, OTHER, env.nodeIpOf(OTHER));
    }),
  );

  test("a namespaced podSubnet takes only its own namespace's pods, even at the highest priority; explain agrees", { timeout: SCENARIO_TIMEOUT_MS }, () =>
    env.scenario(async (s) => {
      const everyPod = `${podIp(env.info, WEB).split('.').slice(0, 2).join('.')}.0.0/16`;
      const p = egressPolicy('default', 'grab-all', { egressGatewayName: gw, priority: 1000, appliedTo: { podSubnet: [everyPod] } });
      await s.apply(p);
      const at = await waitAssigned(s.lab, p);
      await expectLeavesAs(s.lab, WEB, at.ipv4!, { protos: ['http', 'udp'] });
      await assertLeavesAs(s.lab, TEAM_A, env.nodeIpOf(TEAM_A), { protos: ['http', 'udp'] });
      const [tenant] = await explainLive(s.lab, TEAM_A, [undefined]);
      assert.deepEqual([tenant!.path, tenant!.policy], ['node', undefined], tenant!.summary);
    }),
  );

  test('EgressClusterPolicy with namespaceSelector: only pods in the selected namespaces', { timeout: SCENARIO_TIMEOUT_MS }, () =>
    env.scenario(async (s) => {
      const p = egressClusterPolicy('team-a-apps', { egressGatewayName: gw, appliedTo: { ...appSelector('app'), namespaceSelector: { matchLabels: { team: 'a' } } } });
      await s.apply(p);
      const at = await waitAssigned(s.lab, p);
      await expectLeavesAs(s.lab, TEAM_A, at.ipv4!, { protos: ['http', 'tcp'] });
      await assertLeavesAs(s.lab, TEAM_B, env.nodeIpOf(TEAM_B), { protos: ['http', 'tcp'] });
      const slices = await kubectlJson<{ items: EgressEndpointSliceWire[] }>(s.lab, ['get', 'egressclusterendpointslices', '-l', 'egress.sluice.dev/cluster-policy=team-a-apps']);
      assert.deepEqual(
        slices.items.flatMap((x) => x.endpoints ?? []).map((e) => `${e.ns}/${e.pod}`),
        [TEAM_A],
      );
    }),
  );

  test('destSubnet: the listed destination is reached through the EIP, another one by the node IP', { timeout: SCENARIO_TIMEOUT_MS }, () =>
    env.scenario(async (s) => {
      const echo = env.info.echo.ipv4;
      const p = egressPolicy('default', 'only-echo', { egressGatewayName: gw, appliedTo: appSelector('web'), destSubnet: [`${echo}/32`] });
      await s.apply(p);
      const at = await waitAssigned(s.lab, p);
      await expectLeavesAs(s.lab, WEB, at.ipv4!, { protos: ['http', 'udp'] });
      await assertLeavesAs(s.lab, WEB, env.nodeIpOf(WEB), { dest: ALT_DEST, protos: ['http', 'tcp'] });
      // `sluice explain` over the live objects tells the same story as the echo service.
      const [listed, other] = await explainLive(s.lab, WEB, [echo, ALT_DEST]);
      assert.deepEqual([listed!.path, listed!.leavesAs, listed!.policy, listed!.gatewayNode], ['gateway-tunnel', at.ipv4, 'default/only-echo', at.node], listed!.summary);
      assert.deepEqual([other!.path, other!.leavesAs], ['node', env.nodeIpOf(WEB)], other!.summary);
    }),
  );

  test('excludeDestSubnet: the excluded destination is reached by the node IP, the rest through the EIP', { timeout: SCENARIO_TIMEOUT_MS }, () =>
    env.scenario(async (s) => {
      const p = egressPolicy('default', 'not-alt', { egressGatewayName: gw, appliedTo: appSelector('web'), excludeDestSubnet: [`${ALT_DEST}/32`] });
      await s.apply(p);
      const at = await waitAssigned(s.lab, p);
      await expectLeavesAs(s.lab, WEB, at.ipv4!, { protos: ['http', 'tcp'] });
      await assertLeavesAs(s.lab, WEB, env.nodeIpOf(WEB), { dest: ALT_DEST, protos: ['http', 'tcp'] });
    }),
  );

  test('explicit egressIP.ipv4: the pod leaves with that address, held by the carrying gateway only', { timeout: SCENARIO_TIMEOUT_MS }, () =>
    env.scenario(async (s) => {
      const eip = eipV4(env.info, 10);
      const p = egressPolicy('default', 'explicit', { egressGatewayName: gw, egressIP: { ipv4: eip }, appliedTo: appSelector('web') });
      await s.apply(p);
      const at = await waitAssigned(s.lab, p, { ipv4: eip });
      await expectLeavesAs(s.lab, WEB, eip, { protos: ALL_PROTOS });
      assert.deepEqual(await holdersOf(s.lab, env.gatewayNodes, eip), [at.node]);
    }),
  );

  test('default EIP: policies with allocatorPolicy default share the gateway default EIP', { timeout: SCENARIO_TIMEOUT_MS }, () =>
    env.scenario(async (s) => {
      const a = egressPolicy('default', 'shared-a', { egressGatewayName: gw, egressIP: { allocatorPolicy: 'default' }, appliedTo: appSelector('web') });
      const b = egressPolicy('default', 'shared-b', { egressGatewayName: gw, appliedTo: appSelector('other') });
      await s.apply(a, b);
      const [atA, atB] = [await waitAssigned(s.lab, a), await waitAssigned(s.lab, b)];
      assert.deepEqual([atA.ipv4, atB.ipv4], [env.defaultEipV4, env.defaultEipV4]);
      assert.equal(atA.node, atB.node, 'one EIP, one gateway node');
      await expectLeavesAs(s.lab, WEB, env.defaultEipV4);
      await expectLeavesAs(s.lab, OTHER, env.defaultEipV4);
    }),
  );

  test('rr: two policies get two EIPs of their own from the pool', { timeout: SCENARIO_TIMEOUT_MS }, () =>
    env.scenario(async (s) => {
      const a = egressPolicy('default', 'rr-a', { egressGatewayName: gw, egressIP: { allocatorPolicy: 'rr' }, appliedTo: appSelector('web') });
      const b = egressPolicy('default', 'rr-b', { egressGatewayName: gw, egressIP: { allocatorPolicy: 'rr' }, appliedTo: appSelector('other') });
      await s.apply(a, b);
      const [atA, atB] = [await waitAssigned(s.lab, a), await waitAssigned(s.lab, b)];
      const pool = Array.from({ length: POOL_SIZE }, (_, i) => eipV4(env.info, i));
      for (const at of [atA, atB]) {
        assert.ok(pool.includes(at.ipv4!), `${at.ipv4} is in the pool`);
        assert.notEqual(at.ipv4, env.defaultEipV4, 'rr does not take the default EIP');
      }
      assert.notEqual(atA.ipv4, atB.ipv4, 'each rr policy has its own EIP');
      await expectLeavesAs(s.lab, WEB, atA.ipv4!, { protos: ['http', 'tcp'] });
      await expectLeavesAs(s.lab, OTHER, atB.ipv4!, { protos: ['http', 'tcp'] });
    }),
  );

  test("useNodeIP: the pod leaves through the gateway node with that node's own IP", { timeout: SCENARIO_TIMEOUT_MS }, () =>
    env.scenario(async (s) => {
      const p = egressPolicy('default', 'node-ip', { egressGatewayName: gw, egressIP: { useNodeIP: true }, appliedTo: appSelector('web') });
      await s.apply(p);
      const at = await waitAssigned(s.lab, p);
      assert.ok(env.gatewayNodes.includes(at.node));
      const gatewayIp = env.info.nodes.find((n) => n.name === at.node)!.ips[0]!;
      assert.notEqual(gatewayIp, env.nodeIpOf(WEB));
      await expectLeavesAs(s.lab, WEB, gatewayIp, { protos: ALL_PROTOS });
      await assertLeavesAs(s.lab, OTHER, env.nodeIpOf(OTHER));
    }),
  );

  test('two gateway nodes share the policies: spread over both, each leaving with its own EIP', { timeout: SCENARIO_TIMEOUT_MS }, () =>
    env.scenario(async (s) => {
      // EIPs that rendezvous hashing gives to each gateway node (arbitrary ones could all land on
      // one), so the controller and every agent must agree on where each one lives.
      const eips = spreadEips(env.info, env.gatewayNodes, 3, 10, POOL_SIZE);
      const policy = (ns: string, name: string, i: number, app: string) =>
        egressPolicy(ns, name, { egressGatewayName: gw, egressIP: { ipv4: eips[i]!.ip }, appliedTo: appSelector(app) });
      // A pod on the gateway node that carries its policy is SNATed right there, without the tunnel.
      await s.addPod({ namespace: 'default', name: 'on-gateway', labels: { app: 'on-gateway' }, node: eips[4]!.node });
      const cases = [
        { pod: WEB, policy: policy('default', 'spread-web', 0, 'web') },
        { pod: OTHER, policy: policy('default', 'spread-other', 1, 'other') },
        { pod: TEAM_A, policy: policy('team-a', 'spread', 2, 'app') },
        { pod: TEAM_B, policy: policy('team-b', 'spread', 3, 'app') },
        { pod: 'default/on-gateway', policy: policy('default', 'spread-local', 4, 'on-gateway') },
      ];
      await s.apply(...cases.map((c) => c.policy));
      const placed = [];
      for (const [i, c] of cases.entries()) placed.push({ ...c, at: await waitAssigned(s.lab, c.policy, { ipv4: eips[i]!.ip, node: eips[i]!.node }) });
      assert.deepEqual([...new Set(placed.map((p) => p.at.node))].sort(), [...env.gatewayNodes].sort(), 'the policies are spread over both gateway nodes');
      for (const p of placed) await expectLeavesAs(s.lab, p.pod, p.at.ipv4!, { protos: ['http', 'udp'] });
      for (const p of placed) assert.deepEqual(await holdersOf(s.lab, env.gatewayNodes, p.at.ipv4!), [p.at.node], `${p.at.ipv4} is on ${p.at.node} only`);
      // The gateway's status lists each EIP under the node that carries it.
      const status = (await kubectlJson<EgressGatewayWire>(s.lab, ['get', 'egressgateway', gw])).status;
      for (const p of placed) {
        const entry = status?.nodeList?.find((n) => n.name === p.at.node)?.eips?.find((e) => e.ipv4 === p.at.ipv4);
        assert.deepEqual(entry?.policies, [{ name: p.policy.metadata!.name!, namespace: p.policy.metadata!.namespace! }], `status.nodeList of ${p.at.node}`);
      }
    }),
  );

  test(
    'a higher-priority policy moves the pod to a new EIP (egressIP cannot be edited); delete restores the direct path and leaves nothing behind',
    { timeout: SCENARIO_TIMEOUT_MS },
    () =>
      env.scenario(async (s) => {
        const [first, second] = [eipV4(env.info, 15), eipV4(env.info, 16)];
        const old = egressPolicy('default', 'moving-old', { egressGatewayName: gw, egressIP: { ipv4: first }, appliedTo: appSelector('web') });
        await s.apply(old);
        await waitAssigned(s.lab, old, { ipv4: first });
        await expectLeavesAs(s.lab, WEB, first);

        const p = egressPolicy('default', 'moving', { egressGatewayName: gw, egressIP: { ipv4: second }, priority: 10, appliedTo: appSelector('web') });
        await s.apply(p);
        const at = await waitAssigned(s.lab, p, { ipv4: second });
        await kubectl(s.lab, ['delete', 'egresspolicy', 'moving-old', '-n', 'default']);
        await expectLeavesAs(s.lab, WEB, second, { protos: ['http', 'tcp'] });
        await waitFor(`${first} to leave every gateway`, 15_000, async () => ((await holdersOf(s.lab, env.gatewayNodes, first)).length === 0 ? true : undefined));

        await kubectl(s.lab, ['delete', 'egresspolicy', 'moving', '-n', 'default']);
        await expectLeavesAs(s.lab, WEB, env.nodeIpOf(WEB), { protos: ['http', 'tcp'] });
        const diff = await waitFor(`sluice diff on ${at.node} to find the kernel matching the plan`, 15_000, async () => {
          const r = await sluiceOnNode(s.lab, at.node, ['diff']);
          if (r.exitCode !== 0) throw new Error(`exit ${r.exitCode}: ${r.stdout.trim()} ${r.stderr.trim()}`);
          return r.stdout;
        });
        assert.match(diff, /kernel matches the plan/);
        for (const node of [...env.gatewayNodes, WORKER]) {
          const table = await sluiceTable(s.lab, node);
          assert.doesNotMatch(table, /default\/moving/, `no rule of the deleted policy on ${node}`);
          assert.ok(!table.includes(second) && !table.includes(first), `no EIP of the deleted policy in ${node}'s nft table`);
        }
        assert.deepEqual(await holdersOf(s.lab, env.gatewayNodes, second), [], `${second} left ${at.node}`);
      }),
  );

  test('a new pod gets the EIP; a deleted pod leaves the endpoint slice', { timeout: SCENARIO_TIMEOUT_MS }, () =>
    env.scenario(async (s) => {
      const p = egressPolicy('default', 'churn', { egressGatewayName: gw, appliedTo: appSelector('churn') });
      await s.apply(p);
      const at = await waitAssigned(s.lab, p);
      const slicePods = async () => {
        const list = parseYaml(await kubectl(s.lab, ['get', 'egressendpointslices', '-n', 'default', '-l', 'egress.sluice.dev/policy=churn', '-o', 'yaml'])) as {
          items: EgressEndpointSliceWire[];
        };
        return list.items
          .flatMap((x) => x.endpoints ?? [])
          .map((e) => `${e.ns}/${e.pod}`)
          .sort();
      };
      const sliceIs = (want: string[]) =>
        waitFor(`the slice of churn to list ${want.join(', ') || 'nothing'}`, 15_000, async () => {
          const got = await slicePods();
          if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`lists ${got.join(', ') || 'nothing'}`);
          return got;
        });

      await s.addPod({ namespace: 'default', name: 'churn-1', labels: { app: 'churn' } });
      await expectLeavesAs(s.lab, 'default/churn-1', at.ipv4!);
      await s.addPod({ namespace: 'default', name: 'churn-2', labels: { app: 'churn' } });
      await expectLeavesAs(s.lab, 'default/churn-2', at.ipv4!);
      await sliceIs(['default/churn-1', 'default/churn-2']);

      await s.lab.deletePod('default/churn-1');
      await sliceIs(['default/churn-2']);
      await assertLeavesAs(s.lab, 'default/churn-2', at.ipv4!);
    }),
  );

  test('invalid objects are rejected or reported with clear reasons while a valid policy keeps working', { timeout: SCENARIO_TIMEOUT_MS }, () =>
    env.scenario(async (s) => {
      const valid = egressPolicy('default', 'valid', { egressGatewayName: gw, appliedTo: appSelector('web') });
      await s.apply(valid);
      const at = await waitAssigned(s.lab, valid);
      await expectLeavesAs(s.lab, WEB, at.ipv4!);

      // Schema-invalid: kubectl's usual message, naming each field, and nothing is created.
      const badIp = egressPolicy('default', 'bad-ip', {
        egressGatewayName: gw,
        egressIP: { ipv4: '300.1.2.3' },
        appliedTo: { ...appSelector('other'), podSubnet: ['10.244.0.0/16'] },
      });
      const r1 = await kubectlResult(s.lab, ['apply', '-f', '-'], manifestStream([badIp]));
      assert.notEqual(r1.exitCode, 0);
      assert.match(r1.stderr, /The EgressPolicy "bad-ip" is invalid: /);
      assert.match(r1.stderr, /spec\.egressIP\.ipv4: Invalid value: "300\.1\.2\.3"/);
      assert.match(r1.stderr, /spec\.appliedTo: Invalid value: "object": set exactly one of podSelector or podSubnet/);
      const badMix = egressPolicy('default', 'bad-mix', { egressGatewayName: gw, egressIP: { useNodeIP: true, ipv4: at.ipv4! }, appliedTo: appSelector('other') });
      const r2 = await kubectlResult(s.lab, ['apply', '-f', '-'], manifestStream([badMix]));
      assert.notEqual(r2.exitCode, 0);
      assert.match(r2.stderr, /The EgressPolicy "bad-mix" is invalid: spec\.egressIP: Invalid value: "object": useNodeIP cannot be combined with ipv4 or ipv6/);
      const listed = await kubectl(s.lab, ['get', 'egresspolicy', '-n', 'default', '-o', 'name']);
      assert.doesNotMatch(listed, /bad-/, 'rejected objects are not stored');

      // Schema-valid but unservable: accepted, then Ready=False with a machine-readable reason.
      const noGateway = egressPolicy('default', 'no-gateway', { egressGatewayName: 'missing', appliedTo: appSelector('other') });
      const outside = egressPolicy('team-b', 'outside-pool', { egressGatewayName: gw, egressIP: { ipv4: eipV4(env.info, POOL_SIZE + 30) }, appliedTo: appSelector('app') });
      await s.apply(noGateway, outside);
      const readyOf = (name: string, ns: string) =>
        waitFor(`${ns}/${name} to get a Ready condition`, 20_000, async () => {
          const path = '{.status.conditions[?(@.type=="Ready")].status}|{.status.conditions[?(@.type=="Ready")].reason}|{.status.conditions[?(@.type=="Ready")].message}';
          const [status = '', reason = '', message = ''] = (await kubectl(s.lab, ['get', 'egresspolicy', name, '-n', ns, '-o', `jsonpath=${path}`])).split('|');
          return reason ? { status, reason, message } : undefined;
        });
      const missing = await readyOf('no-gateway', 'default');
      assert.deepEqual([missing.status, missing.reason], ['False', 'GatewayNotFound']);
      assert.match(missing.message, /"missing"/);
      const notInPool = await readyOf('outside-pool', 'team-b');
      assert.deepEqual([notInPool.status, notInPool.reason], ['False', 'IPNotInPool']);
      assert.ok(notInPool.message.includes(outside.spec!.egressIP!.ipv4!), notInPool.message);

      // Fail open: their pods keep the node's normal path; the valid policy is untouched.
      await assertLeavesAs(s.lab, OTHER, env.nodeIpOf(OTHER));
      await assertLeavesAs(s.lab, TEAM_B, env.nodeIpOf(TEAM_B));
      await assertLeavesAs(s.lab, WEB, at.ipv4!, { protos: ALL_PROTOS });
    }),
  );

  // What a spidernet user relies on, on the same cluster (parity/).
  endpointSliceScenarios(() => env, SCENARIO_TIMEOUT_MS);
  tunnelScenarios(() => env, SCENARIO_TIMEOUT_MS);
  crossObjectScenarios(() => env, SCENARIO_TIMEOUT_MS);

  test('sluice status on a node shows its role, the policies it serves and the EIPs it holds', { timeout: SCENARIO_TIMEOUT_MS }, () =>
    env.scenario(async (s) => {
      const p = egressPolicy('default', 'visible', { egressGatewayName: gw, appliedTo: appSelector('web') });
      await s.apply(p);
      const at = await waitAssigned(s.lab, p);
      const eip = at.ipv4!;
      await expectLeavesAs(s.lab, WEB, eip);
      const esc = (x: string) => x.replace(/[./]/g, (c) => `\\${c}`);

      const [onGateway, onWorker] = await Promise.all([sluiceOnNode(s.lab, at.node, ['status']), sluiceOnNode(s.lab, WORKER, ['status'])]);
      assert.equal(onGateway.exitCode, 0, onGateway.stderr);
      assert.match(onGateway.stdout, new RegExp(`^node ${at.node}: gateway$`, 'm'));
      assert.match(onGateway.stdout, new RegExp(`^  ${esc(eip)} on eth0 for .*default/visible`, 'm'));

      assert.equal(onWorker.exitCode, 0, onWorker.stderr);
      assert.match(onWorker.stdout, new RegExp(`^node ${WORKER}: worker$`, 'm'));
      assert.match(onWorker.stdout, new RegExp(`^  default/visible  gateway=${gw} via ${at.node}  role=worker .*\\n +leaves as ${esc(eip)}$`, 'm'));
    }),
  );
});
