/**
 * EgressFirewall rules by name end to end: seed 001's scenario as its YAML (manifests/seed-001.yaml)
 * through kubectl, with the agents' DNS forwarder on, kube-proxy (nftables mode) serving a Service,
 * and the cluster DNS pod the pods resolve through. Every call is what an application does: curl
 * resolves the name through the pod's resolver and connects at once, over HTTP and over HTTPS (SNI,
 * the lab CA); the external echo says which source address it saw.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import type { EgressPolicyWire, KubeObject } from '../../lib/api/wire.js';
import type { ServiceState } from '../labkit/kube-proxy/services.js';
import { SEED_NAMES } from '../labkit/dns/default-zone.js';
import { callEcho, enableFirewallDns, type CallOutcome } from './support/firewall-dns.js';
import { waitAssigned } from './support/policy-status.js';
import { ScenarioLab, scenarioSkip } from './support/scenario-lab.js';
import { serviceReply } from './support/service-probe.js';
import { waitFor } from './support/wait.js';

const SEED_001 = fileURLToPath(new URL('../../../e2e/scenarios/manifests/seed-001.yaml', import.meta.url));
const WORKERS = ['worker-1', 'worker-2'];
const APP_A = 'apps/app-a';
const APP_B = 'apps/app-b';
/** In the namespace, selected by no allow-list: everything external refused. */
const APP_C = 'apps/app-c';
const SCENARIO_TIMEOUT_MS = 240_000;
/** A refusal comes back within this (curl's own count); a dropped SYN would wait 1 s for its first retry. */
const FAST_REFUSAL_MS = 900;

const ALLOWED: Readonly<Record<string, readonly string[]>> = { [APP_A]: ['github.com', 'httpbin.org'], [APP_B]: ['google.com'], [APP_C]: [] };

describe('egress firewall rules by name end to end', { skip: scenarioSkip, timeout: 10 * 60_000 }, () => {
  let env: ScenarioLab;
  let service: ServiceState;

  const podIp = (pod: string) => env.info.pods.find((p) => `${p.namespace}/${p.name}` === pod)!.ips.find((a) => !a.includes(':'))!;
  const describeOutcome = (o: CallOutcome) => (o.kind === 'answer' ? `answer seen as ${o.reply.clientIP}` : JSON.stringify(o));

  before(async () => {
    env = await ScenarioLab.up('fwn', {
      workers: WORKERS.length,
      gateways: 1,
      kubeDns: true,
      network: { kubeProxy: 'nftables' },
      pods: [
        { namespace: 'apps', name: 'app-a', labels: { app: 'app-a' }, node: WORKERS[0] },
        { namespace: 'apps', name: 'app-b', labels: { app: 'app-b' }, node: WORKERS[0] },
        { namespace: 'apps', name: 'app-c', labels: { app: 'app-c' }, node: WORKERS[0] },
        { namespace: 'apps', name: 'app-a-2', labels: { app: 'app-a' }, node: WORKERS[1] },
        { namespace: 'default', name: 'backend', labels: { app: 'backend' }, node: WORKERS[1] },
      ],
    });
    service = await env.lab.addService({ namespace: 'default', name: 'backend', type: 'ClusterIP', backend: 'default/backend' });
    await enableFirewallDns(env.lab, WORKERS);
  }, { timeout: 240_000 });

  after(async () => {
    await env?.down();
  }, { timeout: 60_000 });

  test("seed 001: app A reaches github.com and httpbin.org, app B google.com, over HTTP and HTTPS through the gateway's EIP; all else external is refused at once; DNS and a Service still work", { timeout: SCENARIO_TIMEOUT_MS }, (t) =>
    env.scenario(async (s) => {
      const objects = parseAllDocuments(await readFile(SEED_001, 'utf8')).map((d) => d.toJSON() as KubeObject);
      await s.apply(...objects);
      const policy = objects.find((o) => o.kind === 'EgressPolicy') as EgressPolicyWire;
      const { ipv4: eip } = await waitAssigned(s.lab, policy);
      assert.equal(eip, env.defaultEipV4, "the policy names no EIP: the gateway's default one");
      // The agents apply the firewalls and start steering the pods' DNS: until then what the pods
      // resolve is not learned. Wait for one success per app, then every call must be right at once.
      for (const [pod, name] of [[APP_A, 'github.com'], [APP_B, 'google.com']] as const) {
        await waitFor(`${pod} reaches ${name} by name`, 60_000, async () => ((await callEcho(s.lab, pod, 'http', name)).kind === 'answer' ? true : undefined), 500);
      }
      const zone = await s.lab.dnsZone();
      for (const pod of [APP_A, APP_B, APP_C]) {
        for (const name of Object.keys(SEED_NAMES)) {
          for (const proto of ['http', 'https'] as const) {
            const o = await callEcho(s.lab, pod, proto, name);
            const what = `${pod} → ${proto}://${name}`;
            if (ALLOWED[pod]!.includes(name)) {
              assert.equal(o.kind, 'answer', `${what}: ${describeOutcome(o)}`);
              if (o.kind !== 'answer') continue;
              assert.equal(o.reply.clientIP, eip, `${what} leaves with the EIP`);
              assert.ok(zone.records[name]!.addresses.includes(o.reply.serverIP!), `${what} reached ${o.reply.serverIP}, an address of ${name}`);
              if (proto === 'https') assert.equal(o.reply.sni, name, `${what} sent its name as SNI`);
            } else {
              assert.equal(o.kind, 'refused', `${what} is not allowed: ${describeOutcome(o)}`);
              if (o.kind === 'refused') assert.ok(o.ms < FAST_REFUSAL_MS, `${what} refused at once, not after ${o.ms} ms`);
            }
          }
        }
      }
      // An external address no rule names: refused for every pod of the namespace, by address too.
      const named = new Set(Object.keys(SEED_NAMES).flatMap((n) => zone.records[n]!.addresses));
      const unnamed = env.info.echo.addresses.find((a) => !a.includes(':') && !named.has(a))!;
      for (const pod of [APP_A, APP_B, APP_C]) {
        const o = await callEcho(s.lab, pod, 'http', unnamed);
        assert.equal(o.kind, 'refused', `${pod} → ${unnamed}: ${describeOutcome(o)}`);
      }
      // Cluster traffic is never judged: each pod reaches the Service (kube-proxy DNAT to a pod on
      // the other node) and the backend sees the pod's own address; names resolve for every pod.
      for (const pod of [APP_A, APP_B, APP_C]) {
        const reply = await serviceReply(s.lab, { pod }, `http://${service.clusterIP}:${service.port}/`);
        assert.equal(reply.clientIP, podIp(pod), `${pod} → Service ${service.clusterIP}`);
        const r = await s.lab.exec({ pod }, ['getent', 'ahostsv4', 'echo.sluice.test']);
        assert.ok(r.stdout.trim(), `${pod} resolves a name no rule allows`);
      }
      t.diagnostic(`allowed calls left as ${eip}; refusals within ${FAST_REFUSAL_MS} ms`);
    }));
});
