/**
 * The lab's failover tools, as root, on a bare lab (1 worker, 2 gateways, no cluster): the UDP
 * sequence flow, the long-lived TCP connections and the ARP monitor each measure an outage or a
 * double claim the test makes on purpose, and a partition cuts exactly the two nodes apart.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ArpWatch } from './flows/arp-watch.js';
import { during } from './flows/during.js';
import { TcpFlows } from './flows/tcp-flows.js';
import { UdpSeqFlow } from './flows/udp-seq.js';
import type { LabInfo } from './info.js';
import { Lab } from './lab.js';
import { needsRoot, tempLabBase } from './test-support.js';

const POD = 'default/client';
/** An address nobody holds until a test puts it on a gateway's eth0. */
const SHARED = '198.18.0.150';
const CUT_MS = 800;

describe('failover tools', { skip: needsRoot, timeout: 180_000 }, () => {
  let lab: Lab | undefined;
  let info: LabInfo;
  const ipOf = (node: string) => info.nodes.find((n) => n.name === node)!.ips[0]!;
  const reaches = async (from: string, to: string) => (await lab!.exec({ node: from }, ['ping', '-c', '1', '-W', '1', to], { allowFailure: true })).exitCode === 0;

  before(async () => {
    lab = await Lab.up(`fltools-${process.pid}`, { workers: 1, gateways: 2, plugins: [], baseDir: await tempLabBase() });
    await lab.addPod({ namespace: 'default', name: 'client', node: 'worker-1' });
    info = await lab.info();
  });

  after(async () => {
    await lab?.down();
  });

  test('the default node grace period is 40 s, as the kubelet default', async () => {
    assert.equal((await lab!.state()).nodeGraceSeconds, 40);
  });

  test('UDP sequence flow: a cut link shows as the largest gap at the receiver, with the datagrams lost in it', async () => {
    const { value: cutAt, report: r } = await during(await UdpSeqFlow.start(lab!, POD), async () => {
      await sleep(1_000);
      const at = Date.now();
      await lab!.setLink('worker-1', false);
      await sleep(CUT_MS);
      await lab!.setLink('worker-1', true);
      await sleep(1_000);
      return at;
    });
    assert.ok(r.maxGapMs >= CUT_MS - 50, `largest gap ${r.maxGapMs} ms, the link was down ${CUT_MS} ms`);
    assert.ok(r.maxGapStartedAt >= cutAt - 100, 'the gap is the cut, not the start-up');
    assert.ok(r.lostInMaxGap >= (CUT_MS - 100) / 2, `${r.lostInMaxGap} datagrams lost in the gap`);
    assert.equal(r.lost, r.lostInMaxGap, 'nothing lost outside the cut');
    assert.deepEqual(
      r.sources.map((s) => s.src),
      [ipOf('worker-1')],
    );
    assert.ok(r.sent >= 2_000, `${r.sent} sent at 1000/s`);
  });

  test('TCP connections: they survive a short cut and carry data after it; a reset is reported as one', async () => {
    let flows = await TcpFlows.start(lab!, POD, { count: 5 });
    await flows.settle();
    await lab!.setLink('worker-1', false);
    await sleep(CUT_MS);
    await lab!.setLink('worker-1', true);
    const healedAt = Date.now();
    await sleep(3_000);
    const ok = await flows.stop(healedAt);
    assert.equal(ok.survived, 5, JSON.stringify(ok.connections));
    assert.equal(ok.resets, 0);

    flows = await TcpFlows.start(lab!, POD, { count: 3 });
    await flows.settle();
    const table = 'labtest_reset';
    await lab!.exec({ host: 'ext' }, ['nft', '-f', '-'], {
      input: `table inet ${table} {\n  chain input {\n    type filter hook input priority 0; policy accept;\n    tcp dport ${info.echo.streamPort} reject with tcp reset\n  }\n}\n`,
    });
    const rejectedAt = Date.now();
    try {
      await sleep(1_000);
    } finally {
      await lab!.exec({ host: 'ext' }, ['nft', 'delete', 'table', 'inet', table], { allowFailure: true });
    }
    const reset = await flows.stop(rejectedAt);
    assert.equal(reset.resets, 3, JSON.stringify(reset.connections));
    assert.equal(reset.survived, 0);
    assert.ok(
      reset.connections.every((c) => c.endedWith === 'ECONNRESET'),
      JSON.stringify(reset.connections.map((c) => c.endedWith)),
    );
  });

  test('ARP monitor: one holder is not contested; two holders at once are, for about as long as they overlap', async () => {
    const macOf = async (node: string) => (await lab!.exec({ node }, ['cat', '/sys/class/net/eth0/address'])).stdout.trim();
    const hold = (node: string, add: boolean) => lab!.exec({ node }, ['ip', 'addr', add ? 'add' : 'del', `${SHARED}/32`, 'dev', 'eth0']);
    await hold('gateway-1', true);
    const watch = await ArpWatch.start(lab!, SHARED);
    const overlapMs = 600;
    const { report: r } = await during(watch, async () => {
      await sleep(1_000);
      const alone = watch.report();
      assert.equal(alone.contestedRounds, 0);
      assert.ok(alone.rounds >= 10, `${alone.rounds} requests in a second at 50 ms`);
      await hold('gateway-2', true);
      await sleep(overlapMs);
      await hold('gateway-1', false);
      await sleep(1_000);
    }).finally(async () => {
      await hold('gateway-2', false).catch(() => undefined);
      await hold('gateway-1', false).catch(() => undefined);
    });
    const [g1, g2] = [await macOf('gateway-1'), await macOf('gateway-2')];
    assert.deepEqual(new Set(r.macs), new Set([g1, g2]));
    assert.ok(r.longestContestedMs >= overlapMs - 100, `contested ${r.longestContestedMs} ms, overlap ${overlapMs} ms`);
    assert.ok(r.longestContestedMs < overlapMs + 2_000, `contested ${r.longestContestedMs} ms, overlap ${overlapMs} ms`);
    assert.deepEqual([r.runs[0]!.mac, r.runs[r.runs.length - 1]!.mac], [g1, g2], 'first gateway-1 alone, at the end gateway-2 alone');
  });

  test('partition: the two nodes lose each other and nobody else; healing restores them', async () => {
    await lab!.partition('gateway-1', 'gateway-2');
    try {
      assert.equal(await reaches('gateway-1', ipOf('gateway-2')), false);
      assert.equal(await reaches('gateway-2', ipOf('gateway-1')), false);
      for (const g of ['gateway-1', 'gateway-2']) {
        assert.equal(await reaches(g, ipOf('worker-1')), true, `${g} reaches the worker`);
        assert.equal(await reaches(g, info.echo.ipv4), true, `${g} reaches the external host`);
      }
      await lab!.partition('gateway-1', 'gateway-2');
    } finally {
      await lab!.healPartition('gateway-1', 'gateway-2');
    }
    // A failed neighbour entry from the partition may cost one more try.
    let healed = false;
    for (let i = 0; i < 5 && !healed; i++) healed = await reaches('gateway-1', ipOf('gateway-2'));
    assert.ok(healed, 'gateway-1 reaches gateway-2 again');
    await lab!.healPartition('gateway-1', 'gateway-2');
  });
});
