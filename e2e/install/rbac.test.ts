/**
 * The RBAC in manifests/ against what the code really sends. The lab runs the agents and the two
 * controller replicas as they run on a cluster, each through the lab's RBAC gate as its
 * ServiceAccount, with the Roles `kubectl kustomize manifests/` renders. A scenario drives every
 * path that calls the API server: policies and cluster policies created, their slices grown,
 * slices and an EgressTunnel left by objects that are gone removed, an agent that publishes its NIC before any controller
 * created its tunnel, and a conflict on the first update of every resource (another writer got
 * there first). Then, for both identities: no request was refused, every granted verb was used,
 * and no rule has a wildcard.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { AGENT_STARTING_LINE, agentDaemon } from '../labkit/cluster/agent-daemon.js';
import { AGENT_SERVICE_ACCOUNT, CONTROLLER_SERVICE_ACCOUNT, gateLogPath, SLUICE_NAMESPACE } from '../labkit/cluster/api-gate-daemon.js';
import type { GateRecord } from '../labkit/cluster/api-gate.js';
import { controllerRoles } from '../labkit/cluster/controller-daemon.js';
import { Rbac, serviceAccountUser } from '../labkit/cluster/rbac.js';
import { describeGrant, rbacCoverage } from '../labkit/cluster/rbac-coverage.js';
import { renderManifests } from '../labkit/cluster/rendered-rbac.js';
import { PARENT_INTERFACE_ANNOTATION } from '../../lib/api/group.js';
import { API_VERSION, CLUSTER_POLICY_LABEL, POLICY_LABEL } from '../../lib/api/group.js';
import type { KubeObject } from '../../lib/api/wire.js';
import { applyObjects, kubectl, kubectlJson } from '../scenarios/support/kubectl.js';
import { appSelector, egressClusterPolicy, egressPolicy } from '../scenarios/support/manifests.js';
import { waitAssigned } from '../scenarios/support/policy-status.js';
import { GATEWAY_NAME, ScenarioLab, scenarioSkip } from '../scenarios/support/scenario-lab.js';
import { waitFor } from '../scenarios/support/wait.js';

const WORKER = 'worker-1';
const TEST_TIMEOUT_MS = 300_000;
const policy = egressPolicy('default', 'web', { egressGatewayName: GATEWAY_NAME, appliedTo: appSelector('web') });
const clusterPolicy = egressClusterPolicy('web-all', { egressGatewayName: GATEWAY_NAME, appliedTo: appSelector('web') });

interface Listed {
  items: Array<{ metadata: { name: string; annotations?: Record<string, string> } }>;
}

describe("RBAC: each component's Roles grant exactly the API calls it makes", { skip: scenarioSkip }, () => {
  let env: ScenarioLab;

  before(async () => {
    env = await ScenarioLab.up('rb', {
      workers: 1,
      gateways: 1,
      nodeGraceSeconds: 5,
      apiConflicts: true,
      pods: [{ namespace: 'default', name: 'web-1', labels: { app: 'web' }, node: WORKER }],
    });
  });
  after(async () => env?.down());

  const slices = async (): Promise<string[]> => {
    const [ns, cluster] = await Promise.all([
      kubectlJson<Listed>(env.lab, ['get', 'egressendpointslices.egress.sluice.dev', '-A']),
      kubectlJson<Listed>(env.lab, ['get', 'egressclusterendpointslices.egress.sluice.dev']),
    ]);
    return [...ns.items, ...cluster.items].map((i) => i.metadata.name);
  };
  const tunnels = async () => (await kubectlJson<Listed>(env.lab, ['get', 'egresstunnels.egress.sluice.dev'])).items;

  test('every path that calls the API server, then no refusal, no unused grant, no wildcard', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    // policies of both kinds: status, slices, Events, cluster info, tunnels
    await applyObjects(env.lab, [policy, clusterPolicy]);
    await waitAssigned(env.lab, policy);
    await waitAssigned(env.lab, clusterPolicy);
    // firewalls of both kinds: their slices and status
    await applyObjects(env.lab, [
      {
        apiVersion: API_VERSION,
        kind: 'EgressFirewall',
        metadata: { name: 'web', namespace: 'default' },
        spec: { appliedTo: appSelector('web'), egress: [{ type: 'Deny', to: { cidrSelector: '203.0.113.0/24' } }] },
      },
      { apiVersion: API_VERSION, kind: 'EgressClusterFirewall', metadata: { name: 'web-all' }, spec: { appliedTo: appSelector('web'), egress: [] } },
    ] as unknown as KubeObject[]);
    await waitFor('both firewalls Accepted', 30_000, async () => {
      const [ns, cluster] = await Promise.all([
        kubectlJson<{ status?: { conditions?: Array<{ type: string; status: string }> } }>(env.lab, ['get', 'egressfirewalls.egress.sluice.dev', 'web', '-n', 'default']),
        kubectlJson<{ status?: { conditions?: Array<{ type: string; status: string }> } }>(env.lab, ['get', 'egressclusterfirewalls.egress.sluice.dev', 'web-all']),
      ]);
      return [ns, cluster].every((o) => o.status?.conditions?.some((c) => c.type === 'Accepted' && c.status === 'True')) ? true : undefined;
    });
    // a pod more: both slices are updated
    await env.lab.addPod({ namespace: 'default', name: 'web-2', labels: { app: 'web' }, node: WORKER });
    await waitFor('the slices of both policies and both firewalls to list web-2', 30_000, async () => {
      const out = await kubectl(env.lab, ['get', 'egressendpointslices.egress.sluice.dev,egressclusterendpointslices.egress.sluice.dev', '-A', '-o', 'json']);
      return (out.match(/"pod": "web-2"/g) ?? []).length === 4 ? true : undefined;
    });

    // left behind by a policy and a node that are gone (an older install, a restored backup): the controller deletes them
    await applyObjects(env.lab, [
      { apiVersion: API_VERSION, kind: 'EgressTunnel', metadata: { name: 'gone-node' } },
      { apiVersion: API_VERSION, kind: 'EgressEndpointSlice', metadata: { name: 'gone-abcde', namespace: 'default', labels: { [POLICY_LABEL]: 'gone' } }, endpoints: [] },
      { apiVersion: API_VERSION, kind: 'EgressClusterEndpointSlice', metadata: { name: 'gone-abcde', labels: { [CLUSTER_POLICY_LABEL]: 'gone' } }, endpoints: [] },
    ] as KubeObject[]);
    await waitFor('the stale EgressTunnel and slices to be deleted', 30_000, async () =>
      (await tunnels()).some((i) => i.metadata.name === 'gone-node') || (await slices()).includes('gone-abcde') ? undefined : true,
    );

    // an agent that starts while no controller runs and its node has no EgressTunnel yet creates it
    for (const role of controllerRoles()) await env.lab.stopDaemon(role);
    await kubectl(env.lab, ['delete', 'egresstunnels.egress.sluice.dev', WORKER]);
    const s = await env.lab.state();
    await env.lab.replaceDaemon(
      agentDaemon(
        s,
        s.nodes.find((n) => n.name === WORKER)!,
        s.agent,
        AGENT_STARTING_LINE,
      ),
    );
    await waitFor(`${WORKER}'s agent to create its EgressTunnel`, 30_000, async () =>
      (await tunnels()).find((i) => i.metadata.name === WORKER)?.metadata.annotations?.[PARENT_INTERFACE_ANNOTATION] ? true : undefined,
    );
    for (const role of controllerRoles()) await env.lab.startDaemon(role);
    await waitAssigned(env.lab, policy);

    // policies and firewalls deleted: their slices go
    await kubectl(env.lab, ['delete', 'egresspolicies.egress.sluice.dev', 'web', '-n', 'default']);
    await kubectl(env.lab, ['delete', 'egressclusterpolicies.egress.sluice.dev', 'web-all']);
    await kubectl(env.lab, ['delete', 'egressfirewalls.egress.sluice.dev', 'web', '-n', 'default']);
    await kubectl(env.lab, ['delete', 'egressclusterfirewalls.egress.sluice.dev', 'web-all']);
    await waitFor('the slices to be deleted', 30_000, async () => ((await slices()).length === 0 ? true : undefined));

    const records = (await readFile(gateLogPath(await env.lab.state()), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as GateRecord);
    const rbac = new Rbac((await renderManifests()).objects);
    const failures: string[] = [];
    for (const [identity, account] of [
      ['agent', AGENT_SERVICE_ACCOUNT],
      ['controller', CONTROLLER_SERVICE_ACCOUNT],
    ] as const) {
      const sent = records.filter((r) => r.identity === identity);
      const c = rbacCoverage(rbac, serviceAccountUser(SLUICE_NAMESPACE, account), sent);
      t.diagnostic(
        `${identity}: ${sent.length} requests (${sent.filter((r) => r.conflict).length} answered 409 by the gate); ${[...c.uses].map(([g, n]) => `${g.verb} ${g.resource} ${n}`).join(', ')}`,
      );
      failures.push(...c.refused.map((r) => `${identity}: refused: ${r}`));
      failures.push(...c.unused.map((g) => `${identity}: granted, never used: ${describeGrant(g)}`));
      failures.push(...c.wildcards.map((w) => `${identity}: wildcard in ${w}`));
      assert.ok(c.uses.size > 0, `${identity}: some grants`);
    }
    assert.ok(
      records.some((r) => r.conflict && r.identity === 'controller'),
      'the gate made the controller meet conflicts',
    );
    assert.deepEqual(failures, []);
  });
});
