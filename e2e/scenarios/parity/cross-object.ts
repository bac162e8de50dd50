/**
 * Errors that span objects, as a spidernet user meets them: spidernet refuses some of these edits
 * in its admission webhook; sluice has no webhook, so each one becomes a condition within seconds
 * and the policy fails open (its pods leave by their node), or the CRD's own validation refuses it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EgressPolicyWire } from '../../../lib/api/wire.js';
import { eipV4 } from '../support/addresses.js';
import { assertLeavesAs, expectLeavesAs } from '../support/echo.js';
import { kubectl, kubectlResult } from '../support/kubectl.js';
import { appSelector, egressGateway, egressPolicy } from '../support/manifests.js';
import { holdersOf } from '../support/node-state.js';
import { condition, policyStatus, waitAssigned } from '../support/policy-status.js';
import { GATEWAY_NODE_LABELS, type Scenario, type ScenarioLab } from '../support/scenario-lab.js';
import { waitFor } from '../support/wait.js';
import { dataPathWithinMs, STATUS_WITHIN_MS, underLoad } from './expectations.js';

const WEB = 'default/web';
const OTHER = 'default/other';
const TEAM_A = 'team-a/app';
/** Offsets of the lab's free range these scenarios' gateways take, clear of the shared gateway's pool. */
const POOL_FROM = 50;

/** Waits until the policy's Ready condition is False with `reason`; returns its message. */
function notReadyWithin(s: Scenario, p: EgressPolicyWire, reason: string, ms = STATUS_WITHIN_MS): Promise<string> {
  return waitFor(
    `${p.metadata!.name} to be Ready=False ${reason}`,
    ms,
    async () => {
      const ready = condition(await policyStatus(s.lab, p), 'Ready');
      if (ready?.status !== 'False' || ready.reason !== reason) throw new Error(`Ready=${ready?.status ?? '-'} ${ready?.reason ?? ''}`);
      return ready.message ?? '';
    },
    100,
  );
}

async function patchGateway(s: Scenario, name: string, ippools: Record<string, unknown>): Promise<number> {
  await kubectl(s.lab, ['patch', 'egressgateway', name, '--type', 'merge', '-p', JSON.stringify({ spec: { ippools } })]);
  return Date.now();
}

export function crossObjectScenarios(env: () => ScenarioLab, timeout: number): void {
  test('spidernet parity: an EIP outside the pool, an empty pool and a bad default EIP are conditions within seconds, and fail open', { timeout }, () =>
    env().scenario(async (s) => {
      const info = env().info;
      const at = (i: number) => eipV4(info, POOL_FROM + i);
      // A CIDR pool (at(10) is a /29 boundary): its network address is not a usable default EIP.
      const cidr = `${at(10)}/29`;
      await s.apply(
        egressGateway('parity-pool', GATEWAY_NODE_LABELS, { ipv4: [`${at(0)}-${at(3)}`] }),
        egressGateway('parity-empty', GATEWAY_NODE_LABELS, {}),
        egressGateway('parity-cidr', GATEWAY_NODE_LABELS, { ipv4: [cidr], ipv4DefaultEIP: at(10) }),
      );
      const outside = egressPolicy('default', 'outside', { egressGatewayName: 'parity-pool', egressIP: { ipv4: at(30) }, appliedTo: appSelector('web') });
      const empty = egressPolicy('default', 'empty', { egressGatewayName: 'parity-empty', appliedTo: appSelector('other') });
      const badDefault = egressPolicy('team-a', 'bad-default', { egressGatewayName: 'parity-cidr', egressIP: { allocatorPolicy: 'default' }, appliedTo: appSelector('app') });
      await s.apply(outside, empty, badDefault);
      assert.match(await notReadyWithin(s, outside, 'IPNotInPool'), new RegExp(at(30).replace(/\./g, '\\.')));
      assert.match(await notReadyWithin(s, empty, 'PoolExhausted'), /parity-empty/);
      assert.match(await notReadyWithin(s, badDefault, 'ReservedAddress'), new RegExp(at(10).replace(/\./g, '\\.')));
      for (const pod of [WEB, OTHER, TEAM_A]) await assertLeavesAs(s.lab, pod, env().nodeIpOf(pod));

      // A default EIP outside the pool is refused at the door, as spidernet's webhook refuses it.
      const refused = await kubectlResult(s.lab, [
        'patch',
        'egressgateway',
        'parity-pool',
        '--type',
        'merge',
        '-p',
        JSON.stringify({ spec: { ippools: { ipv4DefaultEIP: at(30) } } }),
      ]);
      assert.notEqual(refused.exitCode, 0);
      assert.match(refused.stderr, /ipv4DefaultEIP must lie inside ipv4/);
    }),
  );

  test('spidernet parity: removing allocated EIPs from the pool moves or stops their policies within seconds', { timeout }, () =>
    env().scenario(async (s) => {
      const info = env().info;
      const at = (i: number) => eipV4(info, POOL_FROM + i);
      await s.apply(egressGateway('parity-shrink', GATEWAY_NODE_LABELS, { ipv4: [`${at(0)}-${at(7)}`] }));
      const explicit = egressPolicy('default', 'shrink-explicit', { egressGatewayName: 'parity-shrink', egressIP: { ipv4: at(3) }, appliedTo: appSelector('web') });
      const rr = egressPolicy('default', 'shrink-rr', { egressGatewayName: 'parity-shrink', egressIP: { allocatorPolicy: 'rr' }, appliedTo: appSelector('other') });
      const byDefault = egressPolicy('team-a', 'shrink-default', { egressGatewayName: 'parity-shrink', appliedTo: appSelector('app') });
      await s.apply(explicit, rr, byDefault);
      const before = { explicit: await waitAssigned(s.lab, explicit), rr: await waitAssigned(s.lab, rr), byDefault: await waitAssigned(s.lab, byDefault) };
      assert.equal(before.byDefault.ipv4, at(0), 'without ipv4DefaultEIP the default EIP is the first pool address');
      assert.ok(before.rr.ipv4 && before.rr.ipv4 !== at(3) && before.rr.ipv4 !== at(0));
      await expectLeavesAs(s.lab, WEB, at(3));

      // Keep only the upper half: the explicit EIP, the default EIP and the rr address all leave the pool.
      const kept = [4, 5, 6, 7].map(at);
      const lower = [0, 1, 2, 3].map(at);
      assert.ok(lower.includes(before.rr.ipv4), `the rr policy took ${before.rr.ipv4}, in the lower half`);
      await patchGateway(s, 'parity-shrink', { ipv4: [`${at(4)}-${at(7)}`] });
      assert.match(await notReadyWithin(s, explicit, 'IPNotInPool'), new RegExp(at(3).replace(/\./g, '\\.')));
      const movedRr = await waitFor(
        'the rr policy to take an address of the new pool',
        STATUS_WITHIN_MS,
        async () => {
          const status = await policyStatus(s.lab, rr);
          const eip = status.eip?.ipv4;
          if (condition(status, 'Ready')?.status !== 'True' || !eip || !kept.includes(eip)) throw new Error(`status.eip ${eip ?? '-'}`);
          return eip;
        },
        100,
      );
      const movedDefault = await waitAssigned(s.lab, byDefault, { ipv4: at(4) }, STATUS_WITHIN_MS);
      assert.notEqual(movedRr, movedDefault.ipv4);
      await expectLeavesAs(s.lab, WEB, env().nodeIpOf(WEB), { timeoutMs: dataPathWithinMs() });
      await expectLeavesAs(s.lab, OTHER, movedRr, { timeoutMs: dataPathWithinMs() });
      await expectLeavesAs(s.lab, TEAM_A, at(4), { timeoutMs: dataPathWithinMs() });
      await waitFor('the removed addresses to leave every gateway node', underLoad(STATUS_WITHIN_MS), async () => {
        for (const ip of lower) if ((await holdersOf(s.lab, env().gatewayNodes, ip)).length) throw new Error(`${ip} is still held`);
        return true;
      });

      // Back into the pool: the explicit policy is served again.
      await patchGateway(s, 'parity-shrink', { ipv4: [`${at(0)}-${at(7)}`] });
      await waitAssigned(s.lab, explicit, { ipv4: at(3) }, STATUS_WITHIN_MS);
      await expectLeavesAs(s.lab, WEB, at(3), { timeoutMs: dataPathWithinMs() });
    }),
  );

  test('spidernet parity: a pool emptied under its default EIP is refused; emptied with it, its policies stop within seconds', { timeout }, () =>
    env().scenario(async (s) => {
      const info = env().info;
      const at = (i: number) => eipV4(info, POOL_FROM + 10 + i);
      await s.apply(egressGateway('parity-drain', GATEWAY_NODE_LABELS, { ipv4: [`${at(0)}-${at(1)}`], ipv4DefaultEIP: at(1) }));
      const p = egressPolicy('default', 'drain-default', { egressGatewayName: 'parity-drain', appliedTo: appSelector('web') });
      await s.apply(p);
      const assigned = await waitAssigned(s.lab, p, { ipv4: at(1) });
      await expectLeavesAs(s.lab, WEB, at(1));

      const refused = await kubectlResult(s.lab, ['patch', 'egressgateway', 'parity-drain', '--type', 'merge', '-p', JSON.stringify({ spec: { ippools: { ipv4: null } } })]);
      assert.notEqual(refused.exitCode, 0, 'the pool cannot be emptied under its default EIP');
      assert.match(refused.stderr, /ipv4DefaultEIP must lie inside ipv4/);
      await assertLeavesAs(s.lab, WEB, at(1));

      await patchGateway(s, 'parity-drain', { ipv4: null, ipv4DefaultEIP: null });
      assert.match(await notReadyWithin(s, p, 'PoolExhausted'), /parity-drain/);
      await expectLeavesAs(s.lab, WEB, env().nodeIpOf(WEB), { timeoutMs: dataPathWithinMs() });
      await waitFor(`${at(1)} to leave ${assigned.node}`, underLoad(STATUS_WITHIN_MS), async () =>
        (await holdersOf(s.lab, env().gatewayNodes, at(1))).length === 0 ? true : undefined,
      );
    }),
  );
}
