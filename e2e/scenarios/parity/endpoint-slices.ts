/**
 * Endpoint slices as spidernet keeps them: a policy that selects no pod has no slice, its first pod
 * brings one (and leaves with the EIP at once), and when the last pod goes the slice goes too, for
 * EgressEndpointSlice and EgressClusterEndpointSlice alike.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EgressEndpointSliceWire, EgressPolicyWire } from '../../../lib/api/wire.js';
import { CLUSTER_POLICY_LABEL, POLICY_LABEL } from '../../../lib/api/group.js';
import { expectLeavesAs } from '../support/echo.js';
import { kubectlJson } from '../support/kubectl.js';
import { appSelector, egressClusterPolicy, egressPolicy } from '../support/manifests.js';
import { waitAssigned } from '../support/policy-status.js';
import { GATEWAY_NAME, type Scenario, type ScenarioLab } from '../support/scenario-lab.js';
import { waitFor } from '../support/wait.js';
import { dataPathWithinMs, STATUS_WITHIN_MS } from './expectations.js';

/** `ns/pod` of every endpoint in the policy's slices, and how many slices it has. */
async function sliceState(s: Scenario, p: EgressPolicyWire): Promise<{ slices: number; pods: string[] }> {
  const cluster = p.kind === 'EgressClusterPolicy';
  const args = cluster
    ? ['get', 'egressclusterendpointslices', '-l', `${CLUSTER_POLICY_LABEL}=${p.metadata!.name}`]
    : ['get', 'egressendpointslices', '-n', p.metadata!.namespace!, '-l', `${POLICY_LABEL}=${p.metadata!.name}`];
  const list = await kubectlJson<{ items: EgressEndpointSliceWire[] }>(s.lab, args);
  return {
    slices: list.items.length,
    pods: list.items
      .flatMap((x) => x.endpoints ?? [])
      .map((e) => `${e.ns}/${e.pod}`)
      .sort(),
  };
}

function sliceListsWithin(s: Scenario, p: EgressPolicyWire, want: readonly string[], ms: number) {
  const what = `the slices of ${p.kind} ${p.metadata!.name} to ${want.length ? `list ${want.join(', ')}` : 'be gone'}`;
  return waitFor(what, ms, async () => {
    const got = await sliceState(s, p);
    const ok = want.length === 0 ? got.slices === 0 : JSON.stringify(got.pods) === JSON.stringify(want);
    if (!ok) throw new Error(`${got.slices} slice(s) listing ${got.pods.join(', ') || 'nothing'}`);
    return got;
  });
}

async function lifecycle(s: Scenario, p: EgressPolicyWire, namespace: string, app: string, opts: { again: boolean }): Promise<void> {
  await s.apply(p);
  const at = await waitAssigned(s.lab, p);
  assert.deepEqual(await sliceState(s, p), { slices: 0, pods: [] }, 'a policy that selects no pod has no slice');

  const pod = `${namespace}/${app}-1`;
  await s.addPod({ namespace, name: `${app}-1`, labels: { app } });
  await sliceListsWithin(s, p, [pod], STATUS_WITHIN_MS);
  await expectLeavesAs(s.lab, pod, at.ipv4!, { timeoutMs: dataPathWithinMs() });

  await s.lab.deletePod(pod);
  await sliceListsWithin(s, p, [], STATUS_WITHIN_MS);

  if (!opts.again) return;
  // The next pod brings a slice back.
  const again = `${namespace}/${app}-2`;
  await s.addPod({ namespace, name: `${app}-2`, labels: { app } });
  await sliceListsWithin(s, p, [again], STATUS_WITHIN_MS);
  await expectLeavesAs(s.lab, again, at.ipv4!, { timeoutMs: dataPathWithinMs() });
}

export function endpointSliceScenarios(env: () => ScenarioLab, timeout: number): void {
  test('spidernet parity: an EgressEndpointSlice exists only while its policy selects a pod', { timeout }, () =>
    env().scenario((s) =>
      lifecycle(s, egressPolicy('default', 'slice-life', { egressGatewayName: GATEWAY_NAME, appliedTo: appSelector('slice-life') }), 'default', 'slice-life', { again: true }),
    ),
  );

  test('spidernet parity: an EgressClusterEndpointSlice exists only while its cluster policy selects a pod', { timeout }, () =>
    env().scenario((s) =>
      lifecycle(s, egressClusterPolicy('cslice-life', { egressGatewayName: GATEWAY_NAME, appliedTo: appSelector('cslice-life') }), 'team-a', 'cslice-life', { again: false }),
    ),
  );
}
