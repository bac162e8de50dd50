/** The shell entry point `e2e/lab`, as scripts use it (root only). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import type { LabInfo, PodInfo } from './info.js';
import { labPrefix } from './names.js';
import { addNetns, listNetns, netnsPids } from './netns.js';
import { run } from './run.js';
import { assertNoNetns, eventually, needsRoot, tempLabBase } from './test-support.js';

// dist/e2e/labkit/ → the repository's e2e/lab
const LAB = fileURLToPath(new URL('../../../e2e/lab', import.meta.url));

async function lab(env: Record<string, string>, ...args: string[]) {
  return execa(LAB, args, { env, reject: false, timeout: 120_000 });
}

describe('e2e/lab CLI', { skip: needsRoot }, () => {
  test('up, pod, exec, fail/heal, delete-pod and an idempotent down', { timeout: 300_000 }, async () => {
    const env = { SLUICE_LAB_DIR: await tempLabBase() };
    const name = `labcli-${process.pid}`;
    try {
      const up = await lab(env, 'up', name, '--workers', '2', '--gateways', '1', '--node-grace', '3', '--plugins', '');
      assert.equal(up.exitCode, 0, up.stderr);
      const info = JSON.parse(up.stdout) as LabInfo;
      assert.deepEqual(
        info.nodes.map((n) => n.name),
        ['worker-1', 'worker-2', 'gateway-1'],
      );
      assert.equal(info.nodeGraceSeconds, 3);
      assert.equal(info.apiServer, null);

      const again = await lab(env, 'up', name, '--plugins', '');
      assert.notEqual(again.exitCode, 0, 'a second up of the same lab must fail');
      assert.match(again.stderr, /already exists/);

      const made = await lab(env, 'pod', name, '--namespace', 'ns1', '--name', 'p', '--labels', 'app=a,x=y', '--node', 'worker-2');
      assert.equal(made.exitCode, 0, made.stderr);
      const pod = JSON.parse(made.stdout) as PodInfo;
      assert.deepEqual(pod.labels, { app: 'a', x: 'y' });
      assert.deepEqual(pod.ips, ['10.244.2.2']);

      const url = `http://${info.echo.ipv4}:${info.echo.httpPort}/`;
      const curl = await lab(env, 'exec', name, 'ns1/p', '--', 'curl', '-sS', '--max-time', '2', url);
      assert.equal(curl.exitCode, 0, curl.stderr);
      assert.equal(JSON.parse(curl.stdout).clientIP, '198.18.0.12');

      const code = await lab(env, 'exec', name, 'ns1/p', '--', 'sh', '-c', 'exit 3');
      assert.equal(code.exitCode, 3, 'exec passes the exit code through');

      const addr = await lab(env, 'node-exec', name, 'ext', '--', 'ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0');
      assert.match(addr.stdout, /198\.18\.0\.2\/24/);

      assert.equal((await lab(env, 'fail-node', name, 'worker-2')).exitCode, 0);
      const cut = await lab(env, 'exec', name, 'ns1/p', '--', 'curl', '-sS', '--max-time', '1', url);
      assert.notEqual(cut.exitCode, 0, 'echo reachable through a failed node');
      assert.equal((await lab(env, 'heal-node', name, 'worker-2')).exitCode, 0);
      await eventually(async () => {
        const r = await lab(env, 'exec', name, 'ns1/p', '--', 'curl', '-sS', '--max-time', '1', url);
        assert.equal(r.exitCode, 0, r.stderr);
      }, 5_000);

      const noApi = await lab(env, 'apiserver-down', name);
      assert.match(noApi.stderr, /no daemon apiserver/);

      assert.equal((await lab(env, 'delete-pod', name, 'ns1/p')).exitCode, 0);
      const after = JSON.parse((await lab(env, 'info', name)).stdout) as LabInfo;
      assert.deepEqual(after.pods, []);
    } finally {
      const down = await lab(env, 'down', name);
      assert.equal(down.exitCode, 0, down.stderr);
    }
    await assertNoNetns(labPrefix(name));
    const twice = await lab(env, 'down', name);
    assert.equal(twice.exitCode, 0, twice.stderr);
  });

  test('the failover tools: udp-seq, tcp-flows, arp-watch, link-down/up, partition; the default node grace is 40 s', { timeout: 300_000 }, async () => {
    const env = { SLUICE_LAB_DIR: await tempLabBase() };
    const name = `labcli-fo-${process.pid}`;
    try {
      const up = await lab(env, 'up', name, '--workers', '1', '--gateways', '2', '--plugins', '');
      assert.equal(up.exitCode, 0, up.stderr);
      const info = JSON.parse(up.stdout) as LabInfo;
      assert.equal(info.nodeGraceSeconds, 40);
      assert.equal((await lab(env, 'pod', name, '--namespace', 'ns1', '--name', 'p')).exitCode, 0);

      // Measurements run for --seconds while another command cuts the worker's link.
      const udp = lab(env, 'udp-seq', name, 'ns1/p', '--seconds', '3');
      const tcp = lab(env, 'tcp-flows', name, 'ns1/p', '--count', '3', '--seconds', '5', '--after', '3');
      await new Promise((r) => setTimeout(r, 1_000));
      assert.equal((await lab(env, 'link-down', name, 'worker-1')).exitCode, 0);
      await new Promise((r) => setTimeout(r, 500));
      assert.equal((await lab(env, 'link-up', name, 'worker-1')).exitCode, 0);
      const [u, t] = [await udp, await tcp];
      assert.equal(u.exitCode, 0, u.stderr);
      const seq = JSON.parse(u.stdout) as { maxGapMs: number; lost: number; sources: Array<{ src: string }> };
      assert.ok(seq.maxGapMs >= 450 && seq.lost > 0, u.stdout);
      assert.deepEqual(
        seq.sources.map((x) => x.src),
        ['198.18.0.11'],
      );
      assert.equal(t.exitCode, 0, t.stderr);
      assert.equal((JSON.parse(t.stdout) as { survived: number }).survived, 3, t.stdout);

      assert.equal((await lab(env, 'node-exec', name, 'gateway-1', '--', 'ip', 'addr', 'add', '198.18.0.150/32', 'dev', 'eth0')).exitCode, 0);
      const arp = await lab(env, 'arp-watch', name, '198.18.0.150', '--seconds', '1');
      assert.equal(arp.exitCode, 0, arp.stderr);
      const watched = JSON.parse(arp.stdout) as { macs: string[]; contestedRounds: number };
      assert.equal(watched.macs.length, 1, arp.stdout);
      assert.equal(watched.contestedRounds, 0);

      const ping = (from: string, to: string) => lab(env, 'node-exec', name, from, '--', 'ping', '-c', '1', '-W', '1', to);
      assert.equal((await lab(env, 'partition', name, 'gateway-1', 'gateway-2')).exitCode, 0);
      assert.notEqual((await ping('gateway-1', '198.18.0.13')).exitCode, 0, 'partitioned');
      assert.equal((await ping('gateway-1', '198.18.0.11')).exitCode, 0, 'the worker is still reachable');
      assert.equal((await lab(env, 'heal-partition', name, 'gateway-1', 'gateway-2')).exitCode, 0);
      await eventually(async () => assert.equal((await ping('gateway-1', '198.18.0.13')).exitCode, 0), 5_000);
    } finally {
      const down = await lab(env, 'down', name);
      assert.equal(down.exitCode, 0, down.stderr);
    }
    await assertNoNetns(labPrefix(name));
  });

  test('down removes leftovers of a lab without state, processes included', { timeout: 120_000 }, async () => {
    const env = { SLUICE_LAB_DIR: await tempLabBase() };
    const name = `labcli-partial-${process.pid}`;
    const prefix = labPrefix(name);
    await addNetns([`${prefix}lan`, `${prefix}w1`]);
    const sleeper = execa('ip', ['netns', 'exec', `${prefix}w1`, 'sleep', '60'], { reject: false });
    await eventually(async () => assert.equal((await netnsPids(`${prefix}w1`)).length, 1), 5_000, 20);
    try {
      const down = await lab(env, 'down', name);
      assert.equal(down.exitCode, 0, down.stderr);
      assert.deepEqual(await listNetns(prefix), []);
      const r = await sleeper;
      assert.equal(r.signal, 'SIGTERM', 'the process in the namespace was ended');
    } finally {
      sleeper.kill('SIGKILL');
      await run(['ip', '-force', '-batch', '-'], {
        input: `netns delete ${prefix}lan\nnetns delete ${prefix}w1\n`,
        allowFailure: true,
      });
    }
  });
});
