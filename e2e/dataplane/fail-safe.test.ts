/**
 * Guards first, forwarding last, on real kernels. A gateway whose nft load fails (the driver
 * refuses every load, as a kernel without nf_tables would) must not turn on forwarding, add an
 * EIP or relay VXLAN from a host that is not a node; a later failed load keeps the old guards and
 * EIPs; and a packet marked for a gateway whose rule or routing table does not exist (the window
 * between the nft load and the route adds, or a gateway's routes gone first) is dropped, never
 * sent by the node's normal path; with native routing also when its route names another next hop
 * on the same NIC.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Lab } from '../labkit/lab.js';
import type { LabInfo } from '../labkit/info.js';
import type { NodePlan } from '../../lib/planner/node-plan.js';
import { policy } from '../../lib/planner/testing/cluster.js';
import { applySnapshot, dataplaneSkip, planAll, podIp, upLab } from './dp-lab.js';
import { applyWithFailingNft } from './failing-nft.js';
import { GATEWAY_NAME, labSnapshot } from './lab-cluster.js';
import { nftListing } from './nft-listing.js';
import { addressesOn, echoAt, hasLink, nftCounters } from './probes.js';
import { applyAll, applyPlan } from './sluice-cli.js';
import { EXT_HOST, lanHost } from '../labkit/addressing.js';
import { VxlanAttacker } from './vxlan-attack.js';

const CARRIER = 'gateway-1';
const WORKER = 'worker-1';
const WEB = policy('default', 'web', { egressGatewayName: GATEWAY_NAME, appliedTo: { podSelector: { matchLabels: { app: 'web' } } } });

describe('fail-safe apply order', { skip: dataplaneSkip, timeout: 300_000 }, () => {
  let lab: Lab | undefined;
  let info: LabInfo;
  let plans: NodePlan[];
  let eip: string;
  const planOf = (node: string, from = plans) => from.find((p) => p.node === node)!;
  const forwarding = async (node: string) =>
    (await lab!.exec({ node }, ['cat', '/proc/sys/net/ipv4/ip_forward', '/proc/sys/net/ipv6/conf/all/forwarding'])).stdout.trim().split('\n').join('/');
  const unknownVxlan = async () => (await nftCounters(lab!, CARRIER)).get('vxlan from unknown host') ?? 0;

  /** Opens the control host's tunnel to the carrier, sends three datagrams, and returns what reached the echo host. */
  async function attack(): Promise<string[]> {
    const attacker = await VxlanAttacker.open(lab!, info, planOf(CARRIER), planOf(WORKER), podIp(info, 'default/client'));
    try {
      return await attacker.send(3);
    } finally {
      await attacker.close();
    }
  }

  before(async () => {
    lab = await upLab('failsafe', { ipv6: false, gateways: 1 });
    await lab.addPod({ namespace: 'default', name: 'client', labels: { app: 'web' }, node: WORKER });
    info = await lab.info();
    plans = planAll(info, labSnapshot(info, { policies: [WEB] }));
    eip = planOf(CARRIER).eips[0]!.ip;
  });

  after(async () => {
    await lab?.down();
  });

  test('a gateway whose nft load fails turns on no forwarding, adds no EIP and relays no VXLAN from an unknown host', async () => {
    await lab!.exec({ node: CARRIER }, ['sysctl', '-qw', 'net.ipv4.ip_forward=0', 'net.ipv6.conf.all.forwarding=0']);
    const [report] = await applyWithFailingNft(lab!, planOf(CARRIER));
    assert.deepEqual([report!.ok, report!.complete, report!.writes], [false, false, 0], JSON.stringify(report!.subsystems));
    assert.equal(await forwarding(CARRIER), '0/0', 'a forwarding sysctl was turned on');
    assert.ok(!(await addressesOn(lab!, CARRIER)).includes(eip), 'the EIP was added');
    assert.equal(await hasLink(lab!, CARRIER, 'egress.vxlan'), false, 'the tunnel exists without its guards');
    assert.equal(await nftListing(lab!, CARRIER), undefined);
    // A Kubernetes node forwards for its CNI anyway: even then nothing gets through.
    await lab!.exec({ node: CARRIER }, ['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    assert.deepEqual(await attack(), [], 'VXLAN from the control host was relayed');
  });

  test('with the guards loaded the attack is dropped by them, and counted as a node the same host gets through', async () => {
    ({ plans } = await applySnapshot(lab!, labSnapshot(info, { policies: [WEB] })));
    assert.equal((await echoAt(lab!, { pod: 'default/client' }, info.echo.ipv4, 'udp')).clientIP, eip);
    const dropped = await unknownVxlan();
    assert.deepEqual(await attack(), []);
    assert.ok((await unknownVxlan()) >= dropped + 3, 'the "vxlan from unknown host" rule did not count the datagrams');
    // The control: the attack is a working relay attempt, so the guard is what stops it.
    const ctl = info.control.ips[0]!;
    await lab!.exec({ node: CARRIER }, ['nft', 'add', 'element', 'inet', 'sluice', 'nodes4', `{ ${ctl} }`]);
    try {
      const relayed = await attack();
      assert.ok(
        relayed.some((s) => s.endsWith(` ${eip}`)),
        `control: ${relayed.join('; ')}`,
      );
    } finally {
      await lab!.exec({ node: CARRIER }, ['nft', 'delete', 'element', 'inet', 'sluice', 'nodes4', `{ ${ctl} }`]);
    }
  });

  test('a later failed nft load keeps the old table and EIP, adds no new EIP, and the old guards still hold', async () => {
    const [first4] = info.lan.eipRangeV4.split('-') as [string];
    const second = first4.replace(/\d+$/, (h) => String(Number(h) + 1));
    const db = policy('default', 'db', { egressGatewayName: GATEWAY_NAME, egressIP: { ipv4: second }, appliedTo: { podSelector: { matchLabels: { app: 'db' } } } });
    const next = planOf(CARRIER, planAll(info, labSnapshot(info, { policies: [WEB, db] })));
    assert.deepEqual(next.eips.map((e) => e.ip).sort(), [eip, second].sort(), 'the new plan adds an EIP on the carrier');
    const table = await nftListing(lab!, CARRIER);
    const reports = await applyWithFailingNft(lab!, next, { applies: 2 });
    assert.deepEqual(
      reports.map((r) => [r.complete, r.failedApplies]),
      [
        [false, 1],
        [false, 2],
      ],
    );
    assert.equal(await nftListing(lab!, CARRIER), table, 'the table changed');
    const held = await addressesOn(lab!, CARRIER);
    assert.ok(held.includes(eip), 'the held EIP was dropped by a transient failure');
    assert.ok(!held.includes(second), 'the new EIP was added without its guards');
    const dropped = await unknownVxlan();
    assert.deepEqual(await attack(), []);
    assert.ok((await unknownVxlan()) >= dropped + 3);
    assert.equal((await echoAt(lab!, { pod: 'default/client' }, info.echo.ipv4, 'tcp')).clientIP, eip, 'the established path broke');
  });

  test("a packet marked for a gateway whose rule or table is not there is dropped, not sent by the node's normal path", async () => {
    const worker = planOf(WORKER);
    const mark = worker.marks.gateways[CARRIER]!;
    const table = worker.routing.routes.find((r) => r.family === 4 && r.dst === 'default')!.table;
    const counted = async (comment: string) => (await nftCounters(lab!, WORKER)).get(comment) ?? 0;
    const x = (argv: string[], input?: string) => lab!.exec({ node: WORKER }, argv, { timeoutMs: 10_000, ...(input ? { input } : {}) });
    const leavesAs = async (why: string, ip: string) => {
      const before = await counted('worker default/web');
      assert.equal((await echoAt(lab!, { pod: 'default/client' }, info.echo.ipv4, 'udp')).clientIP, ip, why);
      assert.ok((await counted('worker default/web')) > before, `${why}: the packet was not marked`);
    };
    /** Marked, then dropped by the guard: no answer, whatever source the echo host would have seen. */
    const dropped = async (why: string) => {
      const [marked, guard] = [await counted('worker default/web'), await counted('marked off the tunnel')];
      await assert.rejects(echoAt(lab!, { pod: 'default/client' }, info.echo.ipv4, 'udp', 1), /no answer/, `${why}: the echo host answered`);
      assert.ok((await counted('worker default/web')) > marked, `${why}: the packet was not marked`);
      assert.ok((await counted('marked off the tunnel')) > guard, `${why}: the off-tunnel guard did not drop it`);
    };
    await leavesAs('all in place', eip);

    // The rule is there, its table is empty: the lookup goes on to main, and the guard drops it.
    await x(['ip', 'route', 'del', 'default', 'table', String(table)]);
    await dropped('rule without a route');

    // No rule either.
    const rules = (await x(['ip', '-4', 'rule', 'show'])).stdout.split('\n').filter((l) => l.includes(`lookup ${table}`));
    assert.ok(rules.length > 0 && rules.every((l) => l.includes(`0x${mark.toString(16)}`)), rules.join('\n'));
    await x(['ip', 'rule', 'del', 'lookup', String(table)]);
    await dropped('no rule');

    // The exact window of a first apply: the table loaded and nothing else, not even the device
    // its rules name. The kernel takes the table without the device.
    const text = (await x(['nft', 'list', 'table', 'inet', 'sluice'])).stdout;
    await x(['nft', 'delete', 'table', 'inet', 'sluice']);
    await x(['ip', 'link', 'del', 'egress.vxlan']);
    await x(['nft', '-f', '-'], text);
    await dropped('only the nft table');

    await applyPlan(lab!, worker);
    await leavesAs('applied again', eip);
  });

  test('native routing: a packet marked for a gateway node leaves to that node on the NIC, or not at all (no route, another next hop)', async () => {
    const macs: Record<string, string> = {};
    for (const n of info.nodes) macs[n.name] = (await lab!.exec({ node: n.name }, ['cat', '/sys/class/net/eth0/address'])).stdout.trim();
    const native = planAll(info, labSnapshot(info, { policies: [WEB], native: { macs } }));
    const worker = planOf(WORKER, native);
    const route = worker.routing.routes.find((r) => r.family === 4 && r.dst === 'default');
    assert.ok(route && route.dev === 'eth0' && route.via === info.nodes.find((n) => n.name === CARRIER)!.ips[0], JSON.stringify(route));
    const counted = async (comment: string) => (await nftCounters(lab!, WORKER)).get(comment) ?? 0;
    const x = (argv: string[]) => lab!.exec({ node: WORKER }, argv, { timeoutMs: 10_000 });
    const dropped = async (why: string) => {
      const guard = await counted('marked off the tunnel');
      await assert.rejects(echoAt(lab!, { pod: 'default/client' }, info.echo.ipv4, 'udp', 1), /no answer/, `${why}: the echo host answered`);
      assert.ok((await counted('marked off the tunnel')) > guard, `${why}: the off-tunnel guard did not drop it`);
    };
    try {
      await applyAll(lab!, [planOf(CARRIER, native), worker]);
      assert.equal((await echoAt(lab!, { pod: 'default/client' }, info.echo.ipv4, 'udp')).clientIP, eip, 'all in place');
      // The LAN's router as next hop: the right NIC, the wrong host.
      await x(['ip', 'route', 'replace', 'default', 'via', lanHost(EXT_HOST).v4, 'dev', 'eth0', 'table', String(route.table)]);
      await dropped('another next hop');
      await x(['ip', 'route', 'del', 'default', 'table', String(route.table)]);
      await dropped('no route');
      await applyPlan(lab!, worker);
      assert.equal((await echoAt(lab!, { pod: 'default/client' }, info.echo.ipv4, 'udp')).clientIP, eip, 'applied again');
    } finally {
      await applyAll(lab!, [planOf(CARRIER), planOf(WORKER)]);
    }
  });
});
