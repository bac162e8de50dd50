/**
 * Reconciliation on real kernels: reapplying writes nothing, a fresh process adopts what is
 * there, `sluice diff` sees hand edits, a removed policy leaves nothing of ours behind, and
 * state that is not ours stays byte-identical throughout.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Lab } from '../labkit/lab.js';
import type { LabInfo } from '../labkit/info.js';
import type { NodePlan } from '../../lib/planner/node-plan.js';
import { resolveConfig } from '../../lib/planner/config.js';
import { plan } from '../../lib/planner/plan.js';
import { policy, snapshotOf } from '../../lib/planner/testing/cluster.js';
import { applySnapshot, carrierOf, dataplaneSkip, eipsOf, nodeIp, upLab } from './dp-lab.js';
import { addForeignState, foreignState } from './foreign-state.js';
import { clusterDocs, GATEWAY_NAME, LAB_CONFIG, labSnapshot } from './lab-cluster.js';
import { addressesOn, echoAt, hasLink, nftCounters, nftShape, routesIn, rulesIn } from './probes.js';
import { applyPlan, diffPlan } from './sluice-cli.js';
import { STRUCTURE_CHAIN } from '../../lib/dataplane/nft/fingerprint.js';

/** Rules per chain the kernel holds for a plan: its chains, and the structure chain with the fingerprint rule. */
const kernelChains = (p: NodePlan): Record<string, number> => ({ ...Object.fromEntries(p.nft.chains.map((c) => [c.name, c.rules.length])), [STRUCTURE_CHAIN]: 1 });

const POLICY = policy('default', 'web', { egressGatewayName: GATEWAY_NAME, appliedTo: { podSelector: { matchLabels: { app: 'web' } } } });

describe('reconciling the kernel with plans', { skip: dataplaneSkip, timeout: 420_000 }, () => {
  let lab: Lab | undefined;
  let info: LabInfo;
  let plans: NodePlan[];
  let carrier: string;
  let eip: { 4: string; 6: string };
  const foreignBefore = new Map<string, Record<string, string>>();
  const planOf = (node: string) => plans.find((p) => p.node === node)!;

  before(async () => {
    lab = await upLab('reconcile', { ipv6: true });
    await lab.addPod({ namespace: 'default', name: 'client', labels: { app: 'web' }, node: 'worker-1' });
    info = await lab.info();
    for (const n of info.nodes) {
      await addForeignState(lab, n.name, { 4: info.echo.ipv4, 6: info.echo.ipv6! });
      foreignBefore.set(n.name, await foreignState(lab, n.name));
    }
    ({ plans } = await applySnapshot(lab, labSnapshot(info, { policies: [POLICY] }), { concurrent: true }));
    carrier = carrierOf(plans);
    eip = eipsOf(plans);
    assert.equal((await echoAt(lab, { pod: 'default/client' }, info.echo.ipv4, 'http')).clientIP, eip[4]);
  });

  after(async () => {
    await lab?.down();
  });

  test('reapplying the same plans in a fresh process adopts the kernel state: 0 writes, nothing replaced', async () => {
    const counted = async () => (await nftCounters(lab!, 'worker-1')).get('worker default/web') ?? 0;
    const marked = await counted();
    assert.ok(marked > 0, 'the worker rule counted the first echo');
    const reports = await Promise.all(plans.map((p) => applyPlan(lab!, p)));
    plans.forEach((p, i) => {
      for (const [name, sub] of Object.entries(reports[i]!.subsystems)) assert.equal(sub.writes, 0, `${p.node} ${name}: ${JSON.stringify(sub)}`);
      assert.equal(reports[i]!.writes, 0, p.node);
    });
    // A replaced table would have reset its counters.
    assert.ok((await counted()) >= marked, 'the nft table was replaced');
    assert.equal((await echoAt(lab!, { pod: 'default/client' }, info.echo.ipv4, 'tcp')).clientIP, eip[4]);
  });

  test('sluice diff: 0 after apply, 1 after hand edits (route, EIP, nft rule), 0 again after apply', async () => {
    const clean = await Promise.all(plans.map((p) => diffPlan(lab!, p)));
    plans.forEach((p, i) => assert.deepEqual(clean[i], { exitCode: 0, lines: [] }, p.node));

    const worker = planOf('worker-1');
    const route = worker.routing.routes.find((r) => r.family === 4 && r.dst === 'default')!;
    await lab!.exec({ node: 'worker-1' }, ['ip', 'route', 'del', 'default', 'table', String(route.table)]);
    const handle = await ruleHandle(lab!, 'worker-1', 'worker default/web');
    await lab!.exec({ node: 'worker-1' }, ['nft', 'delete', 'rule', 'inet', 'sluice', 'egress_mark', 'handle', String(handle)]);
    await lab!.exec({ node: carrier }, ['ip', 'addr', 'del', `${eip[4]}/32`, 'dev', 'eth0']);

    const [onWorker, onCarrier] = await Promise.all([diffPlan(lab!, worker), diffPlan(lab!, planOf(carrier))]);
    assert.equal(onWorker.exitCode, 1);
    const texts = onWorker.lines.map((l) => l.text);
    assert.ok(
      texts.some((t) => t.startsWith(`missing route table ${route.table} default via ${route.via}`)),
      texts.join('\n'),
    );
    assert.ok(
      texts.some((t) => t.startsWith('changed nft chain egress_mark')),
      texts.join('\n'),
    );
    assert.equal(onCarrier.exitCode, 1);
    assert.ok(
      onCarrier.lines.some((l) => l.subsystem === 'address' && l.change === 'missing' && l.text.includes(eip[4])),
      JSON.stringify(onCarrier.lines),
    );

    await Promise.all(
      ['worker-1', carrier].map(async (node) => {
        const report = await applyPlan(lab!, planOf(node));
        assert.ok(report.writes > 0, `${node} repaired nothing`);
        assert.deepEqual(await diffPlan(lab!, planOf(node)), { exitCode: 0, lines: [] }, node);
      }),
    );
    assert.equal((await echoAt(lab!, { pod: 'default/client' }, info.echo.ipv4, 'udp')).clientIP, eip[4]);
  });

  test('a policy removed from the snapshot leaves nothing of ours but the empty table the plan keeps', async () => {
    const eips = [eip[4], eip[6]];
    ({ plans } = await applySnapshot(lab!, labSnapshot(info, { policies: [] })));
    const checkNode = async (p: NodePlan) => {
      // What the plan says is left: no policy, no EIP, no reply route; the tunnel towards the
      // eligible gateway nodes stays prepared; the table with its five chains.
      assert.equal(p.policies.length, 0);
      assert.deepEqual(p.eips, [], p.node);
      const replyTable = p.routing.ownedTables.min;
      assert.ok(
        p.routing.routes.every((r) => r.dst === 'default' && r.table !== replyTable),
        `${p.node}: only routes towards gateway nodes`,
      );
      assert.ok(
        p.routing.rules.every((r) => r.table !== replyTable),
        `${p.node}: no reply rule`,
      );
      assert.deepEqual(p.nft.chains.map((c) => c.name).sort(), ['egress_forward', 'egress_input', 'egress_mark', 'egress_snat', 'egress_unmark']);
      assert.ok(!p.nft.sets.some((s) => s.name.startsWith('p_')), p.node);

      const shape = await nftShape(lab!, p.node);
      assert.ok(shape, `${p.node} lost the table`);
      assert.deepEqual(shape.sets, p.nft.sets.map((s) => s.name).sort(), `${p.node} sets`);
      assert.deepEqual(shape.chains, kernelChains(p), `${p.node} rules per chain`);
      // No SNAT to an address is left; a node with a tunnel keeps only the rules that pin sources on it.
      const snat = p.nft.chains.find((c) => c.name === 'egress_snat')!.rules;
      assert.ok(!snat.some((r) => r.statements.some((st) => st.kind === 'snat')), `${p.node} SNATs nothing`);
      assert.equal(shape.chains['egress_snat'], p.vxlan ? 2 : 0, `${p.node} egress_snat`);
      assert.equal((await rulesIn(lab!, p.node, p.routing.ownedRulePriorities.min, p.routing.ownedRulePriorities.max)).length, p.routing.rules.length, `${p.node} ip rules`);
      assert.deepEqual(
        (await routesIn(lab!, p.node, p.routing.ownedTables.min, p.routing.ownedTables.max)).sort(),
        p.routing.routes.map((r) => `-${r.family} table ${r.table} ${r.dst}`).sort(),
        `${p.node} routes`,
      );
      const held = await addressesOn(lab!, p.node);
      assert.ok(!eips.some((ip) => held.includes(ip)), `${p.node} still holds an EIP: ${held.join(', ')}`);
      assert.equal(await hasLink(lab!, p.node, 'egress.vxlan'), p.vxlan !== undefined, `${p.node} tunnel device`);
      assert.deepEqual(await diffPlan(lab!, p), { exitCode: 0, lines: [] }, p.node);
    };
    await Promise.all(plans.map(checkNode));
    // Every node keeps its tunnel device, the gateway nodes as its peers, ready for the next policy.
    for (const p of plans) assert.ok(p.vxlan, `${p.node} keeps its tunnel`);
    assert.deepEqual(
      planOf('worker-1').vxlan!.peers.map((x) => x.node),
      info.nodes
        .filter((n) => n.role === 'gateway')
        .map((n) => n.name)
        .sort(),
    );
    assert.equal((await echoAt(lab!, { pod: 'default/client' }, info.echo.ipv4, 'http')).clientIP, nodeIp(info, 'worker-1'));
  });

  test('apply and diff use the nft table the plan names, and leave the default one alone', async () => {
    const node = 'gateway-1';
    // The same (policy-free) state as now, compiled for another table: only that table is new.
    const alt = plan(snapshotOf(clusterDocs(info, { policies: [] }), resolveConfig({ ...LAB_CONFIG, nftTable: 'sluice_alt' })), node);
    assert.equal(alt.nft.name, 'sluice_alt');
    const ours = await nftShape(lab!, node);
    try {
      const report = await applyPlan(lab!, alt);
      for (const [name, sub] of Object.entries(report.subsystems)) assert.equal(sub.writes > 0, name === 'nft', `${name}: ${JSON.stringify(sub)}`);
      assert.deepEqual(await diffPlan(lab!, alt), { exitCode: 0, lines: [] });
      assert.deepEqual(await nftShape(lab!, node, 'sluice_alt'), { sets: alt.nft.sets.map((s) => s.name).sort(), chains: kernelChains(alt) });
      assert.deepEqual(await nftShape(lab!, node), ours, 'the default table changed');
    } finally {
      await lab!.exec({ node }, ['nft', 'delete', 'table', 'inet', 'sluice_alt'], { allowFailure: true });
    }
  });

  test('foreign nft tables, ip rules and routes are byte-identical after all of the above', async () => {
    for (const n of info.nodes) assert.deepEqual(await foreignState(lab!, n.name), foreignBefore.get(n.name), n.name);
  });
});

async function ruleHandle(lab: Lab, node: string, comment: string): Promise<number> {
  const r = await lab.exec({ node }, ['nft', '-j', '-a', 'list', 'chain', 'inet', 'sluice', 'egress_mark'], { timeoutMs: 5_000 });
  const items = (JSON.parse(r.stdout) as { nftables: Array<{ rule?: { comment?: string; handle: number } }> }).nftables;
  const rule = items.find((i) => i.rule?.comment === comment)?.rule;
  if (!rule) throw new Error(`no rule "${comment}" on ${node}`);
  return rule.handle;
}
