/** manifests/ as `kubectl kustomize` renders it: what the cluster gets, checked against what the lab proved. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { KUBECTL } from '../labkit/kubectl.js';
import { run } from '../labkit/run.js';
import { agentContainer, type DaemonSetObject } from './daemonset.js';
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
  assert.equal(objs.filter((o) => o.kind === 'CustomResourceDefinition').length, 7);

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
  assert.deepEqual((svc.spec as { ports: Array<{ port: number }> }).ports.map((p) => p.port), [9465]);
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
    const sm = find(objs, 'ServiceMonitor', 'sluice-agent')!;
    assert.equal(sm.metadata.namespace, 'sluice-system');
    assert.deepEqual((sm.spec as { selector: { matchLabels: unknown } }).selector.matchLabels, ds.spec.template.metadata.labels);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
