/** manifests/ as `kubectl kustomize` renders it: what the cluster gets, checked against what the lab proved. */
import { test } from 'node:test';
import { KIND_DEFINITIONS } from '../../lib/api/schema/kinds.js';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { KUBECTL } from '../labkit/kubectl.js';
import { sandboxedKubectl, withApiServer } from '../apiserver/test-support.js';
import { run } from '../labkit/run.js';
import { agentContainer, cleanupContainer, type AgentContainer, type DaemonSetObject } from './daemonset.js';
import { REPO } from './runtime-tree.js';

const MANIFESTS = join(REPO, 'manifests');
const skip = existsSync(KUBECTL) ? false : `skipped: ${KUBECTL} does not exist (kubectl 1.32 renders the kustomization)`;

interface Rendered {
  kind: string;
  apiVersion: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
}

async function render(dir: string): Promise<Rendered[]> {
  const r = await run([KUBECTL, 'kustomize', dir], { timeoutMs: 30_000 });
  return parseAllDocuments(r.stdout).map((d) => d.toJS() as Rendered);
}

const find = (objs: Rendered[], kind: string, name?: string) => objs.find((o) => o.kind === kind && (!name || o.metadata.name === name));

test('manifests/ renders: a Pod Security "privileged" namespace, an unprivileged agent with two capabilities, metrics on the node IP', { skip }, async () => {
  const objs = await render(MANIFESTS);
  const ns = find(objs, 'Namespace', 'sluice-system')!;
  for (const mode of ['enforce', 'audit', 'warn']) assert.equal(ns.metadata.labels?.[`pod-security.kubernetes.io/${mode}`], 'privileged', mode);
  assert.equal(objs.filter((o) => o.kind === 'CustomResourceDefinition').length, KIND_DEFINITIONS.length);

  const ds = find(objs, 'DaemonSet', 'sluice-agent') as unknown as DaemonSetObject;
  const c = agentContainer(ds);
  assert.equal(c.image, 'sluice:0.1.0');
  assert.equal(ds.spec.template.spec.hostNetwork, true);
  assert.deepEqual(c.securityContext.capabilities, { drop: ['ALL'], add: ['NET_ADMIN', 'NET_RAW'] });
  assert.equal(c.securityContext.privileged, false);
  assert.equal(c.securityContext.allowPrivilegeEscalation, false);
  assert.equal(c.securityContext.readOnlyRootFilesystem, true);
  assert.ok(c.resources?.requests?.cpu && c.resources.requests.memory && c.resources.limits?.memory, 'requests and a memory limit');
  assert.doesNotMatch(JSON.stringify(ds), /xtables/, 'nftables never takes the xtables lock');

  // The sysctl mount and the flag that points the agent at it agree.
  const mount = c.volumeMounts?.find((m) => m.name === 'host-proc-sys-net');
  assert.equal(mount?.mountPath, '/host/proc/sys/net');
  assert.equal(ds.spec.template.spec.volumes?.find((v) => v.name === 'host-proc-sys-net')?.hostPath?.path, '/proc/sys/net');
  assert.ok(c.args.includes('--sysctl-root=/host/proc/sys'));
  // The sysctl journal for `sluice cleanup` lives on the host.
  assert.ok(c.args.includes('--state-dir=/var/lib/sluice'));
  assert.equal(c.volumeMounts?.find((m) => m.name === 'state')?.mountPath, '/var/lib/sluice');
  assert.equal(ds.spec.template.spec.volumes?.find((v) => v.name === 'state')?.hostPath?.path, '/var/lib/sluice');

  // Metrics on the node IP from the downward API; /status stays on loopback (the agent's default).
  assert.deepEqual(c.env.find((e) => e.name === 'NODE_IP')?.valueFrom, { fieldRef: { fieldPath: 'status.hostIP' } });
  assert.ok(c.args.includes('--metrics-address=$(NODE_IP):9465'));
  assert.ok(!c.args.some((a) => a.startsWith('--status-address')));
  assert.equal(c.readinessProbe?.httpGet?.path, '/readyz');
  assert.equal(c.livenessProbe?.httpGet?.path, '/healthz');

  // Every flag the DaemonSet passes is one the agent has.
  const help = (await run([process.execPath, join(REPO, 'dist', 'agent', 'main.js'), 'agent', '--help'])).stdout;
  for (const arg of c.args) assert.ok(help.includes(`${arg.split('=')[0]} `), `sluice agent has ${arg.split('=')[0]}`);

  const svc = find(objs, 'Service', 'sluice-agent-metrics')!;
  assert.deepEqual((svc.spec as { selector: unknown }).selector, ds.spec.template.metadata.labels);
  assert.deepEqual(
    (svc.spec as { ports: Array<{ port: number }> }).ports.map((p) => p.port),
    [9465],
  );
});

test('an overlay sets the image with kustomize images: and adds the ServiceMonitor component', { skip }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-overlay-'));
  try {
    const rel = relative(dir, MANIFESTS);
    await writeFile(
      join(dir, 'kustomization.yaml'),
      `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [${rel}]
components: [${rel}/components/monitoring]
images:
  - {name: sluice, newName: registry.example.com/net/sluice, newTag: 1.2.3}
`,
    );
    const objs = await render(dir);
    const ds = find(objs, 'DaemonSet', 'sluice-agent') as unknown as DaemonSetObject;
    assert.equal(agentContainer(ds).image, 'registry.example.com/net/sluice:1.2.3');
    const controller = find(objs, 'Deployment', 'sluice-controller') as unknown as DaemonSetObject;
    assert.equal(agentContainer(controller).image, 'registry.example.com/net/sluice:1.2.3', 'the controller runs the same image');
    assert.ok(find(objs, 'ServiceMonitor', 'sluice-controller'));
    const sm = find(objs, 'ServiceMonitor', 'sluice-agent')!;
    assert.equal(sm.metadata.namespace, 'sluice-system');
    assert.deepEqual((sm.spec as { selector: { matchLabels: unknown } }).selector.matchLabels, ds.spec.template.metadata.labels);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the rendered manifests apply to the test API server with kubectl; applying them again changes nothing', { skip, timeout: 120_000 }, async () => {
  const rendered = (await run([KUBECTL, 'kustomize', MANIFESTS], { timeoutMs: 30_000 })).stdout;
  const kinds = [...new Set(parseAllDocuments(rendered).map((d) => (d.toJS() as Rendered).kind))].sort();
  assert.deepEqual(kinds, [
    'ClusterRole',
    'ClusterRoleBinding',
    'ConfigMap',
    'CustomResourceDefinition',
    'DaemonSet',
    'Deployment',
    'Namespace',
    'PodDisruptionBudget',
    'Role',
    'RoleBinding',
    'Service',
    'ServiceAccount',
  ]);
  await withApiServer(async (server) => {
    const kubectl = await sandboxedKubectl(server);
    try {
      const first = await kubectl.run(['apply', '-f', '-'], { input: rendered, timeoutMs: 60_000 });
      assert.equal(first.exitCode, 0, first.stderr);
      const created = first.stdout.trim().split('\n');
      assert.equal(created.length, parseAllDocuments(rendered).length, first.stdout);
      assert.ok(
        created.every((line) => line.endsWith(' created')),
        first.stdout,
      );
      const pdbVersion = () =>
        (server.store.get('policy/v1', 'PodDisruptionBudget', 'sluice-controller', 'sluice-system') as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
      const before = pdbVersion();
      const again = await kubectl.run(['apply', '-f', '-'], { input: rendered, timeoutMs: 60_000 });
      assert.equal(again.exitCode, 0, again.stderr);
      // kubectl always sends a PodDisruptionBudget's selector (its patch strategy is "replace"): "configured", nothing changes
      const changed = again.stdout
        .trim()
        .split('\n')
        .filter((line) => !line.endsWith(' unchanged'));
      assert.deepEqual(changed, ['poddisruptionbudget.policy/sluice-controller configured'], again.stdout);
      assert.equal(pdbVersion(), before);

      const deploy = server.store.get('apps/v1', 'Deployment', 'sluice-controller', 'sluice-system') as { spec: { replicas: number } };
      assert.equal(deploy.spec.replicas, 2);
      const table = (await kubectl.run(['get', 'deployments,daemonsets,serviceaccounts,rolebindings,poddisruptionbudgets', '-n', 'sluice-system'])).stdout;
      for (const name of [
        'deployment.apps/sluice-controller',
        'daemonset.apps/sluice-agent',
        'serviceaccount/sluice-agent',
        'serviceaccount/sluice-controller',
        'rolebinding.rbac.authorization.k8s.io/sluice-controller-lease',
        'poddisruptionbudget.policy/sluice-controller',
      ]) {
        assert.match(table, new RegExp(`^${name.replace(/[./]/g, '\\$&')}\\s`, 'm'), table);
      }

      // a workload whose selector does not match its template is refused, as by the real validation
      const broken =
        'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: broken, namespace: sluice-system}\nspec:\n  selector: {matchLabels: {app: a}}\n  template: {metadata: {labels: {app: b}}, spec: {containers: [{name: c, image: x}]}}\n';
      const bad = await kubectl.run(['apply', '-f', '-'], { input: broken });
      assert.notEqual(bad.exitCode, 0);
      assert.match(bad.stderr, /The Deployment "broken" is invalid: spec\.template\.metadata\.labels: Invalid value: .*`selector` does not match template `labels`/);
    } finally {
      await kubectl.cleanup();
    }
  });
});

test(
  'the controller Deployment: two non-root replicas without any capability, its own ServiceAccount, the shared ConfigMap; RBAC without wildcards or Secrets',
  { skip },
  async () => {
    const objs = await render(MANIFESTS);
    const deploy = find(objs, 'Deployment', 'sluice-controller') as unknown as {
      spec: {
        replicas: number;
        template: {
          spec: {
            serviceAccountName: string;
            securityContext: Record<string, unknown>;
            containers: Array<AgentContainer & { command: string[]; envFrom?: Array<{ configMapRef?: { name: string } }> }>;
          };
        };
      };
    };
    const pod = deploy.spec.template.spec;
    const c = pod.containers[0]!;
    assert.equal(deploy.spec.replicas, 2);
    assert.equal(pod.serviceAccountName, 'sluice-controller');
    assert.deepEqual(c.command, ['sluice', 'controller']);
    assert.equal(c.image, 'sluice:0.1.0');
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.ok(Number(pod.securityContext.runAsUser) > 0);
    assert.deepEqual(pod.securityContext.seccompProfile, { type: 'RuntimeDefault' });
    assert.deepEqual(c.securityContext.capabilities, { drop: ['ALL'] });
    assert.equal(c.securityContext.allowPrivilegeEscalation, false);
    assert.equal(c.securityContext.readOnlyRootFilesystem, true);
    assert.ok(!('volumeMounts' in c) && !('volumes' in pod) && !('hostNetwork' in pod), 'nothing of the host');
    const help = (await run([process.execPath, join(REPO, 'dist', 'agent', 'main.js'), 'controller', '--help'])).stdout;
    for (const arg of c.args) assert.ok(help.includes(`${arg.split('=')[0]} `), `sluice controller has ${arg.split('=')[0]}`);

    // the agents and the controller read the same ConfigMap
    const ds = find(objs, 'DaemonSet', 'sluice-agent') as unknown as {
      spec: { template: { spec: { serviceAccountName: string; containers: Array<{ envFrom?: Array<{ configMapRef?: { name: string } }> }> } } };
    };
    assert.equal(ds.spec.template.spec.serviceAccountName, 'sluice-agent');
    for (const envFrom of [c.envFrom, ds.spec.template.spec.containers[0]!.envFrom]) assert.deepEqual(envFrom, [{ configMapRef: { name: 'sluice-config' } }]);
    assert.ok(find(objs, 'ConfigMap', 'sluice-config'));

    for (const role of objs.filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role') as unknown as Array<{
      metadata: { name: string };
      rules: Array<Record<string, string[]>>;
    }>) {
      for (const rule of role.rules) {
        for (const [field, values] of Object.entries(rule)) assert.ok(!values.includes('*'), `${role.metadata.name}: no wildcard in ${field}`);
        assert.ok(!(rule.resources ?? []).some((r) => r.startsWith('secrets')), `${role.metadata.name}: no Secrets`);
      }
    }
  },
);

test(
  "manifests/cleanup renders a DaemonSet that runs sluice cleanup on the agent's host paths and settings, with NET_ADMIN only; it applies to the test API server",
  { skip, timeout: 120_000 },
  async () => {
    const objs = await render(join(MANIFESTS, 'cleanup'));
    assert.deepEqual(
      objs.map((o) => `${o.kind}/${o.metadata.name}`),
      ['DaemonSet/sluice-cleanup'],
    );
    type PodSpec = {
      hostNetwork?: boolean;
      automountServiceAccountToken?: boolean;
      initContainers: Array<AgentContainer & { command: string[]; envFrom?: unknown }>;
      containers: AgentContainer[];
      volumes: Array<{ name: string; hostPath?: { path: string } }>;
    };
    const ds = find(objs, 'DaemonSet', 'sluice-cleanup') as unknown as { metadata: { namespace: string }; spec: { template: { spec: PodSpec } } };
    const pod = ds.spec.template.spec;
    const init = pod.initContainers[0]!;
    assert.equal(ds.metadata.namespace, 'sluice-system');
    assert.equal(pod.hostNetwork, true, "the node's network namespace, where sluice's state is");
    assert.equal(pod.automountServiceAccountToken, false, 'no API access');
    assert.deepEqual(init, { ...cleanupContainer(), image: 'sluice:0.1.0' }, 'what the lab runs (e2e/install/cleanup.test.ts) is what ships');
    assert.deepEqual(init.securityContext.capabilities, { drop: ['ALL'], add: ['NET_ADMIN'] });
    assert.equal(init.securityContext.privileged, false);
    assert.equal(init.securityContext.readOnlyRootFilesystem, true);
    assert.deepEqual(init.envFrom, [{ configMapRef: { name: 'sluice-config', optional: true } }], "the agents' table, device and ranges");
    const help = (await run([process.execPath, join(REPO, 'dist', 'agent', 'main.js'), 'cleanup', '--help'])).stdout;
    for (const arg of init.args) assert.ok(help.includes(`${arg.split('=')[0]} `), `sluice cleanup has ${arg.split('=')[0]}`);

    // the same host paths as the agent's, at the same places, under the same flags
    const agentDs = find(await render(MANIFESTS), 'DaemonSet', 'sluice-agent') as unknown as DaemonSetObject;
    const agent = agentContainer(agentDs);
    for (const flag of ['--sysctl-root', '--state-dir'])
      assert.equal(
        init.args.find((a) => a.startsWith(`${flag}=`)),
        agent.args.find((a) => a.startsWith(`${flag}=`)),
        flag,
      );
    const hostPaths = (volumes: Array<{ name: string; hostPath?: { path: string } }> | undefined, mounts: Array<{ name: string; mountPath: string }> | undefined) =>
      (mounts ?? []).map((m) => `${volumes?.find((v) => v.name === m.name)?.hostPath?.path} at ${m.mountPath}`).sort();
    assert.deepEqual(hostPaths(pod.volumes, init.volumeMounts), hostPaths(agentDs.spec.template.spec.volumes, agent.volumeMounts));

    await withApiServer(async (server) => {
      const kubectl = await sandboxedKubectl(server);
      try {
        const namespace = await kubectl.run(['apply', '-f', join(MANIFESTS, 'agent', 'namespace.yaml')]);
        assert.equal(namespace.exitCode, 0, namespace.stderr);
        const applied = await kubectl.run(['apply', '-k', join(MANIFESTS, 'cleanup')], { timeoutMs: 60_000 });
        assert.equal(applied.exitCode, 0, applied.stderr);
        assert.equal(applied.stdout.trim(), 'daemonset.apps/sluice-cleanup created');
        assert.ok(server.store.get('apps/v1', 'DaemonSet', 'sluice-cleanup', 'sluice-system'));
      } finally {
        await kubectl.cleanup();
      }
    });
  },
);
