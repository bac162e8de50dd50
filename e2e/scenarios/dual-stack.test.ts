/**
 * End-to-end IPv6 on a dual-stack cluster of its own (1 worker, 1 gateway node): a policy gets an
 * IPv4 and an IPv6 EIP, the echo service sees each over every protocol, and the external host's
 * neighbour table maps the IPv6 EIP to the gateway node.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ALL_PROTOS, assertLeavesAs, expectLeavesAs } from './support/echo.js';
import { appSelector, egressPolicy } from './support/manifests.js';
import { waitAssigned } from './support/policy-status.js';
import { GATEWAY_NAME, ScenarioLab, scenarioSkip } from './support/scenario-lab.js';
import { waitFor } from './support/wait.js';

const WEB = 'default/web';
const PLAIN = 'default/plain';

interface Neighbour {
  dst: string;
  lladdr?: string;
  state?: string[];
}

describe('dual-stack end to end', { skip: scenarioSkip, timeout: 5 * 60_000 }, () => {
  let env: ScenarioLab;

  before(
    async () => {
      env = await ScenarioLab.up('v6', {
        workers: 1,
        gateways: 1,
        ipv6: true,
        pods: [
          { namespace: 'default', name: 'web', labels: { app: 'web' } },
          { namespace: 'default', name: 'plain', labels: { app: 'plain' } },
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

  test('IPv6 EIP: the echo service sees it over http, tcp and udp, and the external host learned it', { timeout: 90_000 }, () =>
    env.scenario(async (s) => {
      const p = egressPolicy('default', 'dual', { egressGatewayName: GATEWAY_NAME, appliedTo: appSelector('web') });
      await s.apply(p);
      const at = await waitAssigned(s.lab, p);
      assert.deepEqual([at.ipv4, at.ipv6], [env.defaultEipV4, env.defaultEipV6], 'both families take the gateway default EIPs');

      await expectLeavesAs(s.lab, WEB, at.ipv6!, { family: 6, protos: ALL_PROTOS });
      await expectLeavesAs(s.lab, WEB, at.ipv4!, { family: 4, protos: ALL_PROTOS });
      await assertLeavesAs(s.lab, PLAIN, env.nodeIpOf(PLAIN, 6), { family: 6, protos: ['http', 'udp'] });

      const mac = (await s.lab.exec({ node: at.node }, ['cat', '/sys/class/net/eth0/address'])).stdout.trim();
      const entry = await waitFor(`the external host to map ${at.ipv6} to ${at.node}'s ${mac}`, 10_000, async () => {
        const r = await s.lab.exec({ host: 'ext' }, ['ip', '-6', '-j', 'neigh', 'show', 'dev', 'eth0']);
        const found = (JSON.parse(r.stdout) as Neighbour[]).find((n) => n.dst === at.ipv6);
        if (found?.lladdr !== mac) throw new Error(`entry ${JSON.stringify(found ?? null)}`);
        return found;
      });
      assert.ok(!entry.state?.some((x) => x === 'FAILED' || x === 'INCOMPLETE'), `usable entry: ${JSON.stringify(entry)}`);
    }),
  );
});
