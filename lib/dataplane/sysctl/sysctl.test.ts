import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { privilegedSkipReason, withLab } from '../testing/lab.js';
import type { HelperOutput } from '../testing/lab.js';
import { SysctlDriver, type SysctlResult } from './sysctl-driver.js';
import { sysctlPath } from './sysctl-path.js';

describe('sysctlPath', () => {
  const cases: [string, string][] = [
    ['net.ipv4.ip_forward', '/proc/sys/net/ipv4/ip_forward'],
    ['net.ipv4.conf.egress/vxlan.rp_filter', '/proc/sys/net/ipv4/conf/egress.vxlan/rp_filter'],
    ['net.ipv6.conf.eth0/100.forwarding', '/proc/sys/net/ipv6/conf/eth0.100/forwarding'],
  ];
  for (const [key, path] of cases) test(`${key} → ${path}`, () => assert.equal(sysctlPath(key), path));

  for (const bad of ['', 'net..ipv4', 'net.ipv4./', 'net.//.x', 'net.ipv4.']) {
    test(`refuses "${bad}"`, () => assert.throws(() => sysctlPath(bad), { code: 'EGW_ERR_SYSCTL' }));
  }
});

describe('SysctlDriver on a fake /proc/sys', () => {
  async function fakeRoot(files: Record<string, string>): Promise<string> {
    const root = await mkdtemp(join(tmpdir(), 'sl-sysctl-'));
    for (const [key, value] of Object.entries(files)) {
      const path = sysctlPath(key, root);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, value);
    }
    return root;
  }

  test('writes only differing keys, reports missing ones, leaves others alone', async () => {
    const root = await fakeRoot({
      'net.ipv4.ip_forward': '0\n',
      'net.ipv4.conf.egress/vxlan.rp_filter': '2\n',
      'net.ipv4.tcp_rmem': '4096\t131072\t6291456\n',
      'net.ipv4.conf.all.rp_filter': '1\n',
    });
    try {
      const driver = new SysctlDriver({ root });
      const entries = [
        { key: 'net.ipv4.ip_forward', value: '1' },
        { key: 'net.ipv4.conf.egress/vxlan.rp_filter', value: '2' },
        { key: 'net.ipv4.tcp_rmem', value: '4096 131072 6291456' },
        { key: 'net.netfilter.nf_conntrack_tcp_loose', value: '1' },
      ];
      const first = await driver.apply(entries);
      assert.equal(first.writes, 1);
      assert.deepEqual(first.changed, [{ key: 'net.ipv4.ip_forward', from: '0', to: '1' }]);
      assert.deepEqual(first.missing, ['net.netfilter.nf_conntrack_tcp_loose']);
      assert.deepEqual(first.errors, []);
      assert.equal(await readFile(sysctlPath('net.ipv4.ip_forward', root), 'utf8'), '1\n');
      assert.equal(await readFile(sysctlPath('net.ipv4.conf.all.rp_filter', root), 'utf8'), '1\n');
      assert.equal((await driver.apply(entries)).writes, 0);
      assert.deepEqual(await driver.observe(['net.ipv4.ip_forward', 'net.nope']), [{ key: 'net.ipv4.ip_forward', value: '1\n' }, { key: 'net.nope' }]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  test('a bad key is an error for that key only', async () => {
    const root = await fakeRoot({ 'net.ipv4.ip_forward': '0\n' });
    try {
      const r = await new SysctlDriver({ root }).apply([
        { key: 'net..x', value: '1' },
        { key: 'net.ipv4.ip_forward', value: '1' },
      ]);
      assert.equal(r.writes, 1);
      assert.equal(r.errors.length, 1);
      assert.equal(r.errors[0]!.code, 'EGW_ERR_SYSCTL');
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('SysctlDriver in a network namespace', { skip: privilegedSkipReason() }, () => {
  test('writes per-namespace keys only when different, including a device name with a dot', async () => {
    const rootBefore = await readFile('/proc/sys/net/ipv4/ip_forward', 'utf8');
    await withLab('sysctl', ['a', { ipv4: '198.18.0.11' }], ['b', { ipv4: '198.18.0.12' }], async (lab) => {
      await lab.ip('a', ['link', 'add', 'egress.vxlan', 'type', 'veth', 'peer', 'name', 'evx-peer']);
      const entries = [
        { key: 'net.ipv4.conf.egress/vxlan.rp_filter', value: '2' },
        { key: 'net.ipv4.ip_forward', value: '1' },
        { key: 'net.ipv4.conf.nosuch0.rp_filter', value: '2' },
      ];
      await lab.sh('a', 'echo 0 > /proc/sys/net/ipv4/conf/egress.vxlan/rp_filter; echo 0 > /proc/sys/net/ipv4/ip_forward');
      const out = await lab.helper<HelperOutput>('a', {
        steps: [
          { op: 'sysctls.apply', entries },
          { op: 'sysctls.apply', entries },
        ],
      });
      const [first, second] = out.results as SysctlResult[];
      assert.equal(first!.writes, 2);
      assert.deepEqual(first!.missing, ['net.ipv4.conf.nosuch0.rp_filter']);
      assert.deepEqual(first!.errors, []);
      assert.equal(second!.writes, 0);
      assert.equal(await lab.sh('a', 'cat /proc/sys/net/ipv4/conf/egress.vxlan/rp_filter /proc/sys/net/ipv4/ip_forward'), '2\n1');

      await lab.sh('a', 'echo 1 > /proc/sys/net/ipv4/conf/egress.vxlan/rp_filter');
      const again = await lab.helper<HelperOutput>('a', { steps: [{ op: 'sysctls.apply', entries }] });
      assert.equal((again.results[0] as SysctlResult).writes, 1, 'a fresh instance rewrites only the key that drifted');
    });
    assert.equal(await readFile('/proc/sys/net/ipv4/ip_forward', 'utf8'), rootBefore, 'the root namespace is untouched');
  });
});
