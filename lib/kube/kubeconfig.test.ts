import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RequestOptions } from 'node:https';
import { isEgressError } from '../errors.js';
import { inClusterConfig, loadKubeConfig } from './kubeconfig.js';

async function optionsOf(config: { applyTo(o: RequestOptions): Promise<void> }): Promise<RequestOptions & { headers: Record<string, string> }> {
  const o: RequestOptions = { headers: {} };
  await config.applyTo(o);
  return o as RequestOptions & { headers: Record<string, string> };
}

function withDir(run: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-kubeconfig-'));
    try {
      await run(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

const kubeconfig = (users: string, clusters: string, current = 'main') => `apiVersion: v1
kind: Config
current-context: ${current}
contexts:
- name: main
  context: { cluster: c1, user: u1 }
- name: other
  context: { cluster: c2, user: u2 }
clusters:
${clusters}
users:
${users}
`;

test(
  "a kubeconfig of a token and CA data: the current context's server, CA and bearer token; another context on request",
  withDir(async (dir) => {
    const path = join(dir, 'config');
    writeFileSync(
      path,
      kubeconfig(
        `- name: u1\n  user: { token: abc }\n- name: u2\n  user: { username: admin, password: secret }`,
        `- name: c1\n  cluster: { server: 'https://10.0.0.1:6443', certificate-authority-data: ${Buffer.from('CA1').toString('base64')} }\n- name: c2\n  cluster: { server: 'https://c2:6443', insecure-skip-tls-verify: true, tls-server-name: api.c2 }`,
      ),
    );
    const main = await loadKubeConfig({ path }, {});
    assert.equal(main.server, 'https://10.0.0.1:6443');
    const o = await optionsOf(main);
    assert.equal(o.headers.Authorization, 'Bearer abc');
    assert.equal(String(o.ca), 'CA1');
    assert.equal(o.rejectUnauthorized, undefined);
    const other = await loadKubeConfig({ path, context: 'other' }, {});
    const p = await optionsOf(other);
    assert.equal(other.server, 'https://c2:6443');
    assert.equal(p.headers.Authorization, `Basic ${Buffer.from('admin:secret').toString('base64')}`);
    assert.equal(p.rejectUnauthorized, false);
    assert.equal(p.servername, 'api.c2');
    await assert.rejects(
      loadKubeConfig({ path, context: 'missing' }, {}),
      (err: unknown) => isEgressError(err) && err.code === 'EGW_ERR_CONFIG' && /no context "missing"/.test(err.message),
    );
  }),
);

test(
  'certificate and token files named relative to the kubeconfig are read from its directory; $KUBECONFIG is used without a path',
  withDir(async (dir) => {
    mkdirSync(join(dir, 'pki'));
    writeFileSync(join(dir, 'pki', 'ca.crt'), 'CA');
    writeFileSync(join(dir, 'pki', 'me.crt'), 'CERT');
    writeFileSync(join(dir, 'pki', 'me.key'), 'KEY');
    writeFileSync(join(dir, 'token'), 'from-file\n');
    writeFileSync(
      join(dir, 'config'),
      kubeconfig(
        `- name: u1\n  user: { client-certificate: pki/me.crt, client-key: pki/me.key, tokenFile: token }`,
        `- name: c1\n  cluster: { server: 'https://api:6443', certificate-authority: pki/ca.crt }`,
      ),
    );
    const o = await optionsOf(await loadKubeConfig({}, { KUBECONFIG: join(dir, 'config') }));
    assert.deepEqual([String(o.ca), String(o.cert), String(o.key), o.headers.Authorization], ['CA', 'CERT', 'KEY', 'Bearer from-file']);
  }),
);

test(
  "in a pod: the service account's CA and token, and a rotated token once the last read is older than its lifetime",
  withDir(async (dir) => {
    writeFileSync(join(dir, 'token'), 'first');
    writeFileSync(join(dir, 'ca.crt'), 'CLUSTER-CA');
    assert.equal(inClusterConfig({}, dir), undefined, 'not in a pod without KUBERNETES_SERVICE_HOST');
    const env = { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' };
    const cached = inClusterConfig(env, dir)!;
    const rotating = inClusterConfig(env, dir, 0)!;
    assert.equal(cached.server, 'https://[fd00::1]:443');
    assert.equal(String((await optionsOf(cached)).ca), 'CLUSTER-CA');
    assert.equal((await optionsOf(cached)).headers.Authorization, 'Bearer first');
    assert.equal((await optionsOf(rotating)).headers.Authorization, 'Bearer first');
    writeFileSync(join(dir, 'token'), 'second');
    assert.equal((await optionsOf(rotating)).headers.Authorization, 'Bearer second');
    assert.equal((await optionsOf(cached)).headers.Authorization, 'Bearer first', 'read again only after a minute');
  }),
);

test(
  'an exec plugin is left to client-node, loaded only for it',
  withDir(async (dir) => {
    const path = join(dir, 'config');
    writeFileSync(
      path,
      kubeconfig(`- name: u1\n  user: { exec: { apiVersion: client.authentication.k8s.io/v1, command: /bin/true } }`, `- name: c1\n  cluster: { server: 'https://exec:6443' }`),
    );
    const config = await loadKubeConfig({ path }, {});
    assert.equal(config.server, 'https://exec:6443');
    assert.equal(config.proxied, false);
  }),
);
