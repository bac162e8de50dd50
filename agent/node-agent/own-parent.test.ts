import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plan } from '../../lib/planner/plan.js';
import { API_VERSION } from '../../lib/api/group.js';
import { gateway, node, policy, snapshotOf } from '../../lib/planner/testing/cluster.js';

/** An EgressTunnel as the controller writes it, naming `parent` as the node's NIC. */
const tunnel = (name: string, index: number, parent: string) => ({
  apiVersion: API_VERSION,
  kind: 'EgressTunnel',
  metadata: { name },
  spec: {},
  status: { tunnel: { ipv4: `172.31.0.${index}`, mac: `66:00:00:00:00:0${index}`, parent: { name: parent, ipv4: `198.18.0.${10 + index}` } }, mark: String(index), phase: 'Ready' },
});
import { withOwnParent } from './own-parent.js';

test("a forged parent interface on the node's EgressTunnel does not move its EIP or tunnel", () => {
  // attacker0: what another node's agent (anyone allowed to patch EgressTunnels) published for gw-1
  const forged = snapshotOf([
    node('gw-1', 1, { labels: { egress: 'true' } }),
    node('w-1', 2),
    gateway('main', { nodeSelector: { selector: { matchLabels: { egress: 'true' } } }, ippools: { ipv4: ['198.18.100.1-198.18.100.9'] } }),
    policy('default', 'web', { egressGatewayName: 'main', appliedTo: { podSubnet: ['10.244.2.0/24'] } }),
    tunnel('gw-1', 1, 'attacker0'),
    tunnel('w-1', 2, 'eth0'),
  ]);
  const naive = plan(forged, 'gw-1');
  assert.equal(naive.vxlan?.parent, 'attacker0', 'the planner alone follows the tunnel');
  const own = plan(withOwnParent(forged, 'gw-1', 'ens5'), 'gw-1');
  assert.equal(own.vxlan?.parent, 'ens5');
  assert.deepEqual([...new Set(own.eips.map((e) => e.interface))], ['ens5']);
  assert.ok(own.eips.length > 0);
  // other nodes' tunnels are left as they are, and an agreeing snapshot is returned unchanged
  assert.equal(
    withOwnParent(forged, 'gw-1', 'ens5').tunnels.find((t) => t.node === 'w-1'),
    forged.tunnels.find((t) => t.node === 'w-1'),
  );
  const agreeing = withOwnParent(forged, 'gw-1', 'ens5');
  assert.equal(withOwnParent(agreeing, 'gw-1', 'ens5'), agreeing);
});
