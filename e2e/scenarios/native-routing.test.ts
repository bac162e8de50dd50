/**
 * Native routing (`spec.transport: native`) on one LAN segment: 1 worker, 2 gateway nodes. A
 * selected pod leaves with the EIP through the carrier without touching the VXLAN device (and the
 * policy's NativePath condition says so), a LAN
 * host that is not a node cannot have a pod's forged packet SNATed, and when the carrying agent
 * is killed the workers follow the EIP to the other node, still natively.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LAN_ANNOTATION } from '../../lib/api/group.js';
import { nodeIp, podIp } from './support/addresses.js';
import { recordArrivals } from './support/arrivals.js';
import { waitApplied } from './support/dataplane.js';
import { ALL_PROTOS, expectLeavesAs } from './support/echo.js';
import { kubectl, kubectlJson } from './support/kubectl.js';
import { appSelector, egressPolicy } from './support/manifests.js';
import { condition, policyStatus, waitAssigned } from './support/policy-status.js';
import { GATEWAY_NAME, ScenarioLab, scenarioSkip } from './support/scenario-lab.js';
import { waitFor } from './support/wait.js';
import type { Lab } from '../labkit/lab.js';

const WORKER = 'worker-1';
const WEB = 'default/web';
/** Nothing listens there: forged datagrams get no answer, the external host only records their sources. */
const FORGED_PORT = 9102;

/** Packets the node's VXLAN device sent so far. */
async function vxlanTx(lab: Lab, node: string): Promise<number> {
  const r = await lab.exec({ node }, ['cat', '/sys/class/net/egress.vxlan/statistics/tx_packets']);
  return Number(r.stdout.trim());
}

/** Packets a counted guard rule of sluice's table on the node dropped, by its comment. */
async function guardDrops(lab: Lab, node: string, comment: string): Promise<number> {
  const r = await lab.exec({ node }, ['nft', '-j', 'list', 'chain', 'inet', 'sluice', 'egress_forward']);
  const doc = JSON.parse(r.stdout) as { nftables: { rule?: { comment?: string; expr: Record<string, { packets?: number }>[] } }[] };
  const found = doc.nftables.find((o) => o.rule?.comment === comment)?.rule;
  assert.ok(found, `a rule "${comment}" on ${node}`);
  return found.expr.find((e) => e.counter)?.counter?.packets ?? 0;
}

describe('native routing end to end', { skip: scenarioSkip, timeout: 6 * 60_000 }, () => {
  let env: ScenarioLab;
  const policy = egressPolicy('default', 'native', { egressGatewayName: GATEWAY_NAME, appliedTo: appSelector('web') });
  let eip: string;
  let carrier: string;

  before(
    async () => {
      env = await ScenarioLab.up('native', { workers: 1, gateways: 2, pods: [{ namespace: 'default', name: 'web', labels: { app: 'web' }, node: WORKER }] });
      await kubectl(env.lab, ['patch', 'egressgateway', GATEWAY_NAME, '--type', 'merge', '-p', JSON.stringify({ spec: { transport: 'native' } })]);
      const nodes = env.info.nodes.map((n) => n.name);
      await waitFor('every agent to publish its LAN link', 30_000, async () => {
        for (const node of nodes) {
          const t = await kubectlJson<{ metadata?: { annotations?: Record<string, string> } }>(env.lab, ['get', 'egresstunnel', node]);
          const lan = t.metadata?.annotations?.[LAN_ANNOTATION];
          if (!lan?.includes(`${nodeIp(env.info, node)}/`)) throw new Error(`${node}: ${lan ?? 'none yet'}`);
        }
        return true;
      });
      await kubectl(env.lab, ['apply', '-f', '-'], JSON.stringify(policy));
      const at = await waitAssigned(env.lab, policy, { programmed: true });
      eip = at.ipv4!;
      carrier = at.node;
      await waitApplied(env.lab, { gatewayNode: carrier, eip, nodes: [WORKER, carrier], podIps: [podIp(env.info, WEB)] });
    },
    { timeout: 180_000 },
  );

  after(
    async () => {
      await (env ? env.down() : ScenarioLab.downUnfinished('native'));
    },
    { timeout: 60_000 },
  );

  test('a selected pod leaves with the EIP over http, tcp and udp, routed to the carrier node address, with no VXLAN packet', { timeout: 60_000 }, async () => {
    const before = await vxlanTx(env.lab, WORKER);
    await expectLeavesAs(env.lab, WEB, eip, { protos: ALL_PROTOS, timeoutMs: 10_000 });
    assert.equal(await vxlanTx(env.lab, WORKER), before, "the worker's VXLAN device sent nothing");
    const nativePath = condition(await policyStatus(env.lab, policy), 'NativePath');
    assert.deepEqual([nativePath?.status, nativePath?.reason], ['True', 'OnSegment'], JSON.stringify(nativePath));
    const rules = await env.lab.exec({ node: WORKER }, ['ip', '-j', 'rule', 'show']);
    const tables = (JSON.parse(rules.stdout) as { table?: string; fwmark?: string }[]).filter((x) => x.fwmark && x.table && /^\d+$/.test(x.table) && Number(x.table) > 3000);
    const routes = await Promise.all(tables.map(async (t) => (await env.lab.exec({ node: WORKER }, ['ip', '-j', 'route', 'show', 'table', t.table!])).stdout));
    assert.ok(
      routes.some((text) =>
        (JSON.parse(text) as { dst: string; gateway?: string; dev: string }[]).some((x) => x.dst === 'default' && x.gateway === nodeIp(env.info, carrier) && x.dev === 'eth0'),
      ),
      `a table on ${WORKER} routes to ${carrier}'s LAN address on eth0: ${routes.join(' ')}`,
    );
  });

  test('a LAN host that is not a node, forging the pod address towards the carrier, is never SNATed to the EIP', { timeout: 60_000 }, async () => {
    const forged = podIp(env.info, WEB);
    const echo = env.info.echo.ipv4;
    const control = { host: 'control' } as const;
    const arrivals = await recordArrivals(env.lab, FORGED_PORT);
    const dropped = await guardDrops(env.lab, carrier, 'native relay');
    try {
      await env.lab.exec(control, ['sysctl', '-qw', 'net.ipv4.conf.all.accept_redirects=0', 'net.ipv4.conf.eth0.accept_redirects=0']);
      await env.lab.exec(control, ['ip', 'address', 'replace', `${forged}/32`, 'dev', 'lo']);
      await env.lab.exec(control, ['ip', 'route', 'replace', `${echo}/32`, 'via', nodeIp(env.info, carrier), 'src', forged]);
      for (let i = 0; i < 3; i++) {
        await env.lab.exec(control, ['nc', '-u', '-w', '1', '-s', forged, echo, String(FORGED_PORT)], { input: 'forged\n', allowFailure: true });
      }
      const seen = await arrivals.sources();
      assert.ok(!seen.includes(eip), `the external host saw ${seen.join(', ')} (the EIP is ${eip})`);
      assert.ok((await guardDrops(env.lab, carrier, 'native relay')) >= dropped + 3, `the carrier dropped the forged packets as relays (${dropped} before)`);
    } finally {
      await arrivals.remove();
      await env.lab.exec(control, ['ip', 'route', 'del', `${echo}/32`], { allowFailure: true });
      await env.lab.exec(control, ['ip', 'address', 'del', `${forged}/32`, 'dev', 'lo'], { allowFailure: true });
    }
  });

  test('failover: the carrying agent killed, the EIP moves and the pod leaves with it through the other node, still natively', { timeout: 120_000 }, async () => {
    const from = carrier;
    try {
      await env.lab.killAgent(from);
      const at = await waitAssigned(env.lab, policy, { notNode: from }, 30_000);
      assert.equal(at.ipv4, eip, 'the EIP is kept');
      const before = await vxlanTx(env.lab, WORKER);
      await expectLeavesAs(env.lab, WEB, eip, { protos: ['http', 'udp'], timeoutMs: 15_000 });
      assert.equal(await vxlanTx(env.lab, WORKER), before, "the worker's VXLAN device sent nothing");
      carrier = at.node;
    } finally {
      await env.lab.startAgent(from).catch(() => undefined);
    }
  });
});
