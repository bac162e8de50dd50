/**
 * The lab end to end, as root: an IPv4 and a dual-stack lab side by side (which also shows that two
 * labs coexist), each with one worker and one gateway.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { IpFamily } from './echo-client.js';
import { Lab } from './lab.js';
import { labPrefix } from './names.js';
import { assertNoNetns, eventually, needsRoot, tempLabBase } from './test-support.js';

const PROTOS = ['http', 'tcp', 'udp'] as const;

describe('netns lab', { skip: needsRoot, concurrency: true }, () => {
  for (const ipv6 of [false, true]) {
    const families: IpFamily[] = ipv6 ? [4, 6] : [4];
    test(`${ipv6 ? 'dual-stack' : 'IPv4'} lab: SNAT to the node, pod to pod, fail and heal, clean down`, { timeout: 60_000 }, async () => {
      const baseDir = await tempLabBase();
      const name = `labkit-${process.pid}-v${ipv6 ? 6 : 4}`;
      let lab: Lab | undefined;
      try {
        const started = Date.now();
        lab = await Lab.up(name, { workers: 1, gateways: 1, ipv6, plugins: [], baseDir });
        const upMs = Date.now() - started;
        assert.ok(upMs < 10_000, `bring-up took ${upMs} ms`);

        const client = await lab.addPod({ namespace: 'default', name: 'client', labels: { app: 'c' } });
        const server = await lab.addPod({ namespace: 'other', name: 'server', node: 'gateway-1' });
        const info = await lab.info();
        const worker = info.nodes.find((n) => n.name === 'worker-1')!;
        const gateway = info.nodes.find((n) => n.name === 'gateway-1')!;
        assert.equal(client.node, 'worker-1', 'default placement is the worker');
        assert.deepEqual(client.ips, ipv6 ? ['10.244.1.2', 'fd00:10:244:1::2'] : ['10.244.1.2']);
        assert.equal(info.pods.length, 2);

        // The outside sees the node's LAN IP: the CNI masquerades pod traffic leaving the node.
        for (const family of families) {
          for (const proto of PROTOS) {
            const reply = await lab.echoFrom({ pod: 'default/client' }, proto, family);
            assert.equal(reply.clientIP, worker.ips[family === 4 ? 0 : 1], `${proto}/IPv${family} from the worker pod`);
          }
          const fromGw = await lab.echoFrom({ pod: 'other/server' }, 'http', family);
          assert.equal(fromGw.clientIP, gateway.ips[family === 4 ? 0 : 1]);
        }

        // Pod to pod across nodes, both ways, without NAT (host-gw routes).
        for (const [from, to] of [
          ['default/client', server],
          ['other/server', client],
        ] as const) {
          for (const ip of to.ips) await lab.exec({ pod: from }, ['ping', '-c', '1', '-W', '2', ip]);
        }

        // The external host has no route to pods: only SNATed traffic can be answered.
        const direct = await lab.exec({ host: 'ext' }, ['ping', '-c', '1', '-W', '1', client.ips[0]!], { allowFailure: true });
        assert.notEqual(direct.exitCode, 0, 'ext reached a pod directly');

        await lab.failNode('worker-1');
        assert.equal((await lab.info()).nodes.find((n) => n.name === 'worker-1')!.failed, true);
        for (const family of families) {
          await assert.rejects(lab.echoFrom({ pod: 'default/client' }, 'http', family, 1), `IPv${family} echo through a failed node`);
        }
        // The other node is not affected.
        await lab.echoFrom({ pod: 'other/server' }, 'tcp', 4);

        await lab.healNode('worker-1');
        for (const family of families) {
          const reply = await eventually(() => lab!.echoFrom({ pod: 'default/client' }, 'http', family, 1), 5_000);
          assert.equal(reply.clientIP, worker.ips[family === 4 ? 0 : 1]);
        }

        await lab.deletePod('other/server');
        assert.deepEqual(
          (await lab.info()).pods.map((p) => p.name),
          ['client'],
        );
        const gone = await lab.exec({ pod: 'default/client' }, ['ping', '-c', '1', '-W', '1', server.ips[0]!], {
          allowFailure: true,
        });
        assert.notEqual(gone.exitCode, 0, 'deleted pod still answers');
      } finally {
        if (lab) await lab.down();
        else await Lab.down(name, { baseDir });
      }
      await assertNoNetns(labPrefix(name));
    });
  }
});
