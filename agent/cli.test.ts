import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';

const CLI = join(process.cwd(), 'dist', 'agent', 'main.js');
const SEED = join(process.cwd(), 'lib', 'planner', 'testdata', 'seed-002.yaml');

function run(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [CLI, ...args], { input, encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function withFile(text: string, fn: (path: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-cli-'));
  try {
    const path = join(dir, 'input.yaml');
    writeFileSync(path, text);
    fn(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('sluice validate accepts the seed 002 example', () => {
  const r = run(['validate', '-f', SEED]);
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /8 object\(s\) valid/);
});

test('sluice validate: one line per problem as file:document: path: reason, exit 1', () => {
  const yaml = `apiVersion: egress.sluice.dev/v1alpha1
kind: EgressPolicy
metadata: {name: bad, namespace: default}
spec:
  egressGatewayName: default
  egressIP: {ipv4: 300.1.1.1}
  appliedTo: {}
---
apiVersion: egress.sluice.dev/v1alpha1
kind: EgressGateway
metadata: {name: default}
spec:
  nodeSelector: {selector: {matchLabels: {egress: "true"}}}
  ippools: {ipv4: [198.18.0.100-198.18.0.120]}
---
apiVersion: egress.sluice.dev/v1alpha1
kind: EgressPolicy
metadata: {name: outside, namespace: default}
spec:
  egressGatewayName: default
  egressIP: {ipv4: 198.18.0.5}
  appliedTo: {podSelector: {matchLabels: {app: x}}}
`;
  withFile(yaml, (path) => {
    const r = run(['validate', '-f', path]);
    assert.equal(r.code, 1);
    const lines = r.out.trim().split('\n');
    assert.ok(lines.includes(`${path}:1: EgressPolicy "bad": spec.egressIP.ipv4: "300.1.1.1" is not an IP address`), r.out);
    assert.ok(lines.includes(`${path}:1: EgressPolicy "bad": spec.appliedTo: set podSelector or podSubnet to choose the pods`), r.out);
    assert.ok(
      lines.some((l) => l.includes('198.18.0.5 is not inside any pool of gateway "default" (IPNotInPool)')),
      r.out,
    );
    assert.equal(r.err, '');
  });
});

test('sluice validate: pools across gateways and against the nodes given', () => {
  const yaml = `apiVersion: v1
kind: Node
metadata: {name: gw-1, labels: {egress: "true"}}
spec: {podCIDRs: [10.244.1.0/24]}
status: {addresses: [{type: InternalIP, address: 198.18.0.11}], conditions: [{type: Ready, status: "True"}]}
---
apiVersion: egress.sluice.dev/v1alpha1
kind: EgressGateway
metadata: {name: main, creationTimestamp: "2026-01-01T00:00:00Z"}
spec:
  nodeSelector: {selector: {matchLabels: {egress: "true"}}}
  ippools: {ipv4: [198.18.0.8/29]}
---
apiVersion: egress.sluice.dev/v1alpha1
kind: EgressGateway
metadata: {name: later, creationTimestamp: "2026-02-01T00:00:00Z"}
spec:
  nodeSelector: {selector: {matchLabels: {egress: "true"}}}
  ippools: {ipv4: [198.18.0.14-198.18.0.20]}
---
apiVersion: egress.sluice.dev/v1alpha1
kind: EgressPolicy
metadata: {name: on-node-ip, namespace: default}
spec:
  egressGatewayName: main
  egressIP: {ipv4: 198.18.0.11}
  appliedTo: {podSelector: {matchLabels: {app: x}}}
---
apiVersion: egress.sluice.dev/v1alpha1
kind: EgressPolicy
metadata: {name: broadcast, namespace: default}
spec:
  egressGatewayName: main
  egressIP: {ipv4: 198.18.0.15}
  appliedTo: {podSelector: {matchLabels: {app: x}}}
`;
  withFile(yaml, (path) => {
    const r = run(['validate', '-f', path]);
    assert.equal(r.code, 1, r.out + r.err);
    const lines = r.out.trim().split('\n');
    assert.ok(
      lines.some((l) => l.includes('EgressGateway "later": pool 198.18.0.14-198.18.0.20 of gateway "later" overlaps the pools of the older gateway "main" (PoolOverlap)')),
      r.out,
    );
    assert.ok(
      lines.some((l) => l.includes('EgressGateway "main": spec.ippools: 198.18.0.11 (node or pod address) are never handed out (ClusterAddress)')),
      r.out,
    );
    assert.ok(
      lines.some((l) => l.includes('EgressPolicy "default/on-node-ip": spec.egressIP.ipv4: 198.18.0.11 is a node address or inside a pod CIDR (ClusterAddress)')),
      r.out,
    );
    assert.ok(
      lines.some((l) =>
        l.includes('EgressPolicy "default/broadcast": spec.egressIP.ipv4: 198.18.0.15 is the broadcast address of a CIDR in the pools of gateway "main" (ReservedAddress)'),
      ),
      r.out,
    );
  });
});

test('sluice validate: garbage gives a clear message, never a stack trace', () => {
  for (const garbage of ['{{{ not yaml', 'just a string', 'apiVersion: v9\nkind: Frob\nmetadata: {name: x}']) {
    withFile(garbage, (path) => {
      const r = run(['validate', '-f', path]);
      assert.equal(r.code, 1, garbage);
      assert.match(r.out, new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:1: `));
      assert.doesNotMatch(r.out + r.err, /at .*\.js:\d+/);
    });
  }
  const missing = run(['validate', '-f', '/nonexistent/file.yaml']);
  assert.equal(missing.code, 2);
  assert.match(missing.err, /^sluice: EGW_ERR_INPUT: \/nonexistent\/file\.yaml: cannot read/);
});

test('sluice plan prints text, json, yaml and nft for the seed example', () => {
  const text = run(['plan', '--cluster', SEED, '--node', 'worker-1']);
  assert.equal(text.code, 0, text.err);
  assert.match(text.out, /default\/test {2}gateway=default via gateway-\d {2}role=worker {2}pods here=1\/1/);
  const json = JSON.parse(run(['plan', '--cluster', SEED, '--node', 'worker-1', '-o', 'json']).out);
  assert.equal(json.node, 'worker-1');
  assert.deepEqual(parse(run(['plan', '--cluster', SEED, '--node', 'worker-1', '-o', 'yaml']).out), json);
  const nft = run(['plan', '--cluster', SEED, '--node', 'worker-1', '-o', 'nft']);
  assert.match(nft.out, /^table inet sluice \{/);
  const bad = run(['plan', '--cluster', SEED, '--node', 'worker-1', '-o', 'xml']);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /argument 'xml' is invalid\. Allowed choices are text, json, yaml, nft/);
  const unknown = run(['plan', '--cluster', SEED, '--node', 'nope']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.err, /EGW_ERR_PLAN: node "nope" is not in the cluster snapshot/);
});

test('every command has --help', () => {
  for (const cmd of [[], ['plan'], ['validate']]) {
    const r = run([...cmd, '--help']);
    assert.equal(r.code, 0);
    assert.match(r.out, /Usage: sluice/);
  }
});

test('sluice import converts seed 002 spidernet YAML so that it validates', () => {
  const spider = `apiVersion: egressgateway.spidernet.io/v1beta1
kind: EgressPolicy
metadata:
  name: test
  namespace: default
  uid: 1234
spec:
  egressGatewayName: default
  appliedTo:
    podSelector:
      matchLabels:
        app: "visitor"
status:
  eip: {ipv4: 172.22.0.110}
`;
  const imported = run(['import', '-f', '-'], spider);
  assert.equal(imported.code, 0, imported.err);
  assert.match(imported.out, /apiVersion: egress\.sluice\.dev\/v1alpha1/);
  assert.doesNotMatch(imported.out, /uid|status/);
  withFile(imported.out, (path) => assert.equal(run(['validate', '-f', path]).code, 0));
  withFile(spider, (path) => assert.match(run(['validate', '-f', path]).out, /sluice import/));
});

test('sluice version prints the version and the commit the build recorded', () => {
  const text = run(['version']);
  assert.equal(text.code, 0, text.err);
  assert.match(text.out, /^sluice \d+\.\d+\.\d+\S* \(commit ([0-9a-f]{7,40}(-dirty)?|unknown), node v\d+/);
  const yaml = parse(run(['version', '-o', 'yaml']).out) as { version: string; commit: string };
  assert.deepEqual(JSON.parse(run(['version', '-o', 'json']).out), { ...yaml, nodejs: process.version });
  assert.equal(run(['--version']).out.trim(), yaml.version);
});

test('the build records the commit: from $SLUICE_COMMIT, from git, or unknown without .git', () => {
  const tool = join(process.cwd(), 'dist', 'agent', 'tools', 'write-build-info.js');
  const dir = mkdtempSync(join(tmpdir(), 'sluice-build-info-'));
  try {
    const out = join(dir, 'build-info.json');
    const write = (env: Record<string, string>, cwd: string) => spawnSync(process.execPath, [tool, out], { cwd, env: { ...process.env, ...env }, encoding: 'utf8' });
    assert.equal(write({ SLUICE_COMMIT: '0123abc' }, dir).status, 0);
    assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')), { commit: '0123abc' });
    assert.notEqual(write({ SLUICE_COMMIT: 'main; rm -rf /' }, dir).status, 0, 'not a commit hash');
    assert.equal(write({ SLUICE_COMMIT: '' }, dir).status, 0);
    assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')), { commit: 'unknown' }, 'a tree without .git still builds');
    const head = spawnSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' });
    if (head.status === 0) {
      assert.equal(write({ SLUICE_COMMIT: '' }, process.cwd()).status, 0);
      assert.match(JSON.parse(readFileSync(out, 'utf8')).commit, new RegExp(`^${head.stdout.trim()}(-dirty)?$`));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const SPIDERNET_EXPORT = join(process.cwd(), 'lib', 'api', 'testdata', 'spidernet-export.yaml');

test('sluice import of a spidernet export: objects that validate, YAML every reader types alike, a summary', () => {
  const r = run(['import', '-f', SPIDERNET_EXPORT]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /sluice import: 6 converted, 0 passed through, 2 left out \(written by the controller\), 0 could not be converted\n$/);
  assert.match(r.err, /EgressGateway "default": dropped finalizers/);
  assert.doesNotMatch(r.out, /finalizers|ownerReferences|status:|uid:|resourceVersion|creationTimestamp|EgressEndpointSlice|EgressTunnel|spidernet|calico/);
  assert.match(r.out, /clusterDefault: true/, 'the cluster default is kept');
  assert.match(r.err, /default\/visitor": spec\.egressGatewayName: none given; sluice uses its namespace's label egress\.sluice\.dev\/egressgateway-default/);
  assert.deepEqual(parse(r.out.split('---\n')[0]!, { version: '1.1' }), parse(r.out.split('---\n')[0]!, { version: '1.2' }), 'YAML 1.1 (kubectl) reads the same types');
  assert.match(r.out, /egress: "yes"/);
  withFile(r.out, (path) => {
    const v = run(['validate', '-f', path]);
    assert.equal(v.code, 0, v.out);
    assert.match(v.out, /^6 object\(s\) valid/);
  });
});

test('sluice import: exit 1 naming each object it could not convert; what it prints still validates', () => {
  const broken = readFileSync(SPIDERNET_EXPORT, 'utf8')
    .replace('    clusterDefault: true\n', '    clusterDefault: false\n')
    .replace('      ipv4DefaultEIP: 10.6.2.10\n', '      ipv4DefaultEIP: 10.6.9.10\n');
  withFile(broken, (path) => {
    const r = run(['import', '-f', path]);
    assert.equal(r.code, 1, r.err);
    const named = [...r.err.matchAll(/^\S+: (\S+ "[^"]+"): NOT CONVERTED: /gm)].map((m) => m[1]);
    assert.deepEqual([...new Set(named)], ['EgressGateway "partners"', 'EgressClusterPolicy "payments"']);
    assert.match(r.err, /EgressGateway "partners": NOT CONVERTED: does not validate: spec\.ippools\.ipv4DefaultEIP/);
    assert.match(r.err, /EgressClusterPolicy "payments": NOT CONVERTED: does not validate: .*\(GatewayNotFound\)/);
    assert.match(r.err, /2 could not be converted/);
    withFile(r.out, (out) => assert.equal(run(['validate', '-f', out]).code, 0));
  });
});

test("sluice agent refuses a --mark-mask over kube-proxy's bits unless the overlap is allowed", () => {
  const refused = run(['agent', '--node', 'n1', '--mark-mask', '0xff00', '--kubeconfig', '/nonexistent/kubeconfig']);
  assert.equal(refused.code, 2, refused.err);
  assert.match(refused.err, /^sluice: EGW_ERR_MARK_OVERLAP: markMask 0xff00 overlaps .*kube-proxy 0x4000.*kube-proxy 0x8000.*--allow-mark-overlap/);
  assert.doesNotMatch(refused.err, /at .*\.js:\d+/);
  // Allowed, the mask passes and the agent gets as far as its kubeconfig.
  const allowed = run(['agent', '--node', 'n1', '--mark-mask', '0xff00', '--allow-mark-overlap', '--kubeconfig', '/nonexistent/kubeconfig']);
  assert.notEqual(allowed.code, 0);
  assert.doesNotMatch(allowed.err, /EGW_ERR_MARK_OVERLAP/);
});

test("the controller and cleanup take the mask and the overlap from the ConfigMap's variables, as the agent does", () => {
  const withEnv = (args: string[], env: Record<string, string>) => {
    const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, ...env } });
    return { code: r.status, err: r.stderr };
  };
  const kubeconfig = ['--kubeconfig', '/nonexistent/kubeconfig'];
  for (const args of [
    ['controller', ...kubeconfig],
    ['cleanup', '--dry-run'],
  ]) {
    const refused = withEnv(args, { SLUICE_MARK_MASK: '0xff00' });
    assert.equal(refused.code, 2, `${args[0]}: ${refused.err}`);
    assert.match(refused.err, /^sluice: EGW_ERR_MARK_OVERLAP: markMask 0xff00 /, args[0]);
    const bad = withEnv(args, { SLUICE_MARK_MASK: '0xff00', SLUICE_ALLOW_MARK_OVERLAP: 'yes' });
    assert.match(bad.err, /^sluice: EGW_ERR_CONFIG: SLUICE_ALLOW_MARK_OVERLAP: "yes" must be true or false/, args[0]);
  }
  const allowed = withEnv(['controller', ...kubeconfig], { SLUICE_MARK_MASK: '0xff00', SLUICE_ALLOW_MARK_OVERLAP: 'true' });
  assert.notEqual(allowed.code, 0);
  assert.match(allowed.err, /^sluice: EGW_ERR_CONFIG: kubeconfig \/nonexistent\/kubeconfig: /, 'the mask passed: it got as far as its kubeconfig');
});
