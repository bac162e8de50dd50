import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { EipLifetime, lifetimeCommand } from './eip-lifetime.js';

const TAG = 0x51ce;
const V4 = { ip: '198.18.0.105', family: 4 as const, interface: 'eth0' };
const V6 = { ip: 'fd00:198:18::105', family: 6 as const, interface: 'eth0' };

/** An `ip -batch -` stand-in: records every line written to it. */
function fakeIp() {
  const lines: string[] = [];
  let spawned = 0;
  let proc: (EventEmitter & { stdin: PassThrough; stdout: PassThrough; stderr: PassThrough }) | undefined;
  const spawnIp = () => {
    spawned++;
    const p = Object.assign(new EventEmitter(), { stdin: new PassThrough(), stdout: new PassThrough(), stderr: new PassThrough() });
    p.stdin.setEncoding('utf8').on('data', (chunk: string) => lines.push(...chunk.split('\n').filter(Boolean)));
    p.stdin.on('finish', () => setImmediate(() => p.emit('exit', 0)));
    proc = p;
    return p as unknown as ChildProcessWithoutNullStreams;
  };
  return { lines, spawnIp, spawned: () => spawned, proc: () => proc! };
}

test('the renewal keeps the tag and, for IPv6, the flags the EIP was added with', () => {
  assert.equal(lifetimeCommand(V4, TAG, 5), 'addr change 198.18.0.105/32 dev eth0 metric 20942 valid_lft 5 preferred_lft 5');
  assert.equal(lifetimeCommand(V6, TAG, 5), 'addr change fd00:198:18::105/128 dev eth0 metric 20942 valid_lft 5 nodad noprefixroute preferred_lft 0');
  assert.equal(lifetimeCommand(V4, TAG, 'forever'), 'addr change 198.18.0.105/32 dev eth0 metric 20942 valid_lft forever preferred_lft forever');
});

test('held EIPs are renewed at once and then every interval, through one ip process', async () => {
  const ip = fakeIp();
  const l = new EipLifetime({ lifetimeS: 5, renewMs: 20, tag: TAG, onError: assert.fail, spawnIp: ip.spawnIp });
  l.hold([V4]);
  assert.deepEqual(ip.lines, [lifetimeCommand(V4, TAG, 5)], 'a new EIP at once');
  // a loaded machine delays timers: wait for two renewals rather than for a time
  for (const until = Date.now() + 5000; ip.lines.length < 3 && Date.now() < until;) await sleep(10);
  assert.ok(ip.lines.length >= 3, `renewed every interval: ${ip.lines.length}`);
  assert.equal(ip.spawned(), 1);
  await l.stop(false);
});

test('an EIP no other node could carry is held for good, and gets a lifetime again once one could', async () => {
  const ip = fakeIp();
  // no renewal by the interval during the test: only what hold() writes at once
  const l = new EipLifetime({ lifetimeS: 5, renewMs: 60_000, tag: TAG, onError: assert.fail, spawnIp: ip.spawnIp });
  l.hold([V4, V6], new Set([V4.ip]));
  assert.deepEqual(ip.lines, [lifetimeCommand(V4, TAG, 'forever'), lifetimeCommand(V6, TAG, 5)]);
  ip.lines.length = 0;
  l.hold([V4, V6]);
  assert.deepEqual(ip.lines, [lifetimeCommand(V4, TAG, 5), lifetimeCommand(V6, TAG, 5)], 'at once when the standing changes, not at the next interval');
  await l.stop(false);
});

test('narrowed before an apply: an EIP the next plan drops is renewed no more (a renewal would add it back)', async () => {
  const ip = fakeIp();
  const l = new EipLifetime({ lifetimeS: 5, renewMs: 20, tag: TAG, onError: assert.fail, spawnIp: ip.spawnIp });
  l.hold([V4, V6]);
  l.narrow(new Set([V6.ip]));
  await sleep(10);
  ip.lines.length = 0;
  await sleep(50);
  assert.ok(ip.lines.length > 0);
  assert.ok(
    ip.lines.every((line) => line.includes(V6.ip)),
    ip.lines.join('\n'),
  );
  l.hold([]);
  await sleep(10);
  ip.lines.length = 0;
  await sleep(50);
  assert.deepEqual(ip.lines, [], 'nothing held: nothing renewed');
  await l.stop(false);
});

test('a stop that keeps the EIPs over a restart makes their lifetime infinite; one that does not leaves them to expire', async () => {
  const kept = fakeIp();
  const a = new EipLifetime({ lifetimeS: 5, renewMs: 1_000, tag: TAG, onError: assert.fail, spawnIp: kept.spawnIp });
  a.hold([V4]);
  await a.stop(true);
  assert.equal(kept.lines.at(-1), lifetimeCommand(V4, TAG, 'forever'));
  a.hold([V6]);
  assert.equal(kept.lines.length, 2, 'nothing after the stop');
  const dropped = fakeIp();
  const b = new EipLifetime({ lifetimeS: 5, renewMs: 1_000, tag: TAG, onError: assert.fail, spawnIp: dropped.spawnIp });
  b.hold([V4]);
  await b.stop(false);
  assert.deepEqual(dropped.lines, [lifetimeCommand(V4, TAG, 5)]);
});

test('an error line of ip is reported once; an ip that exits is started again at the next renewal', async () => {
  const ip = fakeIp();
  const errors: string[] = [];
  const l = new EipLifetime({ lifetimeS: 5, renewMs: 20, tag: TAG, onError: (m) => errors.push(m), spawnIp: ip.spawnIp });
  l.hold([V4]);
  ip.proc().stderr.write('RTNETLINK answers: No such device\nRTNETLINK answers: No such device\n');
  await sleep(5);
  assert.equal(errors.length, 1, errors.join('\n'));
  ip.proc().emit('exit', 1);
  await sleep(50);
  assert.equal(ip.spawned(), 2);
  await l.stop(false);
});
