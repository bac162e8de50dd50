/**
 * Tunnels as spidernet keeps them: every node, gateway-capable or not, has an EgressTunnel whose
 * status names the MAC and address of its `egress.vxlan`, and a MAC or address changed by hand on
 * that device is put back at once while the policy's traffic keeps its EIP.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EgressTunnelWire } from '../../../lib/api/wire.js';
import type { Lab } from '../../labkit/lab.js';
import { expectLeavesAs } from '../support/echo.js';
import { kubectlJson } from '../support/kubectl.js';
import { appSelector, egressPolicy } from '../support/manifests.js';
import { waitAssigned } from '../support/policy-status.js';
import { GATEWAY_NAME, type ScenarioLab } from '../support/scenario-lab.js';
import { waitFor } from '../support/wait.js';
import { dataPathWithinMs, repairWithinMs } from './expectations.js';

const DEVICE = 'egress.vxlan';

interface DeviceState {
  readonly mac: string;
  readonly up: boolean;
  readonly addresses: string[];
}

async function deviceOn(lab: Lab, node: string): Promise<DeviceState | undefined> {
  const r = await lab.exec({ node }, ['ip', '-j', 'addr', 'show', 'dev', DEVICE], { allowFailure: true, timeoutMs: 10_000 });
  if (r.exitCode !== 0) return undefined;
  const [link] = JSON.parse(r.stdout) as Array<{ address: string; flags: string[]; addr_info?: Array<{ local: string; prefixlen: number; scope: string }> }>;
  if (!link) return undefined;
  return {
    mac: link.address,
    up: link.flags.includes('UP'),
    addresses: (link.addr_info ?? [])
      .filter((a) => a.scope === 'global')
      .map((a) => a.local)
      .sort(),
  };
}

async function tunnels(lab: Lab): Promise<Map<string, EgressTunnelWire>> {
  const list = await kubectlJson<{ items: EgressTunnelWire[] }>(lab, ['get', 'egresstunnels']);
  return new Map(list.items.map((t) => [t.metadata!.name!, t]));
}

/** The device as the node's EgressTunnel publishes it (the IPv6 address is used in dual-stack clusters only). */
function published(t: EgressTunnelWire, dualStack: boolean): DeviceState {
  const s = t.status?.tunnel ?? {};
  return { mac: s.mac ?? '', up: true, addresses: [s.ipv4, dualStack ? s.ipv6 : undefined].filter((a): a is string => !!a).sort() };
}

/** Changes the device by hand, then waits until the agent has put back what the EgressTunnel publishes. */
async function tamperAndWaitRepair(lab: Lab, node: string, want: DeviceState, commands: readonly string[][]): Promise<number> {
  for (const argv of commands) await lab.exec({ node }, argv);
  const changed = Date.now();
  await waitFor(
    `${node}'s ${DEVICE} to be repaired to ${JSON.stringify(want)}`,
    repairWithinMs(),
    async () => {
      const have = await deviceOn(lab, node);
      if (JSON.stringify(have) !== JSON.stringify(want)) throw new Error(`it is ${JSON.stringify(have)}`);
      return true;
    },
    100,
  );
  return Date.now() - changed;
}

export function tunnelScenarios(env: () => ScenarioLab, timeout: number): void {
  test('spidernet parity: every node has an EgressTunnel whose MAC and address are those of its egress.vxlan', { timeout }, () =>
    env().scenario(async (s) => {
      const byNode = await tunnels(s.lab);
      assert.deepEqual(
        [...byNode.keys()].sort(),
        env()
          .info.nodes.map((n) => n.name)
          .sort(),
        'one EgressTunnel per node',
      );
      for (const [node, t] of byNode) {
        const want = published(t, env().info.ipv6);
        assert.match(want.mac, /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/, `${node} publishes a MAC`);
        assert.deepEqual(await deviceOn(s.lab, node), want, `${node}'s ${DEVICE} is what its EgressTunnel says (no policy uses the node now)`);
      }
    }),
  );

  test('spidernet parity: a tunnel MAC or address changed by hand is put back at once, and the traffic keeps its EIP', { timeout }, (t) =>
    env().scenario(async (s) => {
      const p = egressPolicy('default', 'tunnel-repair', { egressGatewayName: GATEWAY_NAME, appliedTo: appSelector('web') });
      await s.apply(p);
      const at = await waitAssigned(s.lab, p);
      await expectLeavesAs(s.lab, 'default/web', at.ipv4!);
      const byNode = await tunnels(s.lab);
      const worker = env().info.pods.find((x) => x.namespace === 'default' && x.name === 'web')!.node;
      for (const node of [worker, at.node]) {
        const want = published(byNode.get(node)!, env().info.ipv6);
        const took = await tamperAndWaitRepair(s.lab, node, want, [
          ['ip', 'link', 'set', DEVICE, 'address', '02:00:5e:00:53:01'],
          ['ip', 'addr', 'flush', 'dev', DEVICE, 'scope', 'global'],
          ['ip', 'addr', 'add', '198.19.255.250/16', 'dev', DEVICE],
        ]);
        t.diagnostic(`${node}: ${DEVICE} repaired ${took} ms after the last hand change`);
        await expectLeavesAs(s.lab, 'default/web', at.ipv4!, { timeoutMs: dataPathWithinMs(), protos: ['http', 'tcp'] });
      }
      // Set down: brought up again.
      const want = published(byNode.get(worker)!, env().info.ipv6);
      await tamperAndWaitRepair(s.lab, worker, want, [['ip', 'link', 'set', DEVICE, 'down']]);
      await expectLeavesAs(s.lab, 'default/web', at.ipv4!, { timeoutMs: dataPathWithinMs() });
    }),
  );
}
