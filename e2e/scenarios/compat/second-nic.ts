/**
 * Nodes with two NICs (`--second-nic`): the agent must keep EIPs and the tunnel on the NIC that holds
 * the node's InternalIP, and a host on the second segment that spoofs a pod address must not leave
 * with the EIP. 1 worker, 1 gateway node; seed 002's EgressPolicy selects a pod on each.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { podIp } from '../support/addresses.js';
import { recordArrivals } from '../support/arrivals.js';
import { waitApplied } from '../support/dataplane.js';
import { expectLeavesAs } from '../support/echo.js';
import { kubectl, kubectlJson } from '../support/kubectl.js';
import { appSelector, egressPolicy } from '../support/manifests.js';
import { addressesOn } from '../support/node-state.js';
import { waitAssigned } from '../support/policy-status.js';
import { GATEWAY_NAME, ScenarioLab } from '../support/scenario-lab.js';
import { BRING_UP_TIMEOUT_MS, SUITE_TIMEOUT_MS } from './timeouts.js';
import { waitFor } from '../support/wait.js';

const WORKER = 'worker-1';
const GATEWAY = 'gateway-1';
const WEB = 'default/web';
const LOCAL = 'default/local';
/** Nothing listens there: the spoofed datagrams get no answer, the external host only counts them. */
const SPOOF_PORT = 9101;
const SPOOF_DATAGRAMS = 3;

export function secondNicSuite(): void {
  const suffix = 'nic2';
  describe('nodes with a second NIC', { concurrency: 1, timeout: SUITE_TIMEOUT_MS }, () => {
    let env: ScenarioLab;
    let eip: string;

    before(
      async () => {
        env = await ScenarioLab.up(suffix, {
          workers: 1,
          gateways: 1,
          network: { secondNic: true },
          pods: [
            { namespace: 'default', name: 'web', labels: { app: 'web' }, node: WORKER },
            { namespace: 'default', name: 'local', labels: { app: 'web' }, node: GATEWAY },
          ],
        });
        const p = egressPolicy('default', 'test', { egressGatewayName: GATEWAY_NAME, appliedTo: appSelector('web') });
        await kubectl(env.lab, ['apply', '-f', '-'], JSON.stringify(p));
        eip = (await waitAssigned(env.lab, p)).ipv4!;
        await waitApplied(env.lab, { gatewayNode: GATEWAY, eip, nodes: [WORKER, GATEWAY], podIps: [podIp(env.info, WEB), podIp(env.info, LOCAL)] });
      },
      { timeout: BRING_UP_TIMEOUT_MS },
    );

    after(
      async () => {
        await (env ? env.down() : ScenarioLab.downUnfinished(suffix));
      },
      { timeout: 60_000 },
    );

    test('selected pods leave with the EIP; the EIP and the tunnel stay on the NIC of the InternalIP (eth0)', async () => {
      for (const pod of [WEB, LOCAL]) await expectLeavesAs(env.lab, pod, eip, { protos: ['http', 'udp'], timeoutMs: 5_000 });
      assert.ok((await addressesOn(env.lab, GATEWAY, 'eth0')).includes(eip), `${eip} on eth0`);
      assert.ok(!(await addressesOn(env.lab, GATEWAY, 'eth1')).includes(eip), `${eip} not on eth1`);
      for (const node of [WORKER, GATEWAY]) {
        const tunnel = await kubectlJson<{ status?: { tunnel?: { parent?: { name?: string } } } }>(env.lab, ['get', 'egresstunnel', node]);
        assert.equal(tunnel.status?.tunnel?.parent?.name, 'eth0', `${node}'s tunnel parent`);
      }
      // Announcements go out on eth0 only: the segment host never hears of the EIP.
      const neigh = await env.lab.exec({ host: 'seg' }, ['ip', 'neigh', 'show']);
      assert.doesNotMatch(neigh.stdout, new RegExp(`^${eip.replace(/\./g, '\\.')} `, 'm'));
    });

    for (const victim of [
      { pod: LOCAL, where: 'on the gateway node' },
      { pod: WEB, where: 'on a worker' },
    ]) {
      test(`a host behind eth1 spoofing a selected pod ${victim.where} does not leave with the EIP`, async () => {
        const seg = env.info.segment2!;
        const spoofed = podIp(env.info, victim.pod);
        const arrivals = await recordArrivals(env.lab, SPOOF_PORT);
        try {
          await env.lab.exec({ host: 'seg' }, ['ip', 'address', 'replace', `${spoofed}/32`, 'dev', 'eth0']);
          await env.lab.exec({ host: 'seg' }, ['ip', 'route', 'replace', `${env.info.echo.ipv4}/32`, 'via', seg.nodeIps[GATEWAY]![0]!, 'src', spoofed]);
          for (let i = 0; i < SPOOF_DATAGRAMS; i++) {
            await env.lab.exec({ host: 'seg' }, ['nc', '-u', '-w', '1', '-s', spoofed, env.info.echo.ipv4, String(SPOOF_PORT)], { input: 'spoofed\n', allowFailure: true });
          }
          // The gateway forwards it one way or another (it is a router); what matters is with which source.
          const seen = await waitFor('the spoofed datagrams to reach the external host', 5_000, async () => {
            const s = await arrivals.sources();
            return s.length ? s : undefined;
          }).catch(() => [] as string[]);
          assert.ok(!seen.includes(eip), `the external host saw ${seen.join(', ')} (the EIP is ${eip})`);
        } finally {
          await arrivals.remove();
          await env.lab.exec({ host: 'seg' }, ['ip', 'address', 'del', `${spoofed}/32`, 'dev', 'eth0'], { allowFailure: true });
        }
      });
    }
  });
}
