/**
 * The lab as a Kubernetes cluster, through kubectl and the lab CLI as scripts use them (root only):
 * Nodes and heartbeats, CRDs, Pods made by the lab kubelet, node failure detection, API server outage.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { agentCommandMissing } from './cluster/agent-daemon.js';
import type { NodeObject, PodObject } from './cluster/kube-types.js';
import type { LabInfo, PodInfo } from './info.js';
import { Lab } from './lab.js';
import { labPrefix } from './names.js';
import { listNetns } from './netns.js';
import { agentRole } from './plugins.js';
import { assertNoNetns, eventually, needsRoot, tempLabBase, withDaemonLogsOnFailure } from './test-support.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const LAB = join(REPO, 'e2e/lab');
const GRACE_SECONDS = 3;

async function cli(env: Record<string, string>, args: string[], input?: string) {
  return execa(LAB, args, { env, reject: false, timeout: 240_000, ...(input === undefined ? {} : { input }) });
}

async function kubectlJson<T>(lab: Lab, args: string[]): Promise<T> {
  return JSON.parse((await lab.kubectl([...args, '-o', 'json'])).stdout) as T;
}

const readyStatus = (n: NodeObject) => n.status?.conditions?.find((c) => c.type === 'Ready')?.status;
const taintKeys = (n: NodeObject) => (n.spec?.taints ?? []).map((t) => `${t.key}:${t.effect}`).sort();

const POD_YAML = `apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: default
  labels: {app: web}
spec:
  containers: [{name: app, image: busybox}]
`;

describe('lab cluster', { skip: needsRoot, concurrency: true }, () => {
  test('Nodes, CRDs, Pods through kubectl, node failure detection and an API server outage', { timeout: 300_000 }, async (t) => {
    const env = { SLUICE_LAB_DIR: await tempLabBase() };
    const name = `labk8s-${process.pid}`;
    const lap = (() => {
      let last = Date.now();
      return (what: string) => {
        t.diagnostic(`${what}: ${Date.now() - last} ms`);
        last = Date.now();
      };
    })();
    try {
      await withDaemonLogsOnFailure(
        () => Lab.open(name, { baseDir: env.SLUICE_LAB_DIR }),
        async () => {
          const up = await cli(env, ['up', name, '--workers', '1', '--gateways', '2', '--no-agents', '--node-grace', String(GRACE_SECONDS)]);
          assert.equal(up.exitCode, 0, up.stderr);
          lap('up');
          const info = JSON.parse(up.stdout) as LabInfo;
          assert.equal(info.apiServer, 'http://198.18.0.3:6443');
          assert.equal(info.kubeconfig, join(info.stateDir, 'kubeconfig'));
          assert.ok(existsSync(info.kubeconfig));
          assert.equal(info.agents, false);
          assert.deepEqual(
            info.daemons.filter((d) => d.running).map((d) => d.role),
            ['echo', 'apiserver', 'node-lifecycle', 'kubelet', 'api-gate', 'heartbeat:worker-1', 'heartbeat:gateway-1', 'heartbeat:gateway-2'],
          );
          const lab = await Lab.open(name, { baseDir: env.SLUICE_LAB_DIR });

          const text = (await lab.kubectl(['get', 'nodes'])).stdout;
          assert.equal(text.match(/\sReady\s/g)?.length, 3, text);
          const nodes = (await kubectlJson<{ items: NodeObject[] }>(lab, ['get', 'nodes'])).items;
          assert.deepEqual(nodes.map((n) => [n.metadata.name, readyStatus(n)]).sort(), [
            ['gateway-1', 'True'],
            ['gateway-2', 'True'],
            ['worker-1', 'True'],
          ]);
          const gw1 = nodes.find((n) => n.metadata.name === 'gateway-1')!;
          assert.equal(gw1.metadata.labels?.['kubernetes.io/hostname'], 'gateway-1');
          assert.equal(gw1.metadata.labels?.['node-role.kubernetes.io/gateway'], '');
          assert.equal(gw1.metadata.labels?.['sluice.dev/lab-role'], 'gateway');
          assert.deepEqual(
            gw1.status?.addresses?.find((a) => a.type === 'InternalIP'),
            { type: 'InternalIP', address: '198.18.0.12' },
          );
          assert.deepEqual(gw1.spec?.podCIDRs, ['10.244.2.0/24']);
          lap('nodes');

          // The CRDs were installed by `up`; applying them again changes nothing.
          const crdFiles = readdirSync(join(REPO, 'manifests/crds')).filter((f) => f.startsWith('egress.'));
          for (const args of [['-k', 'manifests/crds'], crdFiles.flatMap((f) => ['-f', `manifests/crds/${f}`])]) {
            const r = await lab.kubectl(['apply', ...args.map((a) => (a.startsWith('manifests/') ? join(REPO, a) : a))]);
            assert.equal(r.stdout.match(/ unchanged$/gm)?.length, crdFiles.length, r.stdout);
          }
          lap('CRDs');

          // A Pod from kubectl (stdin through the CLI) gets a namespace and IP from the lab kubelet.
          const applied = await cli(env, ['kubectl', name, '--', 'apply', '-f', '-'], POD_YAML);
          assert.equal(applied.exitCode, 0, applied.stderr);
          assert.match(applied.stdout, /pod\/web created/);
          await lab.kubectl(['wait', '--for=condition=Ready', 'pod/web', '--timeout=20s']);
          const web = await kubectlJson<PodObject>(lab, ['get', 'pod', 'web']);
          assert.equal(web.spec?.nodeName, 'worker-1', 'scheduled to the worker');
          assert.equal(web.status?.podIP, '10.244.1.2');
          assert.equal(web.status?.hostIP, '198.18.0.11');
          const webInfo = (await lab.info()).pods.find((p) => p.name === 'web')!;
          assert.deepEqual([webInfo.namespace, webInfo.node, webInfo.ips, webInfo.labels], ['default', 'worker-1', ['10.244.1.2'], { app: 'web' }]);
          assert.equal((await lab.echoFrom({ pod: 'default/web' }, 'http')).clientIP, '198.18.0.11');
          lap('kubectl apply pod');

          const made = await cli(env, ['pod', name, '--namespace', 'ns2', '--name', 'p', '--labels', 'app=a', '--node', 'gateway-2']);
          assert.equal(made.exitCode, 0, made.stderr);
          const p = JSON.parse(made.stdout) as PodInfo;
          assert.deepEqual([p.node, p.ips, p.labels], ['gateway-2', ['10.244.3.2'], { app: 'a' }]);
          const pObj = await kubectlJson<PodObject>(lab, ['get', 'pod', '-n', 'ns2', 'p']);
          assert.deepEqual(pObj.status?.podIPs, [{ ip: '10.244.3.2' }]);
          await lab.exec({ pod: 'ns2/p' }, ['ping', '-c', '1', '-W', '2', '10.244.1.2']);
          lap('lab pod');

          await lab.kubectl(['delete', 'pod', 'web']);
          await eventually(async () => assert.ok(!(await listNetns(webInfo.netns)).includes(webInfo.netns), 'web netns still there'), 10_000);
          assert.deepEqual(
            (await lab.info()).pods.map((x) => x.name),
            ['p'],
          );
          const missing = await cli(env, ['kubectl', name, '--', 'get', 'pod', 'web']);
          assert.equal(missing.exitCode, 1, 'kubectl exit code passes through');
          assert.match(missing.stderr, /NotFound/);
          lap('kubectl delete pod');

          // A cut link stops the heartbeat: NotReady and tainted after the grace period; heal-node waits for Ready.
          const cut = Date.now();
          assert.equal((await cli(env, ['fail-node', name, 'gateway-1'])).exitCode, 0);
          const failed = await eventually(
            async () => {
              const n = await kubectlJson<NodeObject>(lab, ['get', 'node', 'gateway-1']);
              assert.equal(readyStatus(n), 'Unknown');
              return n;
            },
            (GRACE_SECONDS + 10) * 1000,
            200,
          );
          const detectedMs = Date.now() - cut;
          t.diagnostic(`NotReady ${detectedMs} ms after fail-node (grace ${GRACE_SECONDS} s)`);
          assert.ok(detectedMs >= (GRACE_SECONDS - 2) * 1000, `detected after only ${detectedMs} ms`);
          assert.equal(failed.status?.conditions?.find((c) => c.type === 'Ready')?.reason, 'NodeStatusUnknown');
          assert.deepEqual(taintKeys(failed), ['node.kubernetes.io/unreachable:NoExecute', 'node.kubernetes.io/unreachable:NoSchedule']);
          const others = (await kubectlJson<{ items: NodeObject[] }>(lab, ['get', 'nodes'])).items.filter((n) => n.metadata.name !== 'gateway-1');
          assert.deepEqual(others.map(readyStatus), ['True', 'True'], 'only the failed node is NotReady');
          lap('fail-node detected');
          const healed = await cli(env, ['heal-node', name, 'gateway-1']);
          assert.equal(healed.exitCode, 0, healed.stderr);
          const back = await kubectlJson<NodeObject>(lab, ['get', 'node', 'gateway-1']);
          assert.equal(readyStatus(back), 'True');
          assert.deepEqual(taintKeys(back), []);
          lap('heal-node');

          // The API server goes away longer than the grace period and comes back with everything.
          const objects = async () => (await lab.kubectl(['get', 'nodes,pods,crds,leases', '-A', '-o', 'name'])).stdout.split('\n').sort();
          const before = await objects();
          assert.equal((await cli(env, ['apiserver-down', name])).exitCode, 0);
          const down = await lab.kubectl(['get', 'nodes'], { allowFailure: true });
          assert.notEqual(down.exitCode, 0);
          assert.match(down.stderr, /refused/);
          await new Promise((r) => setTimeout(r, (GRACE_SECONDS + 1) * 1000));
          assert.equal((await cli(env, ['apiserver-up', name])).exitCode, 0);
          assert.deepEqual(await objects(), before);
          // Heartbeats failed during the outage; the controller must not blame the nodes for it.
          await new Promise((r) => setTimeout(r, 1000));
          const after = (await kubectlJson<{ items: NodeObject[] }>(lab, ['get', 'nodes'])).items;
          assert.deepEqual(after.map(readyStatus), ['True', 'True', 'True']);
          lap('API server down and up');
        },
      );
    } finally {
      const down = await cli(env, ['down', name]);
      assert.equal(down.exitCode, 0, down.stderr);
    }
    await assertNoNetns(labPrefix(name));
  });

  test('sluice agents: ready at up, restart, killed by fail-node, back with heal-node', { timeout: 300_000 }, async (t) => {
    const why = await agentCommandMissing();
    if (why) return t.skip(why);
    const baseDir = await tempLabBase();
    let last = Date.now();
    const lap = (what: string) => {
      t.diagnostic(`${what}: ${Date.now() - last} ms`);
      last = Date.now();
    };
    const lab = await Lab.up(`labagent-${process.pid}`, { workers: 1, gateways: 1, nodeGraceSeconds: GRACE_SECONDS, baseDir });
    lap('up');
    try {
      await withDaemonLogsOnFailure(
        async () => lab,
        async () => {
          const agent = async (node: string) => (await lab.info()).daemons.find((d) => d.role === agentRole(node))!;
          const first = await agent('gateway-1');
          assert.equal(first.running, true);
          const controllers = (await lab.info()).daemons.filter((d) => d.role.startsWith('controller:'));
          assert.deepEqual(
            controllers.map((d) => [d.role, d.running]),
            [
              ['controller:1', true],
              ['controller:2', true],
            ],
            'two controller replicas beside the agents',
          );
          await lab.restartDaemon(agentRole('gateway-1'));
          const second = await agent('gateway-1');
          assert.equal(second.running, true);
          assert.notEqual(second.pid, first.pid);
          lap('restart-agent');
          await lab.failNode('gateway-1');
          lap('fail-node');
          assert.equal((await agent('gateway-1')).running, false, 'fail-node kills the agent');
          await lab.healNode('gateway-1');
          assert.equal((await agent('gateway-1')).running, true, 'heal-node starts it again');
          lap('heal-node');
        },
      );
    } finally {
      await lab.down();
      lap('down');
    }
    await assertNoNetns(labPrefix(lab.name));
  });
});
