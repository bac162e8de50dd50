import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { privilegedSkipReason, withLab } from '../testing/lab.js';
import { subscribeIpMonitor, type MonitorObject } from './shared-ip-monitor.js';

/** This process's `ip … monitor` children for one namespace, by pid. */
async function monitorsOf(ns: string): Promise<number[]> {
  const pids: number[] = [];
  for (const tid of await readdir('/proc/self/task')) {
    const children = await readFile(`/proc/self/task/${tid}/children`, 'utf8').catch(() => '');
    for (const pid of children.split(' ').filter(Boolean).map(Number)) {
      const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
      if (argv.includes('monitor') && argv.includes(ns)) pids.push(pid);
    }
  }
  return pids;
}

async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) assert.fail(`not within ${ms} ms: ${what}`);
    await sleep(20);
  }
}

class Recorder {
  readonly lines: string[] = [];
  readonly running: boolean[] = [];
  constructor(readonly objects: MonitorObject[]) {}
  subscription(netns: string) {
    return { objects: this.objects, netns, onLine: (l: string) => void this.lines.push(l), onRunning: (r: boolean) => void this.running.push(r) };
  }
}

describe('the shared ip monitor in a network namespace', { skip: privilegedSkipReason() }, () => {
  test('one process feeds every subscriber the objects it asked for; it restarts for all; it ends with the last one', async () => {
    await withLab('ipmon', ['w', { ipv4: '198.18.0.11' }], ['g', { ipv4: '198.18.0.12' }], async (lab) => {
      const ns = lab.ns('w');
      const ip = (...args: string[]) => execa('ip', ['-n', ns, ...args]);
      const device = new Recorder(['link', 'address']);
      const kernel = new Recorder(['link', 'address', 'route', 'rule', 'netconf']);
      // made in one tick, as the agent makes them: one start
      const a = subscribeIpMonitor(device.subscription(ns));
      const b = subscribeIpMonitor(kernel.subscription(ns));
      try {
        await until('both see it running', () => device.running.at(-1) === true && kernel.running.at(-1) === true);
        assert.deepEqual(device.running, [true]);
        assert.deepEqual(kernel.running, [true]);
        assert.equal((await monitorsOf(ns)).length, 1, 'one ip monitor process');
        await sleep(300); // the monitor binds its socket after it starts

        await ip('route', 'add', '198.51.100.0/24', 'dev', 'lo', 'table', '1001');
        await until('the route reaches its subscriber', () => kernel.lines.some((l) => l.includes('198.51.100.0/24')));
        await ip('address', 'add', '198.18.5.5/32', 'dev', 'lo');
        await until('the address reaches both', () => [device, kernel].every((r) => r.lines.some((l) => l.includes('198.18.5.5/32'))));
        assert.ok(!device.lines.some((l) => l.includes('198.51.100.0/24')), 'no route lines for a subscriber of links and addresses');
        assert.match(
          device.lines.find((l) => l.includes('198.18.5.5/32'))!,
          /^\d+: lo\s+inet 198\.18\.5\.5\/32/,
          'lines come without the label',
        );

        // killed behind our back: both see the stop, one process comes back (1 s later), lines flow again
        const [pid] = await monitorsOf(ns);
        process.kill(pid!, 'SIGKILL');
        await until('both see it stop and start again', () => [device, kernel].every((r) => r.running.join() === 'true,false,true'));
        assert.equal((await monitorsOf(ns)).length, 1, 'one ip monitor process after the restart');
        await sleep(300);
        await ip('address', 'add', '198.18.5.6/32', 'dev', 'lo');
        await until('lines flow after the restart', () => [device, kernel].every((r) => r.lines.some((l) => l.includes('198.18.5.6/32'))));

        a.stop();
        assert.equal((await monitorsOf(ns)).length, 1, 'still running for the other subscriber');
      } finally {
        a.stop();
        b.stop();
      }
      await until('the process ends with the last subscriber', async () => (await monitorsOf(ns)).length === 0);
    });
  });

  test('a later subscriber asking for more restarts the process with both sets; one asking for less joins it', async () => {
    await withLab('ipmon2', ['w', { ipv4: '198.18.0.11' }], ['g', { ipv4: '198.18.0.12' }], async (lab) => {
      const ns = lab.ns('w');
      const ip = (...args: string[]) => execa('ip', ['-n', ns, ...args]);
      const first = new Recorder(['link', 'address']);
      const second = new Recorder(['rule']);
      const third = new Recorder(['link']);
      const a = subscribeIpMonitor(first.subscription(ns));
      let b: ReturnType<typeof subscribeIpMonitor> | undefined;
      let c: ReturnType<typeof subscribeIpMonitor> | undefined;
      try {
        await until('running', () => first.running.at(-1) === true);
        const [before] = await monitorsOf(ns);
        b = subscribeIpMonitor(second.subscription(ns));
        await until('restarted with rules', () => second.running.at(-1) === true && first.running.join() === 'true,false,true');
        const after = await monitorsOf(ns);
        assert.equal(after.length, 1);
        assert.notEqual(after[0], before, 'a new process');
        c = subscribeIpMonitor(third.subscription(ns));
        await until('the third sees it running', () => third.running.at(-1) === true);
        assert.deepEqual(await monitorsOf(ns), after, 'joined without a restart');
        assert.equal(first.running.join(), 'true,false,true');
        await sleep(300);
        await ip('rule', 'add', 'fwmark', '0x100/0xff00', 'lookup', '1001', 'priority', '1000');
        await ip('address', 'add', '198.18.5.7/32', 'dev', 'lo');
        await until('the rule and the address reach theirs', () => second.lines.some((l) => l.includes('lookup 1001')) && first.lines.some((l) => l.includes('198.18.5.7/32')));
        assert.ok(!first.lines.some((l) => l.includes('lookup 1001')));
        assert.ok(!second.lines.some((l) => l.includes('198.18.5.7/32')));
        assert.ok(!third.lines.some((l) => l.includes('198.18.5.7/32') || l.includes('lookup 1001')));
      } finally {
        a.stop();
        b?.stop();
        c?.stop();
      }
      await until('the process ends with the last subscriber', async () => (await monitorsOf(ns)).length === 0);
    });
  });
});
