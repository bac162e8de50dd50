/** sluice drain / undrain / rebalance against the test API server: what they write, and how they wait. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import { startApiServer } from '../../e2e/apiserver/server.js';
import type { JsonObject as ServerObject } from '../../e2e/apiserver/json.js';
import { installCrds } from '../../lib/controller/testing/plane.js';
import { API_VERSION, DRAIN_ANNOTATION, REBALANCE_ANNOTATION } from '../../lib/api/group.js';
import { gateway, node, policy } from '../../lib/planner/testing/cluster.js';

const CLI = join(process.cwd(), 'dist', 'agent', 'main.js');
const asServer = (o: object) => o as ServerObject;

async function withServer(
  fn: (run: (args: string[]) => Promise<{ code: number; out: string; err: string }>, server: Awaited<ReturnType<typeof startApiServer>>) => Promise<void>,
): Promise<void> {
  const server = await startApiServer({ logger: pino({ level: 'silent' }) });
  const dir = mkdtempSync(join(tmpdir(), 'sluice-maint-'));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster: { server: server.url, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'u', user: {} }],
      contexts: [{ name: 'c', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'c',
    }),
  );
  const run = async (args: string[]) => {
    try {
      const r = await promisify(execFile)(process.execPath, [CLI, ...args, '--kubeconfig', kubeconfig], { timeout: 20_000 });
      return { code: 0, out: r.stdout, err: r.stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, out: e.stdout, err: e.stderr };
    }
  };
  try {
    installCrds(server);
    await fn(run, server);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await server.close();
  }
}

test('drain annotates the node and waits until no policy names it; undrain removes the annotation and says when a cordon remains', async () => {
  await withServer(async (run, server) => {
    server.store.apply(asServer({ ...node('gw-1', 1, { labels: { egress: 'true' } }), spec: { unschedulable: true } }));
    server.store.apply(asServer(policy('default', 'web', { egressGatewayName: 'main', appliedTo: { podSubnet: ['10.244.0.0/16'] } }, { status: { node: 'gw-1' } })));
    const late = await run(['drain', 'gw-1', '--wait', '1']);
    assert.equal(late.code, 2, late.out + late.err);
    assert.match(late.err, /^sluice: EGW_ERR_WAIT: node\/gw-1 still carries EgressPolicy default\/web after 1 s/);
    assert.equal((server.store.get('v1', 'Node', 'gw-1') as any).metadata.annotations[DRAIN_ANNOTATION], 'true');
    // the controller moves the policy a moment after the annotation comes back
    const n = server.store.get('v1', 'Node', 'gw-1') as any;
    server.store.apply({ ...n, metadata: { ...n.metadata, annotations: {} } });
    const mover = setInterval(() => {
      if ((server.store.get('v1', 'Node', 'gw-1') as any).metadata.annotations?.[DRAIN_ANNOTATION] !== 'true') return;
      clearInterval(mover);
      setTimeout(() => {
        const p = server.store.get(API_VERSION, 'EgressPolicy', 'web', 'default') as any;
        server.store.updateStatus({ ...p, status: { node: 'gw-2' } });
      }, 300);
    }, 20);
    const ok = await run(['drain', 'gw-1', '--wait', '10']);
    clearInterval(mover);
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.out, /1 policy leaves through it\ndrained: no policy leaves through node\/gw-1/);
    const undrain = await run(['undrain', 'gw-1']);
    assert.equal(undrain.code, 0, undrain.err);
    assert.equal((server.store.get('v1', 'Node', 'gw-1') as any).metadata.annotations?.[DRAIN_ANNOTATION], undefined);
    assert.match(undrain.out, /still cordoned, so it stays drained/);
    const missing = await run(['drain', 'nope', '--wait', '0']);
    assert.equal(missing.code, 2);
    assert.match(missing.err, /EGW_ERR_KUBE: .*404/);
  });
});

test('rebalance writes a new request token and waits for status.rebalance to report it done', async () => {
  await withServer(async (run, server) => {
    server.store.apply(asServer(gateway('main', { nodeSelector: { selector: { matchLabels: { egress: 'true' } } }, ippools: { ipv4: ['198.18.100.1-198.18.100.9'] } })));
    const timer = setInterval(() => {
      const g = server.store.get(API_VERSION, 'EgressGateway', 'main') as any;
      const token = g.metadata.annotations?.[REBALANCE_ANNOTATION];
      if (token && g.status?.rebalance?.request !== token) {
        server.store.updateStatus({
          ...g,
          status: {
            rebalance: { request: token, state: 'Done', remaining: 0 },
            conditions: [
              { type: 'Rebalanced', status: 'True', reason: 'Rebalanced', message: 'every egress IP is on its preferred node', lastTransitionTime: '2026-12-07T00:00:00Z' },
            ],
          },
        });
      }
    }, 200);
    try {
      const r = await run(['rebalance', 'main', '--wait', '10']);
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, /rebalance requested \(egress\.sluice\.dev\/rebalance=\d{4}-\d\d-\d\dT[\d:.]+Z\)\nrebalanced: every egress IP is on its preferred node/);
    } finally {
      clearInterval(timer);
    }
    const bad = await run(['rebalance', 'main', '--wait', 'soon']);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--wait must be 0-3600 seconds/);
  });
});
