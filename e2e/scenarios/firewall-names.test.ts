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
import { echoPoolAddresses } from '../labkit/addressing.js';
import { callEcho, enableFirewallDns, type CallOutcome } from './support/firewall-dns.js';
import { waitAssigned } from './support/policy-status.js';
import { ScenarioLab, scenarioSkip } from './support/scenario-lab.js';
import { serviceReply } from './support/service-probe.js';
import { waitFor } from './support/wait.js';
import { lookupAndCall, outcomeSummary } from './support/lookup-and-call.js';
import { FIREWALL_LOOKUPS } from './support/reliability-scale.js';
import { explainOnNode } from './support/sluice-cli.js';
import type { FirewallExplanation } from '../../lib/planner/explain-firewall.js';
import { API_VERSION } from '../../lib/api/group.js';

const SEED_001 = fileURLToPath(new URL('../../../e2e/scenarios/manifests/seed-001.yaml', import.meta.url));
const WORKERS = ['worker-1', 'worker-2'];
const APP_A = 'apps/app-a';
const APP_B = 'apps/app-b';
/** In the namespace, selected by no allow-list: everything external refused. */
const APP_C = 'apps/app-c';
const SCENARIO_TIMEOUT_MS = 240_000;
/** A refusal comes back within this (curl's own count); a dropped SYN would wait 1 s for its first retry. */
const FAST_REFUSAL_MS = 900;

const LOOKUPS = FIREWALL_LOOKUPS;
/**
 * A CDN that gives each answer one address of the echo pool (about a thousand), the next each time,
 * TTL 1 s: up to the pool's size, each lookup of a run gets an address no lookup got before, so the
 * connection after it depends on the answer's address being in the firewall before the pod got the
 * answer (beyond that, as in the soak's 10 000, addresses come round again).
 */
const CDN = 'fresh.cdn.sluice.test';
const CDN_POOL = echoPoolAddresses();

const ALLOWED: Readonly<Record<string, readonly string[]>> = { [APP_A]: ['github.com', 'httpbin.org'], [APP_B]: ['google.com'], [APP_C]: [] };

describe('egress firewall rules by name end to end', { skip: scenarioSkip, timeout: 10 * 60_000 }, () => {
  let env: ScenarioLab;
  let service: ServiceState;

  const podIp = (pod: string) => env.info.pods.find((p) => `${p.namespace}/${p.name}` === pod)!.ips.find((a) => !a.includes(':'))!;
  const describeOutcome = (o: CallOutcome) => (o.kind === 'answer' ? `answer seen as ${o.reply.clientIP}` : JSON.stringify(o));

  const byName = (name: string, names: readonly string[]): KubeObject =>
    ({
      apiVersion: API_VERSION,
      kind: 'EgressFirewall',
      metadata: { name, namespace: 'apps' },
      spec: { appliedTo: { podSelector: { matchLabels: { app: 'app-a' } } }, defaultAction: 'Deny', egress: names.map((n) => ({ type: 'Allow', to: { dnsName: n } })) },
    }) as KubeObject;

  before(
    async () => {
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
      await env.lab.setDns(CDN, { addresses: CDN_POOL, ttl: 1, rotate: true, perAnswer: 1 });
    },
    { timeout: 240_000 },
  );

  after(
    async () => {
      await env?.down();
    },
    { timeout: 60_000 },
  );

  test(
    "seed 001: app A reaches github.com and httpbin.org, app B google.com, over HTTP and HTTPS through the gateway's EIP; all else external is refused at once; DNS and a Service still work",
    { timeout: SCENARIO_TIMEOUT_MS },
    (t) =>
      env.scenario(async (s) => {
        const objects = parseAllDocuments(await readFile(SEED_001, 'utf8')).map((d) => d.toJSON() as KubeObject);
        await s.apply(...objects);
        const policy = objects.find((o) => o.kind === 'EgressPolicy') as EgressPolicyWire;
        const { ipv4: eip } = await waitAssigned(s.lab, policy);
        assert.equal(eip, env.defaultEipV4, "the policy names no EIP: the gateway's default one");
        // The agents apply the firewalls and start steering the pods' DNS: until then what the pods
        // resolve is not learned. Wait for one success per app, then every call must be right at once.
        for (const [pod, name] of [
          [APP_A, 'github.com'],
          [APP_B, 'google.com'],
        ] as const) {
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

        // sluice explain on the pods' node: which object and rule decide, and which answer taught an address.
        const explainJson = async (pod: string, dest: string, args: string[] = []) => {
          const r = await explainOnNode(s.lab, WORKERS[0]!, pod, dest, args);
          assert.equal(r.exitCode, 0, `sluice explain ${pod} ${dest}: ${r.stderr}`);
          return (JSON.parse(r.stdout) as { firewall: FirewallExplanation }).firewall;
        };
        const github = zone.records['github.com']!.addresses[0]!;
        // A fresh lookup: what the loop above learned may have expired (TTL 5 s + 5 s of grace).
        assert.equal((await callEcho(s.lab, APP_A, 'http', 'github.com')).kind, 'answer');
        const allowed = await explainJson(APP_A, github, ['--learned']);
        assert.equal(allowed.verdict, 'Allow', `${allowed.summary}: ${JSON.stringify(allowed.rules)}`);
        assert.deepEqual(allowed.decidedBy, { firewall: 'apps/app-a', kind: 'EgressFirewall', rule: 0 });
        const answer = allowed.rules.at(-1)!.learned?.[0];
        assert.match(
          answer?.comment ?? '',
          new RegExp(`^dns github\\.com A ${github.replace(/\./g, '\\.')} ttl \\d+ to ${podIp(APP_A).replace(/\./g, '\\.')}$`),
          'the learned element names the query, the record and the pod',
        );
        const refused = await explainJson(APP_B, github, ['--learned']);
        assert.equal(refused.verdict, 'Deny', refused.summary);
        assert.deepEqual(refused.decidedBy, { firewall: 'apps/deny-external', kind: 'EgressFirewall', rule: 'default' });
        assert.equal((await explainJson(APP_A, 'httpbin.org')).decidedBy?.rule, 1, 'by name: the rule that names it');
        assert.equal((await explainJson(APP_A, `${service.clusterIP}`)).verdict, 'NotJudged');
        const bad = await explainOnNode(s.lab, WORKERS[0]!, APP_A, 'not a name!');
        assert.notEqual(bad.exitCode, 0);
        assert.match(bad.stderr, /EGW_ERR_INPUT: --dest "not a name!" is neither an IP address nor a DNS name/);
        t.diagnostic(`sluice explain: ${allowed.summary} (${answer?.comment}); ${refused.summary}`);
      }),
  );

  test(
    `consistency: a name answered with a new address each time, TTL 1 s: ${LOOKUPS} lookups each followed at once by a connection, none refused`,
    { timeout: SCENARIO_TIMEOUT_MS + LOOKUPS * 100 },
    (t) =>
      env.scenario(async (s) => {
        await s.apply(byName('cdn', [CDN]));
        // Until the firewall is in force on the pod's node, its lookups skip the forwarder and teach
        // nothing (a call made then succeeds unchecked): wait until an address CDN lacks is refused.
        const unnamed = env.info.echo.addresses.find((a) => !a.includes(':'))!;
        await waitFor(
          `${APP_A}: the firewall refuses ${unnamed}`,
          60_000,
          async () => ((await callEcho(s.lab, APP_A, 'http', unnamed)).kind === 'refused' ? true : undefined),
          500,
        );
        await waitFor(`${APP_A} reaches ${CDN} by name`, 60_000, async () => ((await callEcho(s.lab, APP_A, 'http', CDN)).kind === 'answer' ? true : undefined), 500);
        const started = Date.now();
        const calls = await lookupAndCall(s.lab, APP_A, CDN, LOOKUPS);
        const seconds = (Date.now() - started) / 1000;
        assert.equal(calls.length, LOOKUPS, 'one result per lookup');
        const reached = new Set(calls.map((c) => c.ip));
        t.diagnostic(`${LOOKUPS} lookups and calls in ${seconds.toFixed(1)} s: ${outcomeSummary(calls)}; ${reached.size} addresses reached`);
        assert.equal(calls.filter((c) => c.outcome === 'refused').length, 0, `no connection refused (${outcomeSummary(calls)})`);
        assert.equal(calls.filter((c) => c.outcome !== 'ok').length, 0, `every call answered (${outcomeSummary(calls)})`);
        const want = Math.min(LOOKUPS, CDN_POOL.length);
        assert.ok(reached.size >= want, `every lookup was given an address no lookup before it got: ${reached.size} addresses in ${LOOKUPS} lookups`);
      }),
  );

  test('two pods on two nodes given different answers for one name each reach their own, and only theirs', { timeout: SCENARIO_TIMEOUT_MS + LOOKUPS * 100 }, (t) =>
    env.scenario(async (s) => {
      const [x, y] = env.info.echo.addresses.filter((a) => !a.includes(':')).slice(3, 5) as [string, string];
      const split = 'split.sluice.test';
      await s.lab.setDns(split, { addresses: [x], ttl: 1 });
      try {
        await s.apply(byName('split', [split, CDN]));
        const APP_A_2 = 'apps/app-a-2';
        const resolvesTo = async (pod: string, want: string) =>
          waitFor(
            `${pod} resolves ${split} to ${want}`,
            30_000,
            async () =>
              (await callEcho(s.lab, pod, 'http', split)).kind === 'answer'
                ? (await s.lab.exec({ pod }, ['getent', 'ahostsv4', split])).stdout.startsWith(`${want} `) || undefined
                : undefined,
            500,
          );
        // Until the firewall is in force on a pod's node, its lookups do not go through the
        // forwarder and teach nothing: wait until both pods are refused an address neither name has.
        const unnamed = env.info.echo.addresses.find((a) => !a.includes(':') && a !== x && a !== y)!;
        for (const pod of [APP_A, APP_A_2]) {
          await waitFor(`${pod}: the firewall refuses ${unnamed}`, 30_000, async () => ((await callEcho(s.lab, pod, 'http', unnamed)).kind === 'refused' ? true : undefined), 500);
        }
        // worker-1's pod asks while the name means x; then it means y, and worker-2's pod asks.
        await resolvesTo(APP_A, x);
        await s.lab.setDns(split, { addresses: [y], ttl: 1 });
        await resolvesTo(APP_A_2, y);
        const seen = async (pod: string, address: string) => callEcho(s.lab, pod, 'http', address);
        assert.equal((await seen(APP_A, x)).kind, 'answer', `${APP_A} reaches ${x}, its answer`);
        assert.equal((await seen(APP_A_2, y)).kind, 'answer', `${APP_A_2} reaches ${y}, its answer`);
        // What a firewall resolving names by itself would allow both; each node learned only its pod's answer.
        assert.equal((await seen(APP_A, y)).kind, 'refused', `${APP_A} never got ${y} from DNS`);
        assert.equal((await seen(APP_A_2, x)).kind, 'refused', `${APP_A_2} never got ${x} from DNS (${x} expired from its answer 1 s + grace ago, if ever)`);
        // Both pods at once on the CDN name: each call reaches the address its own lookup gave.
        const started = Date.now();
        const [a, b] = await Promise.all([lookupAndCall(s.lab, APP_A, CDN, LOOKUPS), lookupAndCall(s.lab, APP_A_2, CDN, LOOKUPS)]);
        const seconds = (Date.now() - started) / 1000;
        t.diagnostic(`two pods, ${LOOKUPS} lookups and calls each in ${seconds.toFixed(1)} s: ${outcomeSummary(a)} | ${outcomeSummary(b)}`);
        for (const [pod, calls] of [
          [APP_A, a],
          [APP_A_2, b],
        ] as const) {
          assert.equal(calls.length, LOOKUPS, `${pod}: one result per lookup`);
          assert.equal(calls.filter((c) => c.outcome !== 'ok').length, 0, `${pod}: every call answered (${outcomeSummary(calls)})`);
        }
        assert.ok(
          a.some((c, i) => c.ip !== b[i]!.ip),
          'the two pods were given different answers',
        );
      } finally {
        await s.lab.deleteDns(split);
      }
    }),
  );
});
