/** Real kubectl 1.32 against the fake server; each test gets its own server, HOME, kubeconfig and cache. */
import assert from 'node:assert/strict';
import { createInterface } from 'node:readline';
import { describe, test } from 'node:test';
import type { JsonObject } from './json.js';
import type { ApiServer } from './server.js';
import { kubectlMissing, sandboxedKubectl, testdata, withApiServer, withTimeout, type Kubectl } from './test-support.js';

const skip = await kubectlMissing();

async function withKubectl(run: (kubectl: Kubectl, server: ApiServer) => Promise<void>): Promise<void> {
  await withApiServer(async (server) => {
    const kubectl = await sandboxedKubectl(server);
    try {
      await run(kubectl, server);
    } finally {
      await kubectl.cleanup();
    }
  });
}

async function ok(kubectl: Kubectl, args: string[], input?: string): Promise<string> {
  const result = await kubectl.run(args, { input });
  assert.equal(result.exitCode, 0, `kubectl ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

async function withPolicyCrd(run: (kubectl: Kubectl, server: ApiServer) => Promise<void>): Promise<void> {
  await withKubectl(async (kubectl, server) => {
    assert.match(await ok(kubectl, ['apply', '-f', testdata('egresspolicy-crd.yaml')]), /customresourcedefinition.apiextensions.k8s.io\/egresspolicies.egress.sluice.dev created/);
    await run(kubectl, server);
  });
}

describe('kubectl 1.32', { skip }, () => {
  test('apply a CRD then a CR; applying the same CR again is unchanged', () =>
    withPolicyCrd(async (kubectl, server) => {
      assert.match(await ok(kubectl, ['apply', '-f', testdata('egresspolicy-test.yaml')]), /egresspolicy.egress.sluice.dev\/test created/);
      assert.match(await ok(kubectl, ['apply', '-f', testdata('egresspolicy-test.yaml')]), /egresspolicy.egress.sluice.dev\/test unchanged/);
      const stored = server.store.get('egress.sluice.dev/v1alpha1', 'EgressPolicy', 'test', 'default');
      assert.ok(((stored.metadata as JsonObject).annotations as JsonObject)['kubectl.kubernetes.io/last-applied-configuration']);
      const posts = server.requestLog.filter((entry) => entry.method === 'POST' && entry.path.includes('egresspolicies'));
      assert.ok(
        posts.every((entry) => entry.path.includes('fieldValidation=Strict')),
        'kubectl validates on the server',
      );
    }));

  test('get -A shows the printer columns; get -o yaml; patch --subresource=status; delete', () =>
    withPolicyCrd(async (kubectl) => {
      await ok(kubectl, ['apply', '-f', testdata('egresspolicy-test.yaml')]);
      const patched = await ok(kubectl, [
        'patch',
        'egresspolicy',
        'test',
        '--subresource=status',
        '--type=merge',
        '-p',
        '{"status":{"eip":{"ipv4":"198.18.0.10"},"node":"node1"}}',
      ]);
      assert.match(patched, /egresspolicy.egress.sluice.dev\/test patched/);

      const table = (await ok(kubectl, ['get', 'egresspolicy', '-A'])).trimEnd().split('\n');
      assert.deepEqual(table[0].split(/\s+/), ['NAMESPACE', 'NAME', 'GATEWAY', 'IPV4', 'IPV6', 'EGRESSTUNNEL']);
      assert.deepEqual(table[1].split(/\s+/), ['default', 'test', 'default', '198.18.0.10', 'node1']);
      assert.match(await ok(kubectl, ['get', 'egp']), /^NAME\s+GATEWAY\s+IPV4\s+IPV6\s+EGRESSTUNNEL\ntest\s+default\s+198\.18\.0\.10\s+node1/);

      const yaml = await ok(kubectl, ['get', 'egresspolicy', 'test', '-o', 'yaml']);
      assert.match(yaml, /^apiVersion: egress.sluice.dev\/v1alpha1\nkind: EgressPolicy\n/);
      assert.match(yaml, /generation: 1\n/);
      assert.match(yaml, /status:\n {2}eip:\n {4}ipv4: 198.18.0.10\n {2}node: node1/);
      assert.equal(await ok(kubectl, ['get', 'egresspolicy', 'test', '-o', 'jsonpath={.status.eip.ipv4}']), '198.18.0.10');

      assert.match(await ok(kubectl, ['delete', 'egresspolicy', 'test']), /egresspolicy.egress.sluice.dev "test" deleted/);
      const missing = await kubectl.run(['get', 'egresspolicy', 'test']);
      assert.equal(missing.exitCode, 1);
      assert.match(missing.stderr, /Error from server \(NotFound\): egresspolicies.egress.sluice.dev "test" not found/);
    }));

  test('invalid objects are rejected with the usual messages', () =>
    withPolicyCrd(async (kubectl) => {
      const schema = await kubectl.run(['apply', '-f', testdata('egresspolicy-invalid-schema.yaml')]);
      assert.equal(schema.exitCode, 1);
      assert.match(schema.stderr, /The EgressPolicy "broken" is invalid: spec.priority: Invalid value: "string": spec.priority in body must be of type integer: "string"/);
      const cel = await kubectl.run(['apply', '-f', testdata('egresspolicy-invalid-cel.yaml')]);
      assert.equal(cel.exitCode, 1);
      assert.match(cel.stderr, /The EgressPolicy "broken" is invalid: spec.egressIP: Invalid value: "object": useNodeIP cannot be combined with ipv4 or ipv6/);
      const unknown = await kubectl.run(['apply', '-f', '-'], {
        input: 'apiVersion: egress.sluice.dev/v1alpha1\nkind: EgressPolicy\nmetadata: {name: typo}\nspec: {egressGatewayName: gw, appliedTo: {podSubnet: []}, gatway: x}\n',
      });
      assert.equal(unknown.exitCode, 1);
      assert.match(unknown.stderr, /strict decoding error: unknown field "spec.gatway"/);
      const again = await kubectl.run(['create', '-f', testdata('egresspolicy-test.yaml')]);
      assert.equal(again.exitCode, 0);
      const duplicate = await kubectl.run(['create', '-f', testdata('egresspolicy-test.yaml')]);
      assert.match(duplicate.stderr, /Error from server \(AlreadyExists\): error when creating ".*": egresspolicies.egress.sluice.dev "test" already exists/);
    }));

  test('get -w prints events as they happen', () =>
    withPolicyCrd(async (kubectl, server) => {
      await ok(kubectl, ['apply', '-f', testdata('egresspolicy-test.yaml')]);
      const watcher = kubectl.spawn(['get', 'egresspolicy', '-A', '-w']);
      try {
        const lines: string[] = [];
        const reader = createInterface({ input: watcher.stdout! });
        const seen = (pattern: RegExp) =>
          withTimeout(
            new Promise<void>((resolve) => {
              const check = () => {
                if (lines.some((line) => pattern.test(line))) {
                  reader.off('line', onLine);
                  resolve();
                }
              };
              const onLine = (line: string) => {
                lines.push(line);
                check();
              };
              reader.on('line', onLine);
              check();
            }),
            20_000,
            `kubectl get -w output matching ${pattern}`,
          );
        await seen(/^default\s+test\s+default\s*$/);
        await withTimeout(waitForWatch(server), 10_000, 'kubectl to open its watch');
        server.store.patch(
          'egress.sluice.dev/v1alpha1',
          'EgressPolicy',
          'test',
          { status: { eip: { ipv4: '198.18.0.20' }, node: 'node2' } },
          { namespace: 'default', subresource: 'status' },
        );
        await seen(/^default\s+test\s+default\s+198\.18\.0\.20\s+node2/);
      } finally {
        watcher.kill('SIGTERM');
        await withTimeout(watcher, 10_000, 'kubectl get -w to exit');
      }
    }));

  test('label a node, then list with a selector and the wide node table', () =>
    withKubectl(async (kubectl, server) => {
      server.store.apply({
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name: 'node1' },
        status: { conditions: [{ type: 'Ready', status: 'True' }], addresses: [{ type: 'InternalIP', address: '198.18.0.2' }] },
      });
      assert.match(await ok(kubectl, ['label', 'node', 'node1', 'egress.sluice.dev/gateway=true', '--overwrite']), /node\/node1 labeled/);
      assert.equal(((server.store.get('v1', 'Node', 'node1').metadata as JsonObject).labels as JsonObject)['egress.sluice.dev/gateway'], 'true');
      const wide = await ok(kubectl, ['get', 'nodes', '-l', 'egress.sluice.dev/gateway=true', '-o', 'wide']);
      assert.match(wide, /^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\s+INTERNAL-IP/);
      assert.match(wide, /\nnode1\s+Ready\s+<none>\s+\S+\s+198\.18\.0\.2/);
      const patch = server.requestLog.find((entry) => entry.method === 'PATCH');
      assert.ok(patch?.path.startsWith('/api/v1/nodes/node1?fieldManager=kubectl-label'));
    }));

  test('typed commands: create namespace and configmap (protobuf bodies), apply a namespace twice, delete it', () =>
    withKubectl(async (kubectl, server) => {
      assert.match(await ok(kubectl, ['create', 'namespace', 'team']), /namespace\/team created/);
      assert.match(await ok(kubectl, ['create', 'configmap', 'cfg', '-n', 'team', '--from-literal=a=b']), /configmap\/cfg created/);
      assert.deepEqual(server.store.get('v1', 'ConfigMap', 'cfg', 'team').data, { a: 'b' });
      const namespace = 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: applied\n  labels: {team: a}\n';
      assert.match(await ok(kubectl, ['apply', '-f', '-'], namespace), /namespace\/applied created/);
      assert.match(await ok(kubectl, ['apply', '-f', '-'], namespace.replace('team: a', 'team: b')), /namespace\/applied configured/);
      assert.equal(((server.store.get('v1', 'Namespace', 'applied').metadata as JsonObject).labels as JsonObject).team, 'b');
      assert.match(await ok(kubectl, ['delete', 'namespace', 'team']), /namespace "team" deleted/);
      assert.equal(server.store.find('v1', 'ConfigMap', 'cfg', 'team'), undefined);
      const resources = await ok(kubectl, ['api-resources']);
      assert.match(resources, /\nleases\s+coordination.k8s.io\/v1\s+true\s+Lease/);
    }));
});

async function waitForWatch(server: ApiServer): Promise<void> {
  while (server.watcherCount() === 0) await new Promise((resolve) => setTimeout(resolve, 50));
}
