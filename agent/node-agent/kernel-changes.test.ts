import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { privilegedSkipReason, withLab } from '../../lib/dataplane/testing/lab.js';
import { KernelChanges } from './kernel-changes.js';

describe('KernelChanges in a network namespace', { skip: privilegedSkipReason() }, () => {
  test('counts route, rule, address and link changes; stays still while nothing changes; undefined once stopped', async () => {
    await withLab('kchg', ['w', { ipv4: '198.18.0.11' }], ['g', { ipv4: '198.18.0.12' }], async (lab) => {
      const ns = lab.ns('w');
      const changes = new KernelChanges({ netns: ns });
      const ip = (...args: string[]) => execa('ip', ['-n', ns, ...args]);
      const moved = async (from: number | undefined) => {
        const until = Date.now() + 3000;
        while (changes.generation() === from && Date.now() < until) await sleep(20);
        return changes.generation() !== from;
      };
      try {
        const until = Date.now() + 3000;
        while (changes.generation() === undefined && Date.now() < until) await sleep(20);
        await sleep(300); // the monitor binds its socket after it starts
        await lab.settleAddresses('w');
        for (let settled = Date.now() + 10_000, last = changes.generation(); Date.now() < settled; last = changes.generation()) {
          await sleep(500);
          if (changes.generation() === last) break;
        }
        const quiet = changes.generation();
        assert.notEqual(quiet, undefined);
        await sleep(500);
        assert.equal(changes.generation(), quiet, 'an idle namespace: no count');
        const steps: [string, string[]][] = [
          ['route', ['route', 'add', '198.51.100.0/24', 'dev', 'lo', 'table', '1001']],
          ['rule', ['rule', 'add', 'fwmark', '0x100/0xff00', 'lookup', '1001', 'priority', '1000']],
          ['address', ['address', 'add', '198.18.5.5/32', 'dev', 'lo']],
          ['link', ['link', 'set', 'lo', 'mtu', '60000']],
        ];
        for (const [what, args] of steps) {
          const before = changes.generation();
          await ip(...args);
          assert.ok(await moved(before), `${what} change counted`);
        }
      } finally {
        changes.stop();
      }
      assert.equal(changes.generation(), undefined);
    });
  });
});
