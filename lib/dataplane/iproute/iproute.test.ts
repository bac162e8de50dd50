import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runBatch } from './batch.js';
import { readBatch } from './batch-read.js';
import type { Exec } from './exec.js';
import { splitJsonValues } from './json-stream.js';
import { ifnameToken, intToken, macToken, prefixToken } from './tokens.js';

function fakeExec(stdout: string, stderr: string, exitCode: number, seen: { args?: readonly string[]; input?: string } = {}): Exec {
  return async (_file, args, input) => {
    seen.args = args;
    if (input !== undefined) seen.input = input;
    return { stdout, stderr, exitCode };
  };
}

describe('runBatch', () => {
  test('counts accepted lines and names the rejected ones', async () => {
    const seen: { args?: readonly string[]; input?: string } = {};
    const stderr = 'RTNETLINK answers: File exists\nCommand failed -:1\nCannot find device "nonexist"\nCommand failed -:3\n';
    const r = await runBatch(fakeExec('', stderr, 1, seen), 'ip', ['rule add a', 'route replace b', 'route add c', 'rule add d'], 6);
    assert.deepEqual(seen.args, ['-6', '-force', '-batch', '-']);
    assert.equal(seen.input, 'rule add a\nroute replace b\nroute add c\nrule add d\n');
    assert.equal(r.writes, 2);
    assert.deepEqual(r.failures, [
      { command: 'rule add a', message: 'RTNETLINK answers: File exists' },
      { command: 'route add c', message: 'Cannot find device "nonexist"' },
    ]);
  });
  test('nothing to do spawns nothing', async () => {
    const never: Exec = async () => assert.fail('spawned');
    assert.deepEqual(await runBatch(never, 'bridge', []), { writes: 0, failures: [] });
  });
  test('a tool that dies without naming a line wrote nothing we can count', async () => {
    const r = await runBatch(fakeExec('', 'Option "-batch" is unknown', 255), 'ip', ['a', 'b']);
    assert.equal(r.writes, 0);
    assert.equal(r.failures.length, 2);
  });
});

describe('readBatch', () => {
  test('matches outputs to the commands that did not fail', async () => {
    const out = '[{"a":1}]\n[{"s":"]\\" ["}]\n';
    const r = await readBatch(fakeExec(out, 'Device "x" does not exist.\nCommand failed -:2\n', 1), 'ip', ['one', 'two', 'three']);
    assert.deepEqual(r.rows, [[{ a: 1 }], undefined, [{ s: ']" [' }]]);
    assert.equal(r.failures.get(1), 'Device "x" does not exist.');
  });
  test('a mismatch between outputs and commands is an error, not a guess', async () => {
    await assert.rejects(readBatch(fakeExec('[]', '', 0), 'ip', ['one', 'two']), { code: 'EGW_ERR_NETLINK' });
  });
});

test('splitJsonValues', () => {
  assert.deepEqual(splitJsonValues('[]\n[1,[2]]{"k":"v}"}'), [[], [1, [2]], { k: 'v}' }]);
});

describe('tokens: plan values that reach a batch line', () => {
  test('accept ordinary values, canonicalised', () => {
    assert.equal(ifnameToken('egress.vxlan'), 'egress.vxlan');
    assert.equal(macToken('02:AB:3a:ba:d3:8d'), '02:ab:3a:ba:d3:8d');
    assert.equal(prefixToken('10.244.1.5', 4), '10.244.1.5/32');
    assert.equal(prefixToken('FD10:244:1:0::/64', 6), 'fd10:244:1::/64');
    assert.equal(prefixToken('default', 6), 'default');
  });
  const bad: [string, () => unknown][] = [
    ['interface with a space', () => ifnameToken('eth0 up')],
    ['interface with a newline', () => ifnameToken('eth0\nlink del eth0')],
    ['16-character interface', () => ifnameToken('abcdefghijklmnop')],
    ['empty MAC (a tunnel without status)', () => macToken('')],
    ['MAC with trailing words', () => macToken('02:ab:3a:ba:d3:8d dev eth0')],
    ['prefix with trailing words', () => prefixToken('10.0.0.0/8 table 5', 4)],
    ['prefix length too long', () => prefixToken('10.0.0.0/33', 4)],
    ['prefix of the wrong family', () => prefixToken('fd00::/8', 4)],
    ['fractional number', () => intToken(1.5, 0, 10, 'VNI')],
  ];
  for (const [name, fn] of bad) test(`refuse ${name}`, () => assert.throws(fn, { code: 'EGW_ERR_PLAN' }));
});
