/**
 * EgressFirewall end to end on one shared cluster (1 worker, 1 gateway node, the cluster DNS pod):
 * every object goes through kubectl → API server → controller (slices) → agents → kernel, and
 * every verdict is what a pod's own connection got: the echo's answer with the source it saw, or
 * a refusal that arrives at once (a TCP reset, an ICMP error), never a timeout.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { API_VERSION } from '../../lib/api/group.js';
import type { KubeObject } from '../../lib/api/wire.js';
import { parseEchoReply } from '../labkit/echo-client.js';
import { appSelector, egressPolicy } from './support/manifests.js';
import { waitAssigned } from './support/policy-status.js';
import { GATEWAY_NAME, ScenarioLab, scenarioSkip } from './support/scenario-lab.js';
import { waitFor } from './support/wait.js';
import { seenFrom } from './support/echo.js';
import { agentDaemon } from '../labkit/cluster/agent-daemon.js';

const WORKER = 'worker-1';
const RESTRICTED = 'apps/restricted';
const FREE = 'apps/free';
const SCENARIO_TIMEOUT_MS = 240_000;
/** A refusal comes back within this (curl's own count); a dropped SYN would wait 1 s for its first retry. */
const FAST_REFUSAL_MS = 900;

const firewall = (name: string, spec: Record<string, unknown>): KubeObject =>
  ({ apiVersion: API_VERSION, kind: 'EgressFirewall', metadata: { name, namespace: 'apps' }, spec }) as KubeObject;

/** `ms`: how long curl itself waited for the refusal, measured in the pod (not the exec around it). */
type Outcome = { kind: 'answer'; seenAs: string } | { kind: 'refused'; ms: number } | { kind: 'other'; detail: string };

describe('egress firewall end to end', { skip: scenarioSkip, timeout: 10 * 60_000 }, () => {
  let env: ScenarioLab;
  let echo: string[];
  let httpPort: number;

  /** One HTTP call from the pod to the echo at `address`. */
  const call = async (pod: string, address: string): Promise<Outcome> => {
    const r = await env.lab.exec({ pod }, ['curl', '-sS', '--max-time', '4', `http://${address}:${httpPort}/`], { allowFailure: true, timeoutMs: 15_000 });
    if (r.exitCode === 0) return { kind: 'answer', seenAs: parseEchoReply(r.stdout, 'http').clientIP };
    // curl exit 7: the connection was refused (our TCP reset); curl says how long it waited
    const waited = /after (\d+) ms/.exec(r.stderr);
    if (r.exitCode === 7 && waited) return { kind: 'refused', ms: Number(waited[1]) };
    return { kind: 'other', detail: `exit ${r.exitCode}: ${r.stderr.trim()}` };
  };
  const expectRefused = async (pod: string, address: string) =>
    waitFor(`${pod} → ${address} refused`, 30_000, async () => {
      const o = await call(pod, address);
      if (o.kind !== 'refused') throw new Error(JSON.stringify(o));
      assert.ok(o.ms < FAST_REFUSAL_MS, `refused at once, not after ${o.ms} ms`);
      return true;
    });
  const expectAnswer = async (pod: string, address: string, seenAs: string) =>
    waitFor(`${pod} → ${address} answered, seen as ${seenAs}`, 30_000, async () => {
      const o = await call(pod, address);
      if (o.kind !== 'answer' || o.seenAs !== seenAs) throw new Error(JSON.stringify(o));
      return true;
    });
  const resolves = async (pod: string, name: string) => (await env.lab.exec({ pod }, ['getent', 'ahostsv4', name])).stdout.split('\n')[0]?.split(/\s+/)[0];

  before(
    async () => {
      env = await ScenarioLab.up('fw', {
        workers: 1,
        gateways: 1,
        kubeDns: true,
        pods: [
          { namespace: 'apps', name: 'restricted', labels: { app: 'restricted' }, node: WORKER },
          { namespace: 'apps', name: 'free', labels: { app: 'free' }, node: WORKER },
        ],
      });
      echo = env.info.echo.addresses.filter((a) => !a.includes(':'));
      httpPort = env.info.echo.httpPort;
      assert.ok(echo.length >= 3, 'the lab echo answers on several external addresses');
    },
    { timeout: 180_000 },
  );

  after(
    async () => {
      await env?.down();
    },
    { timeout: 60_000 },
  );

  test('seed 003 deny-external: external refused at once, DNS through kube-dns and other pods still work, unselected pods unaffected', { timeout: SCENARIO_TIMEOUT_MS }, () =>
    env.scenario(async (s) => {
      await expectAnswer(RESTRICTED, echo[0]!, env.nodeIpOf(RESTRICTED));
      await s.apply(firewall('deny-external', { appliedTo: { podSelector: { matchLabels: { app: 'restricted' } } }, egress: [], defaultAction: 'Deny' }));
      for (const address of echo.slice(0, 3)) await expectRefused(RESTRICTED, address);
      // UDP too (the echo's datagram service on its primary address): the restricted pod gets no answer, the free one does
      await assert.rejects(seenFrom(env.lab, RESTRICTED, 'udp'), /no answer/);
      assert.equal(await seenFrom(env.lab, FREE, 'udp'), env.nodeIpOf(FREE));
      // kube-dns is a cluster destination: names still resolve, over UDP and TCP
      assert.ok(await resolves(RESTRICTED, 'github.com'), 'github.com resolves through kube-dns');
      await env.lab.exec({ pod: RESTRICTED }, ['getent', 'ahostsv4', 'google.com'], { env: { RES_OPTIONS: 'use-vc' } });
      await expectAnswer(FREE, echo[0]!, env.nodeIpOf(FREE));
    }),
  );

  test('seed 003 private-range variant: allowed ranges reach the echo, the rest is refused', { timeout: SCENARIO_TIMEOUT_MS }, () =>
    env.scenario(async (s) => {
      await s.apply(
        firewall('private-only', {
          appliedTo: { podSelector: { matchLabels: { app: 'restricted' } } },
          defaultAction: 'Deny',
          egress: [
            { type: 'Allow', to: { cidrSelector: '10.0.0.0/8' } },
            { type: 'Allow', to: { cidrSelector: '172.16.0.0/12' } },
            { type: 'Allow', to: { cidrSelector: '192.168.0.0/16' } },
            // the lab's stand-in for a private range outside the cluster: one external address
            { type: 'Allow', to: { cidrSelector: `${echo[1]}/32` }, ports: [{ protocol: 'TCP', port: httpPort }] },
          ],
        }),
      );
      await expectRefused(RESTRICTED, echo[0]!);
      await expectAnswer(RESTRICTED, echo[1]!, env.nodeIpOf(RESTRICTED));
      await expectAnswer(FREE, echo[0]!, env.nodeIpOf(FREE));
    }),
  );

  test('first match wins, and an allowed flow of a pod an EgressPolicy selects still leaves with the EIP', { timeout: SCENARIO_TIMEOUT_MS }, () =>
    env.scenario(async (s) => {
      const policy = egressPolicy('apps', 'via-gateway', { egressGatewayName: GATEWAY_NAME, appliedTo: appSelector('restricted') });
      await s.apply(
        policy,
        firewall('ordered', {
          appliedTo: { podSelector: { matchLabels: { app: 'restricted' } } },
          egress: [
            { type: 'Deny', to: { cidrSelector: `${echo[2]}/32` } },
            { type: 'Allow', to: { cidrSelector: `${echo[2]}/32` } },
            { type: 'Allow', to: { cidrSelector: `${echo[0]}/32` } },
            { type: 'Deny', to: { cidrSelector: '0.0.0.0/0' } },
          ],
        }),
      );
      const at = await waitAssigned(s.lab, policy);
      await expectAnswer(RESTRICTED, echo[0]!, at.ipv4!);
      await expectRefused(RESTRICTED, echo[2]!);
      await expectRefused(RESTRICTED, echo[1]!);
    }),
  );

  test(
    'rules by name: the pod reaches the address its own lookup gave, at the first connection, and is refused elsewhere; DNS works while the agent is down',
    { timeout: SCENARIO_TIMEOUT_MS },
    (t) =>
      env.scenario(async (s) => {
        const state = await s.lab.state();
        const node = state.nodes.find((n) => n.name === WORKER)!;
        const kubeDns = env.info.dns.kubeDns?.ips.find((ip) => !ip.includes(':'));
        assert.ok(kubeDns, 'the lab runs the cluster DNS pod');
        const plain = agentDaemon(state, node, state.agent);
        await s.lab.replaceDaemon(
          agentDaemon(state, node, { ...state.agent, args: [...(state.agent?.args ?? []), '--firewall-dns-port', '15353', '--firewall-dns-upstream', kubeDns] }),
        );
        try {
          await s.apply(
            firewall('by-name', {
              appliedTo: { podSelector: { matchLabels: { app: 'restricted' } } },
              defaultAction: 'Deny',
              egress: [{ type: 'Allow', to: { dnsName: 'github.com' } }],
            }),
          );
          // Until the firewall is in force and the forwarder steers the pod's DNS, what it resolves is
          // not learned (and a call succeeds unchecked): wait for a refusal, then the first success.
          await waitFor(
            'google.com refused',
            60_000,
            async () => {
              const address = await resolves(RESTRICTED, 'google.com');
              const o = address ? await call(RESTRICTED, address) : undefined;
              return o?.kind === 'refused' ? true : undefined;
            },
            500,
          );
          await waitFor(
            'github.com reached by name',
            60_000,
            async () => {
              const address = await resolves(RESTRICTED, 'github.com');
              const o = address ? await call(RESTRICTED, address) : undefined;
              return o?.kind === 'answer' ? true : undefined;
            },
            500,
          );
          for (let i = 0; i < 5; i++) {
            const address = (await resolves(RESTRICTED, 'github.com'))!;
            const o = await call(RESTRICTED, address);
            assert.deepEqual(o, { kind: 'answer', seenAs: env.nodeIpOf(RESTRICTED) }, `lookup ${i} then at once a connection to ${address}`);
          }
          const google = (await resolves(RESTRICTED, 'google.com'))!;
          assert.ok(google, 'other names still resolve');
          const refused = await call(RESTRICTED, google);
          assert.equal(refused.kind, 'refused', `google.com (${google}) is not allowed: ${JSON.stringify(refused)}`);
          const learned = (await s.lab.exec({ node: WORKER }, ['nft', 'list', 'table', 'inet', 'sluice'])).stdout;
          assert.match(learned, /flags timeout/);
          t.diagnostic(
            `learned: ${learned
              .split('\n')
              .filter((l) => /timeout \d/.test(l))
              .join(' | ')
              .trim()
              .slice(0, 300)}`,
          );
          // The agent stopped cleanly: it took its steer element out, so the pod's DNS goes straight to
          // kube-dns again at once (after a crash, when the element's 3 s run out).
          const steer = async () => (await s.lab.exec({ node: WORKER }, ['nft', 'list', 'set', 'inet', 'sluice', 'dns_steer4'])).stdout;
          assert.match(await steer(), new RegExp(`elements = \\{ ${kubeDns.replace(/\./g, '\\.')} timeout 3s`), 'the forwarder renews its steer element');
          const { readyLogLine: _ready, ...stopped } = plain;
          await s.lab.replaceDaemon({ ...stopped, argv: ['sleep', '86400'] });
          assert.doesNotMatch(await steer(), /elements/, 'a clean stop takes the steer element out');
          await waitFor('DNS without the agent', 20_000, async () => ((await resolves(RESTRICTED, 'httpbin.org').catch(() => undefined)) ? true : undefined), 500);
        } finally {
          await s.lab.replaceDaemon(plain);
        }
      }),
  );

  test(
    "a NetworkPolicy-style drop in another table at the same hook still drops what sluice allows, before, beside or after sluice's chain, also on the way to the gateway",
    { timeout: SCENARIO_TIMEOUT_MS },
    (t) =>
      env.scenario(async (s) => {
        const policy = egressPolicy('apps', 'via-gateway', { egressGatewayName: GATEWAY_NAME, appliedTo: appSelector('restricted') });
        await s.apply(
          policy,
          firewall('allow-one', {
            appliedTo: { podSelector: { matchLabels: { app: 'restricted' } } },
            defaultAction: 'Deny',
            egress: [{ type: 'Allow', to: { cidrSelector: `${echo[0]}/32` } }],
          }),
        );
        const at = await waitAssigned(s.lab, policy);
        await expectAnswer(RESTRICTED, echo[0]!, at.ipv4!);
        const podIp = env.info.pods.find((p) => `${p.namespace}/${p.name}` === RESTRICTED)!.ips.find((a) => !a.includes(':'))!;
        const nft = (argv: string[], input?: string) => s.lab.exec({ node: WORKER }, ['nft', ...argv], { timeoutMs: 5_000, ...(input ? { input } : {}) });
        // sluice's firewall chain is at filter - 5; a CNI's policy chain may sit anywhere around it.
        for (const priority of [-10, -5, 0]) {
          await nft(
            ['-f', '-'],
            `table inet netpol {\n chain forward {\n  type filter hook forward priority ${priority}; policy accept;\n  ip saddr ${podIp} ip daddr ${echo[0]} tcp dport ${httpPort} counter drop comment "deny restricted to echo"\n }\n}\n`,
          );
          const sluiceAccepted = async () => {
            const line = (await nft(['list', 'chain', 'inet', 'sluice', 'egress_firewall'])).stdout.split('\n').find((l) => /accept/.test(l) && l.includes(`daddr ${echo[0]} `));
            return { line: line?.trim(), packets: Number(/counter packets (\d+)/.exec(line ?? '')?.[1] ?? NaN) };
          };
          try {
            const before = await sluiceAccepted();
            const o = await call(RESTRICTED, echo[0]!);
            assert.equal(o.kind, 'other', `with the other table's drop at priority ${priority}, no answer and no refusal: ${JSON.stringify(o)}`);
            const dropped = /counter packets (\d+)/.exec((await nft(['list', 'table', 'inet', 'netpol'])).stdout);
            assert.ok(Number(dropped?.[1]) > 0, `the other table's drop counted the pod's packets at priority ${priority}`);
            const accepted = await sluiceAccepted();
            // After sluice's chain, the packets it accepted are the ones the other table drops.
            if (priority > -5) assert.ok(accepted.packets > before.packets, `sluice's Allow rule accepted the packets the other table then dropped: ${accepted.line}`);
            t.diagnostic(`priority ${priority}: dropped ${dropped?.[1]} packets; sluice's rule: ${accepted.line}`);
          } finally {
            await nft(['delete', 'table', 'inet', 'netpol']);
          }
        }
        await expectAnswer(RESTRICTED, echo[0]!, at.ipv4!);
      }),
  );
});
