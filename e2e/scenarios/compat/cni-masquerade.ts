/**
 * Seed 002's EgressPolicy in clusters whose CNI masquerades pod traffic on every interface, as
 * Flannel (`--ip-masq`) and Calico (`natOutgoing`) do, written with iptables (nft backend, and the
 * legacy x_tables backend) and with nft. One lab per mode: 1 worker, 1 gateway node. Without
 * sluice's source-keeping NAT binding on the tunnel, the worker's masquerade rewrites a tunnelled
 * packet's source to the worker's tunnel address and the gateway's anti-relay rule drops it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { iptablesMissing } from '../../labkit/iptables.js';
import type { MasqueradeMode, NetfilterTool } from '../../labkit/network-options.js';
import { podIp } from '../support/addresses.js';
import { ALL_PROTOS, assertLeavesAs, expectLeavesAs } from '../support/echo.js';
import { waitApplied } from '../support/dataplane.js';
import { kubectl } from '../support/kubectl.js';
import { appSelector, egressPolicy } from '../support/manifests.js';
import { waitAssigned } from '../support/policy-status.js';
import { GATEWAY_NAME, ScenarioLab } from '../support/scenario-lab.js';
import { BRING_UP_TIMEOUT_MS, SUITE_TIMEOUT_MS } from './timeouts.js';

const WORKER = 'worker-1';
const GATEWAY = 'gateway-1';
const WEB = 'default/web';
const OTHER = 'default/other';
/** A selected pod on the gateway node: SNATed there, without the tunnel. */
const LOCAL = 'default/local';
/** Once the dataplane is applied, packets either pass at once or never. */
const PROBE_WINDOW_MS = 5_000;

interface Mode {
  masquerade: MasqueradeMode;
  netfilter: NetfilterTool;
}

const MODES: Mode[] = [
  { masquerade: 'flannel', netfilter: 'iptables' },
  { masquerade: 'flannel', netfilter: 'nft' },
  { masquerade: 'flannel', netfilter: 'iptables-legacy' },
  { masquerade: 'calico', netfilter: 'iptables' },
  { masquerade: 'calico', netfilter: 'nft' },
];

/** One suite per mode; the scenarios of one lab run in order. */
export function cniMasqueradeSuites(): void {
  for (const mode of MODES) {
    const label = `${mode.masquerade}/${mode.netfilter}`;
    const suffix = `cni-${mode.masquerade.slice(0, 3)}-${mode.netfilter.replace('iptables', 'ipt').replace('-legacy', 'l')}`;
    const skip = mode.netfilter === 'nft' ? false : (iptablesMissing(mode.netfilter === 'iptables' ? 'nft' : 'legacy') ?? false);

    describe(`seed 002 EgressPolicy with ${label} masquerade`, { skip, concurrency: 1, timeout: SUITE_TIMEOUT_MS }, () => {
      let env: ScenarioLab;
      let eip: string;

      before(
        async () => {
          env = await ScenarioLab.up(suffix, {
            workers: 1,
            gateways: 1,
            network: { masquerade: mode.masquerade, netfilter: mode.netfilter },
            pods: [
              { namespace: 'default', name: 'web', labels: { app: 'web' }, node: WORKER },
              { namespace: 'default', name: 'other', labels: { app: 'other' }, node: WORKER },
              { namespace: 'default', name: 'local', labels: { app: 'web' }, node: GATEWAY },
            ],
          });
        },
        { timeout: BRING_UP_TIMEOUT_MS },
      );

      after(
        async () => {
          await (env ? env.down() : ScenarioLab.downUnfinished(suffix));
        },
        { timeout: 60_000 },
      );

      test('without a policy, every pod leaves by its own node IP (the CNI masquerades)', async () => {
        await env.settle();
        await assertLeavesAs(env.lab, WEB, env.nodeIpOf(WEB), { protos: ['tcp', 'udp'] });
      });

      test("seed 002's EgressPolicy is Ready and applied on both nodes", { timeout: 60_000 }, async () => {
        const p = egressPolicy('default', 'test', { egressGatewayName: GATEWAY_NAME, appliedTo: appSelector('web') });
        await kubectl(env.lab, ['apply', '-f', '-'], JSON.stringify(p));
        const at = await waitAssigned(env.lab, p);
        assert.equal(at.node, GATEWAY);
        eip = at.ipv4!;
        await waitApplied(env.lab, { gatewayNode: GATEWAY, eip, nodes: [WORKER, GATEWAY], podIps: [podIp(env.info, WEB), podIp(env.info, LOCAL)] });
      });

      test('the selected pod on the worker leaves with the EIP over http, tcp and udp', async () => {
        await expectLeavesAs(env.lab, WEB, eip, { protos: ALL_PROTOS, timeoutMs: PROBE_WINDOW_MS });
      });

      test('the selected pod on the gateway node leaves with the EIP (sluice SNATs before the CNI)', async () => {
        await expectLeavesAs(env.lab, LOCAL, eip, { protos: ['http', 'udp'], timeoutMs: PROBE_WINDOW_MS });
      });

      test('an unselected pod on the worker still leaves by its node IP', async () => {
        await assertLeavesAs(env.lab, OTHER, env.nodeIpOf(OTHER));
      });
    });
  }
}
