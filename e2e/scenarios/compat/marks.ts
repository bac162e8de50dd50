/**
 * A user who knows their cluster runs sluice with a mask over kube-proxy's bits
 * (`--mark-mask 0xff00 --allow-mark-overlap`: "SNAT here" is then 0xff00, which holds kube-proxy's
 * 0x4000 and 0x8000), beside kube-proxy's iptables mode and its KUBE-FIREWALL drop of 0x8000. The
 * VXLAN packets that carry marked packets must leave unmarked, or KUBE-FIREWALL drops every reply.
 * A probe table on both nodes counts the outer packets, and those with any bit of the mask, in
 * output before anything else. 1 worker, 1 gateway node.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Lab } from '../../labkit/lab.js';
import { iptablesMissing } from '../../labkit/iptables.js';
import { podIp } from '../support/addresses.js';
import { waitApplied } from '../support/dataplane.js';
import { ALL_PROTOS, expectLeavesAs } from '../support/echo.js';
import { kubectl } from '../support/kubectl.js';
import { appSelector, egressPolicy } from '../support/manifests.js';
import { waitAssigned } from '../support/policy-status.js';
import { GATEWAY_NAME, ScenarioLab } from '../support/scenario-lab.js';
import { BRING_UP_TIMEOUT_MS, SUITE_TIMEOUT_MS } from './timeouts.js';

const WORKER = 'worker-1';
const GATEWAY = 'gateway-1';
const WEB = 'default/web';
const MASK = 0xff00;
const VXLAN_PORT = 4789;

/** Counts the node's outer VXLAN packets, all and marked, ahead of every other output chain. */
const PROBE = `table inet ccprobe {
  chain out {
    type filter hook output priority -400; policy accept;
    udp dport ${VXLAN_PORT} counter comment "all"
    udp dport ${VXLAN_PORT} meta mark & 0x${MASK.toString(16)} != 0 counter comment "marked"
  }
}
`;

async function probeCounts(lab: Lab, node: string): Promise<{ all: number; marked: number }> {
  const r = await lab.exec({ node }, ['nft', '-j', 'list', 'table', 'inet', 'ccprobe'], { timeoutMs: 10_000 });
  const rules = (JSON.parse(r.stdout) as { nftables: { rule?: { comment?: string; expr: { counter?: { packets: number } }[] } }[] }).nftables.flatMap((x) =>
    x.rule ? [x.rule] : [],
  );
  const count = (c: string) => rules.find((x) => x.comment === c)?.expr.find((e) => e.counter)?.counter?.packets ?? -1;
  return { all: count('all'), marked: count('marked') };
}

export function marksOverKubeProxySuite(): void {
  const suffix = 'marks';
  describe(
    "a mark mask over kube-proxy's bits, allowed by the user, beside KUBE-FIREWALL",
    { skip: iptablesMissing('nft') ?? false, concurrency: 1, timeout: SUITE_TIMEOUT_MS },
    () => {
      let env: ScenarioLab;
      let eip: string;

      before(
        async () => {
          env = await ScenarioLab.up(suffix, {
            workers: 1,
            gateways: 1,
            agent: { args: ['--mark-mask', `0x${MASK.toString(16)}`, '--allow-mark-overlap'] },
            network: { kubeProxy: 'iptables' },
            pods: [{ namespace: 'default', name: 'web', labels: { app: 'web' }, node: WORKER }],
          });
          for (const node of [WORKER, GATEWAY]) await env.lab.exec({ node }, ['nft', '-f', '-'], { input: PROBE, timeoutMs: 10_000 });
          const p = egressPolicy('default', 'test', { egressGatewayName: GATEWAY_NAME, appliedTo: appSelector('web') });
          await kubectl(env.lab, ['apply', '-f', '-'], JSON.stringify(p));
          eip = (await waitAssigned(env.lab, p)).ipv4!;
          await waitApplied(env.lab, { gatewayNode: GATEWAY, eip, nodes: [WORKER, GATEWAY], podIps: [podIp(env.info, WEB)] });
        },
        { timeout: BRING_UP_TIMEOUT_MS },
      );

      after(
        async () => {
          await (env ? env.down() : ScenarioLab.downUnfinished(suffix));
        },
        { timeout: 60_000 },
      );

      test('the selected pod leaves with the EIP, and no VXLAN packet of either node carries a bit of the mask', async () => {
        await expectLeavesAs(env.lab, WEB, eip, { protos: ALL_PROTOS, timeoutMs: 5_000 });
        for (const node of [WORKER, GATEWAY]) {
          const { all, marked } = await probeCounts(env.lab, node);
          assert.ok(all > 0, `${node} sent VXLAN packets (${all})`);
          assert.equal(marked, 0, `${node}: VXLAN packets with a bit of 0x${MASK.toString(16)} (of ${all})`);
        }
      });
    },
  );
}
