/** The hook points the API server and agent plugins will use, driven by a recording plugin (root only). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Lab } from './lab.js';
import { labPrefix } from './names.js';
import { API_SERVER_ROLE, agentRole, type LabPlugin } from './plugins.js';
import { assertNoNetns, needsRoot, tempLabBase } from './test-support.js';

const idle = (msg: string) => [process.execPath, '-e', `console.log(${JSON.stringify(msg)}); setInterval(() => {}, 1 << 30)`];

function recorder(calls: string[]): LabPlugin {
  return {
    name: 'recorder',
    async afterNetwork(ctx) {
      calls.push('afterNetwork');
      await ctx.startDaemon({ role: API_SERVER_ROLE, netns: ctx.state.netns.control, argv: idle('serving'), readyLogLine: 'serving' });
      ctx.setControlPlane({ apiServer: 'http://198.18.0.3:6443', kubeconfig: `${ctx.logDir}/kubeconfig` });
    },
    async nodeAdded(ctx, node) {
      calls.push(`nodeAdded ${node.name}`);
      await ctx.startDaemon({ role: agentRole(node.name), netns: node.netns, argv: idle('agent ready'), readyLogLine: 'agent ready' });
    },
    async podAdded(_ctx, pod) {
      calls.push(`podAdded ${pod.namespace}/${pod.name} ${pod.ips.join(',')} ${JSON.stringify(pod.labels)}`);
    },
    async podDeleted(_ctx, pod) {
      calls.push(`podDeleted ${pod.namespace}/${pod.name}`);
    },
    async nodeFailed(_ctx, node) {
      calls.push(`nodeFailed ${node.name}`);
    },
    async nodeHealed(_ctx, node) {
      calls.push(`nodeHealed ${node.name}`);
    },
    async beforeDown(ctx) {
      calls.push(`beforeDown ${ctx.state.daemons.length} daemons`);
    },
  };
}

test('plugins see every lifecycle step and their daemons stop, start and restart by role', { skip: needsRoot, timeout: 60_000 }, async () => {
  const baseDir = await tempLabBase();
  const name = `labplug-${process.pid}`;
  const calls: string[] = [];
  const lab = await Lab.up(name, { workers: 1, gateways: 1, plugins: [recorder(calls)], baseDir });
  try {
    await lab.addPod({ namespace: 'ns', name: 'p', labels: { app: 'x' } });
    await lab.failNode('gateway-1');
    await lab.healNode('gateway-1');
    await lab.deletePod('ns/p');
    assert.deepEqual(calls, [
      'afterNetwork',
      'nodeAdded worker-1',
      'nodeAdded gateway-1',
      'podAdded ns/p 10.244.1.2 {"app":"x"}',
      'nodeFailed gateway-1',
      'nodeHealed gateway-1',
      'podDeleted ns/p',
    ]);

    const info = await lab.info();
    assert.equal(info.apiServer, 'http://198.18.0.3:6443');
    const daemon = (role: string) => info.daemons.find((d) => d.role === role);
    assert.deepEqual(
      info.daemons.map((d) => [d.role, d.running]),
      [
        ['echo', true],
        [API_SERVER_ROLE, true],
        [agentRole('worker-1'), true],
        [agentRole('gateway-1'), true],
      ],
    );

    await lab.stopDaemon(API_SERVER_ROLE);
    const stopped = (await lab.info()).daemons.find((d) => d.role === API_SERVER_ROLE)!;
    assert.equal(stopped.running, false);
    await lab.startDaemon(API_SERVER_ROLE);
    assert.equal((await lab.info()).daemons.find((d) => d.role === API_SERVER_ROLE)!.running, true);

    const before = daemon(agentRole('worker-1'))!.pid;
    await lab.restartDaemon(agentRole('worker-1'));
    const restarted = (await lab.info()).daemons.find((d) => d.role === agentRole('worker-1'))!;
    assert.equal(restarted.running, true);
    assert.notEqual(restarted.pid, before);
    await assert.rejects(lab.startDaemon(agentRole('worker-1')), /already running/);
  } finally {
    await lab.down();
  }
  assert.equal(calls.at(-1), 'beforeDown 4 daemons');
  await assertNoNetns(labPrefix(name));
});
