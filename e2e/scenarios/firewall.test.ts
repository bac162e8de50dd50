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

const WORKER = 'worker-1';
const RESTRICTED = 'apps/restricted';
const FREE = 'apps/free';
const SCENARIO_TIMEOUT_MS = 240_000;
/** A refusal comes back within this (curl's own count); a dropped SYN would wait 1 s for its first retry. */
const FAST_REFUSAL_MS = 900;

const firewall = (name: string, spec: Record<string, unknown>): KubeObject => ({ apiVersion: API_VERSION, kind: 'EgressFirewall', metadata: { name, namespace: 'apps' }, spec }) as KubeObject;

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

  before(async () => {
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
  }, { timeout: 180_000 });

  after(async () => {
    await env?.down();
  }, { timeout: 60_000 });

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
    }));

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
    }));

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
    }));
});
