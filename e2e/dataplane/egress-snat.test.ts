/**
 * Packets, not plans: in a dual-stack lab (one worker, two gateway nodes, no API server) every
 * node's plan is computed by the real planner and applied with `sluice apply`, then the echo
 * service on the external host says which source address it saw.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Lab } from '../labkit/lab.js';
import type { LabInfo } from '../labkit/info.js';
import { policy } from '../../lib/planner/testing/cluster.js';
import type { NodePlan } from '../../lib/planner/node-plan.js';
import { GATEWAY_NAME, labSnapshot } from './lab-cluster.js';
import { applySnapshot, carrierOf, dataplaneSkip, eipsOf, nodeIp, podIp, upLab } from './dp-lab.js';
import { echoAt, linkPackets, nftCounters } from './probes.js';

const PROTOS = ['http', 'tcp', 'udp'] as const;
/**
 * A second address of the external host (the echo service listens on all of them). Its UDP
 * socket answers from the host's preferred source address, so UDP is only asked of the main
 * address, and the IPv6 alias is added deprecated so it never becomes that source.
 */
const ALT = { 4: '198.18.0.4', 6: 'fd00:198:18::4' } as const;
const STREAM = ['http', 'tcp'] as const;

const selecting = (name: string, app: string, extra: Record<string, unknown> = {}) =>
  policy('default', name, { egressGatewayName: GATEWAY_NAME, appliedTo: { podSelector: { matchLabels: { app } } }, ...extra });

describe('egress SNAT through the kernel dataplane', { skip: dataplaneSkip, timeout: 300_000 }, () => {
  let lab: Lab | undefined;
  let info: LabInfo;
  let plans: NodePlan[];
  let eip: { 4: string; 6: string };
  const ext = { 4: '', 6: '' };

  before(async () => {
    lab = await upLab('snat', { ipv6: true });
    for (const name of ['sel', 'plain', 'dst', 'exc']) await lab.addPod({ namespace: 'default', name, labels: { app: name }, node: 'worker-1' });
    // Unselected pods on both gateway nodes: one of them is on the node that holds the EIPs.
    for (const gw of ['gateway-1', 'gateway-2']) await lab.addPod({ namespace: 'default', name: `on-${gw}`, labels: { app: 'srv' }, node: gw });
    await lab.exec({ host: 'ext' }, ['ip', 'addr', 'add', `${ALT[4]}/24`, 'dev', 'eth0']);
    await lab.exec({ host: 'ext' }, ['ip', 'addr', 'add', `${ALT[6]}/64`, 'dev', 'eth0', 'nodad', 'preferred_lft', '0']);
    info = await lab.info();
    const snapshot = labSnapshot(info, {
      policies: [selecting('all', 'sel'), selecting('dest', 'dst', { destSubnet: [`${info.echo.ipv4}/32`] }), selecting('exclude', 'exc', { excludeDestSubnet: [`${ALT[4]}/32`] })],
    });
    ({ plans } = await applySnapshot(lab, snapshot, { concurrent: true }));
    eip = eipsOf(plans);
    Object.assign(ext, { 4: info.echo.ipv4, 6: info.echo.ipv6! });
  });

  after(async () => {
    await lab?.down();
  });

  test('a selected pod leaves with the EIP over HTTP, TCP and UDP, IPv4 and IPv6', async () => {
    for (const family of [4, 6] as const) {
      for (const proto of PROTOS) {
        const seen = await echoAt(lab!, { pod: 'default/sel' }, ext[family], proto);
        assert.equal(seen.clientIP, eip[family], `${proto}/IPv${family}`);
      }
    }
  });

  test('an unselected pod on the same worker leaves with its node IP', async () => {
    for (const family of [4, 6] as const) {
      for (const proto of PROTOS) {
        const seen = await echoAt(lab!, { pod: 'default/plain' }, ext[family], proto);
        assert.equal(seen.clientIP, nodeIp(info, 'worker-1', family), `${proto}/IPv${family}`);
      }
    }
  });

  test('on the gateway holding the EIPs, its own traffic and its unselected pods keep the node IP', async () => {
    const carrier = carrierOf(plans);
    for (const family of [4, 6] as const) {
      for (const target of [{ node: carrier }, { pod: `default/on-${carrier}` }]) {
        for (const proto of PROTOS) {
          const seen = await echoAt(lab!, target, ext[family], proto);
          assert.equal(seen.clientIP, nodeIp(info, carrier, family), `${proto}/IPv${family} from ${JSON.stringify(target)}`);
        }
      }
    }
  });

  test('cluster destinations (a pod on another node, node IPs) never enter the tunnel', async () => {
    const marked = async () => (await nftCounters(lab!, 'worker-1')).get('worker default/all') ?? 0;
    const before = { marked: await marked(), link: await linkPackets(lab!, 'worker-1', 'egress.vxlan') };
    for (const family of [4, 6] as const) {
      for (const dst of [podIp(info, 'default/on-gateway-1', family), nodeIp(info, 'gateway-1', family), nodeIp(info, 'gateway-2', family)]) {
        await lab!.exec({ pod: 'default/sel' }, ['ping', '-c', '2', '-i', '0.2', '-W', '2', dst], { timeoutMs: 10_000 });
      }
    }
    assert.equal(await marked(), before.marked, 'the worker marked cluster-bound packets for the gateway');
    assert.equal((await linkPackets(lab!, 'worker-1', 'egress.vxlan')).tx, before.link.tx, 'packets went into the tunnel');

    // The same probes count external traffic, so the two checks above could have failed.
    await echoAt(lab!, { pod: 'default/sel' }, ext[4], 'udp');
    assert.ok((await marked()) > before.marked, 'external traffic was not counted');
    assert.ok((await linkPackets(lab!, 'worker-1', 'egress.vxlan')).tx > before.link.tx, 'external traffic did not use the tunnel');
  });

  test('destSubnet: only listed destinations take the EIP', async () => {
    for (const proto of PROTOS) {
      assert.equal((await echoAt(lab!, { pod: 'default/dst' }, ext[4], proto)).clientIP, eip[4], `${proto} to the listed ${ext[4]}`);
    }
    for (const proto of STREAM) {
      assert.equal((await echoAt(lab!, { pod: 'default/dst' }, ALT[4], proto)).clientIP, nodeIp(info, 'worker-1'), `${proto} to ${ALT[4]}`);
    }
    // destSubnet names only IPv4: the policy does not apply to IPv6 at all.
    assert.equal((await echoAt(lab!, { pod: 'default/dst' }, ext[6], 'http')).clientIP, nodeIp(info, 'worker-1', 6));
  });

  test('excludeDestSubnet: listed destinations keep the node IP, the rest take the EIP', async () => {
    for (const proto of STREAM) {
      assert.equal((await echoAt(lab!, { pod: 'default/exc' }, ALT[4], proto)).clientIP, nodeIp(info, 'worker-1'), `${proto} to the excluded ${ALT[4]}`);
    }
    for (const proto of PROTOS) {
      assert.equal((await echoAt(lab!, { pod: 'default/exc' }, ext[4], proto)).clientIP, eip[4], `${proto} to ${ext[4]}`);
    }
    // The exclusion names only IPv4: IPv6 traffic, to either address, takes the IPv6 EIP.
    for (const dst of [ALT[6], ext[6]]) assert.equal((await echoAt(lab!, { pod: 'default/exc' }, dst, 'tcp')).clientIP, eip[6], dst);
  });
});
