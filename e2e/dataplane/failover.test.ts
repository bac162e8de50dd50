/**
 * Moving an EIP between gateway nodes with two rounds of `sluice apply`: the echo service sees the
 * same EIP through the other gateway, and the new gateway's gratuitous ARP and unsolicited NA
 * re-point the external host's neighbour entries without waiting for them to expire.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Lab } from '../labkit/lab.js';
import type { LabInfo } from '../labkit/info.js';
import type { NodePlan } from '../../lib/planner/node-plan.js';
import type { Snapshot } from '../../lib/planner/snapshot.js';
import { policy } from '../../lib/planner/testing/cluster.js';
import { DEFAULT_TIMING } from '../../lib/dataplane/announcer/announcer-options.js';
import { ANNOUNCE_FILTER, parseAnnouncements, type Announcement } from './announcements.js';
import { startCapture } from './capture.js';
import { applySnapshot, carrierOf, dataplaneSkip, eipsOf, planAll, upLab } from './dp-lab.js';
import { GATEWAY_NAME, labSnapshot } from './lab-cluster.js';
import { addressesOn, echoAt, macOf, neighbour, nftCounters } from './probes.js';

const PROTOS = ['http', 'tcp', 'udp'] as const;
/** Frames of one takeover burst; `sluice apply` waits for all of them before it exits. */
const BURST = DEFAULT_TIMING.burstMs.length;
const POLICY = policy('default', 'web', { egressGatewayName: GATEWAY_NAME, appliedTo: { podSelector: { matchLabels: { app: 'web' } } } });

describe('EIP failover between gateway nodes', { skip: dataplaneSkip, timeout: 300_000 }, () => {
  let lab: Lab | undefined;
  let info: LabInfo;
  let eip: { 4: string; 6: string };
  let first: string;
  let second: string;
  const mac: Record<string, string> = {};

  /** Applies the snapshot while capturing ARP/NA on the external host; returns what was announced. */
  async function move(snapshot: Snapshot, to: string) {
    const capture = await startCapture(info.echo.netns, ANNOUNCE_FILTER, { count: 100, timeoutMs: 30_000 });
    let plans: NodePlan[];
    try {
      ({ plans } = await applySnapshot(lab!, snapshot));
    } finally {
      await capture.stop();
    }
    assert.equal(carrierOf(plans), to);
    return parseAnnouncements(await capture.lines);
  }

  /** A whole burst of gratuitous ARP and unsolicited NA for the EIPs, from the new carrier only. */
  function assertBurst(sent: readonly Announcement[], node: string) {
    const from = (kind: Announcement['kind'], ip: string) => sent.filter((a) => a.kind === kind && a.ip === ip && a.mac === mac[node]).length;
    assert.equal(from('garp', eip[4]), BURST, `GARP for ${eip[4]} from ${node}: ${JSON.stringify(sent)}`);
    assert.equal(from('na', eip[6]), BURST, `unsolicited NA for ${eip[6]} from ${node}: ${JSON.stringify(sent)}`);
    assert.deepEqual(
      sent.filter((a) => a.mac !== mac[node]),
      [],
      'only the new carrier announced',
    );
  }

  async function assertCarriedBy(node: string, other: string) {
    // Before any new traffic: only the announcements can have changed these entries.
    for (const family of [4, 6] as const) {
      assert.equal(await neighbour(lab!, { host: 'ext' }, eip[family]), mac[node], `the external host's neighbour entry for ${eip[family]}`);
    }
    const held = await addressesOn(lab!, node);
    assert.ok(held.includes(eip[4]) && held.includes(eip[6]), `${node} holds the EIPs: ${held.join(', ')}`);
    const left = await addressesOn(lab!, other);
    assert.ok(!left.includes(eip[4]) && !left.includes(eip[6]), `${other} released the EIPs: ${left.join(', ')}`);
    const snat = async () => (await nftCounters(lab!, node)).get('snat default/web') ?? 0;
    const before = await snat();
    for (const family of [4, 6] as const) {
      for (const proto of PROTOS) {
        assert.equal((await echoAt(lab!, { pod: 'default/client' }, family === 4 ? info.echo.ipv4 : info.echo.ipv6!, proto)).clientIP, eip[family], `${proto}/IPv${family}`);
      }
    }
    assert.ok((await snat()) >= before + PROTOS.length * 2, `${node} SNATed the flows`);
  }

  before(async () => {
    lab = await upLab('failover', { ipv6: true });
    await lab.addPod({ namespace: 'default', name: 'client', labels: { app: 'web' }, node: 'worker-1' });
    info = await lab.info();
    const { plans } = await applySnapshot(lab, labSnapshot(info, { policies: [POLICY] }), { concurrent: true });
    first = carrierOf(plans);
    second = info.nodes.find((n) => n.role === 'gateway' && n.name !== first)!.name;
    eip = eipsOf(plans);
    for (const n of [first, second]) mac[n] = await macOf(lab, { node: n });
  });

  after(async () => {
    await lab?.down();
  });

  test('before the move the first gateway carries the EIP, and the external host has learnt it', async () => {
    for (const family of [4, 6] as const) await echoAt(lab!, { pod: 'default/client' }, family === 4 ? info.echo.ipv4 : info.echo.ipv6!, 'http');
    await assertCarriedBy(first, second);
  });

  test('the first gateway goes NotReady: the other one takes the EIP, announces it, and the echo sees the same EIP', async () => {
    const sent = await move(labSnapshot(info, { policies: [POLICY], notReady: [first] }), second);
    assertBurst(sent, second);
    await assertCarriedBy(second, first);
  });

  test('the controller moves it back with status.node: the first gateway takes the EIP again', async () => {
    const pinned = (node: string) =>
      labSnapshot(info, { policies: [policy('default', 'web', POLICY['spec'] as Record<string, unknown>, { status: { node, eip: { ipv4: eip[4], ipv6: eip[6] } } })] });
    // Both gateways are Ready again; status.node, not the hash, decides.
    assert.equal(carrierOf(planAll(info, pinned(second))), second);
    assertBurst(await move(pinned(first), first), first);
    await assertCarriedBy(first, second);
  });
});
