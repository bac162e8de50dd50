/**
 * Selected pods and kube-proxy: Services of every kind reached from a pod that seed 002's
 * EgressPolicy selects, and that pod's own egress through the gateway while kube-proxy's rules
 * (and, in iptables mode, the kubelet-era KUBE-FIREWALL drop of packets marked 0x8000) are in
 * place. One lab per kube-proxy mode: 1 worker (the client pods), 1 gateway node (the backend pod).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { LabInfo } from '../../labkit/info.js';
import { iptablesMissing } from '../../labkit/iptables.js';
import type { ServiceState } from '../../labkit/kube-proxy/services.js';
import type { KubeProxyMode } from '../../labkit/network-options.js';
import { nodeIp, podIp } from '../support/addresses.js';
import { ALL_PROTOS, expectLeavesAs } from '../support/echo.js';
import { waitApplied } from '../support/dataplane.js';
import { kubectl } from '../support/kubectl.js';
import { appSelector, egressPolicy } from '../support/manifests.js';
import { waitAssigned } from '../support/policy-status.js';
import { GATEWAY_NAME, ScenarioLab } from '../support/scenario-lab.js';
import { BRING_UP_TIMEOUT_MS, SUITE_TIMEOUT_MS } from './timeouts.js';
import { serviceReply, type ServiceReply } from '../support/service-probe.js';

const WORKER = 'worker-1';
const GATEWAY = 'gateway-1';
const WEB = 'default/web';
const OTHER = 'default/other';
const BACKEND = 'default/backend';
const EXTERNAL_IP = '198.18.0.210';
const PROBE_WINDOW_MS = 5_000;

const MODES: KubeProxyMode[] = ['iptables', 'nftables'];

/** How a client reaches the service through one of its addresses. */
interface Address {
  what: string;
  url: (s: ServiceState, info: LabInfo) => string;
}

const ADDRESSES: Address[] = [
  { what: 'ClusterIP', url: (s) => `http://${s.clusterIP}:${s.port}/` },
  { what: "NodePort on the backend's node", url: (s, info) => `http://${nodeIp(info, GATEWAY)}:${s.nodePort}/` },
  { what: "NodePort on the client's own node", url: (s, info) => `http://${nodeIp(info, WORKER)}:${s.nodePort}/` },
  { what: 'LoadBalancer IP', url: (s) => `http://${s.loadBalancerIP}:${s.port}/` },
  { what: 'external IP', url: (s) => `http://${EXTERNAL_IP}:${s.port}/` },
];

/** One suite per kube-proxy mode; the scenarios of one lab run in order. */
export function servicesSuites(): void {
  for (const mode of MODES) {
    const suffix = `svc-${mode.slice(0, 3)}`;
    const skip = mode === 'iptables' ? (iptablesMissing('nft') ?? false) : false;

    describe(`Services from selected pods, kube-proxy ${mode} mode`, { skip, concurrency: 1, timeout: SUITE_TIMEOUT_MS }, () => {
      let env: ScenarioLab;
      let svc: ServiceState;
      let eip: string;

      before(
        async () => {
          env = await ScenarioLab.up(suffix, {
            workers: 1,
            gateways: 1,
            network: { kubeProxy: mode },
            pods: [
              { namespace: 'default', name: 'web', labels: { app: 'web' }, node: WORKER },
              { namespace: 'default', name: 'other', labels: { app: 'other' }, node: WORKER },
              { namespace: 'default', name: 'backend', labels: { app: 'backend' }, node: GATEWAY },
            ],
          });
          svc = await env.lab.addService({ namespace: 'default', name: 'backend', type: 'LoadBalancer', backend: BACKEND, externalIPs: [EXTERNAL_IP] });
        },
        { timeout: BRING_UP_TIMEOUT_MS },
      );

      after(
        async () => {
          await (env ? env.down() : ScenarioLab.downUnfinished(suffix));
        },
        { timeout: 60_000 },
      );

      test('without a policy, a pod and the external host reach the backend through each of its addresses', async () => {
        for (const a of ADDRESSES) {
          const reply = await serviceReply(env.lab, { pod: OTHER }, a.url(svc, env.info));
          if (a.what === 'ClusterIP') assert.equal(reply.clientIP, podIp(env.info, OTHER), 'kube-proxy does not masquerade pod → ClusterIP');
        }
        for (const url of [`http://${svc.loadBalancerIP}:${svc.port}/`, `http://${EXTERNAL_IP}:${svc.port}/`, `http://${nodeIp(env.info, WORKER)}:${svc.nodePort}/`]) {
          await serviceReply(env.lab, { host: 'ext' }, url);
        }
      });

      test("seed 002's EgressPolicy is Ready and applied on both nodes", { timeout: 60_000 }, async () => {
        const p = egressPolicy('default', 'test', { egressGatewayName: GATEWAY_NAME, appliedTo: appSelector('web') });
        await kubectl(env.lab, ['apply', '-f', '-'], JSON.stringify(p));
        const at = await waitAssigned(env.lab, p);
        eip = at.ipv4!;
        await waitApplied(env.lab, { gatewayNode: GATEWAY, eip, nodes: [WORKER, GATEWAY], podIps: [podIp(env.info, WEB)] });
      });

      test(`the selected pod leaves with the EIP over http, tcp and udp${mode === 'iptables' ? " (replies survive KUBE-FIREWALL's 0x8000 drop)" : ''}`, async () => {
        await expectLeavesAs(env.lab, WEB, eip, { protos: ALL_PROTOS, timeoutMs: PROBE_WINDOW_MS });
      });

      for (const a of ADDRESSES) {
        test(`the selected pod reaches the backend through its ${a.what}`, async () => {
          const reply: ServiceReply = await serviceReply(env.lab, { pod: WEB }, a.url(svc, env.info));
          if (a.what === 'ClusterIP') assert.equal(reply.clientIP, podIp(env.info, WEB), 'pod → ClusterIP keeps the pod address');
          assert.notEqual(reply.clientIP, eip, 'in-cluster traffic never takes the EIP');
        });
      }
    });
  }
}
