import assert from 'node:assert/strict';
import { test } from 'node:test';
import { labPrefix } from './names.js';
import { planLab } from './plan.js';

const shape = { workers: 2, gateways: 2, ipv6: true, nodeGraceSeconds: 5, plugins: [] };

test('a plan names nodes workers-first and numbers LAN IPs and podCIDRs together', () => {
  const s = planLab('demo', '/tmp/x/demo', shape);
  assert.deepEqual(
    s.nodes.map((n) => [n.name, n.role, n.ips[0], n.podCIDRs[0]]),
    [
      ['worker-1', 'worker', '198.18.0.11', '10.244.1.0/24'],
      ['worker-2', 'worker', '198.18.0.12', '10.244.2.0/24'],
      ['gateway-1', 'gateway', '198.18.0.13', '10.244.3.0/24'],
      ['gateway-2', 'gateway', '198.18.0.14', '10.244.4.0/24'],
    ],
  );
  assert.deepEqual(s.nodes[0]!.ips, ['198.18.0.11', 'fd00:198:18::11']);
});

test('every namespace carries the lab prefix and fits an interface name', () => {
  const s = planLab('a-rather-long-lab-name-for-testing', '/tmp/x', { ...shape, workers: 40, gateways: 40 });
  const names = [s.netns.lan, s.netns.ext, s.netns.control, ...s.nodes.map((n) => n.netns)];
  assert.equal(new Set(names).size, names.length);
  for (const n of names) {
    assert.ok(n.startsWith(s.prefix), n);
    assert.ok(n.length <= 15, n);
  }
});

test('prefixes differ between lab names and are stable', () => {
  assert.match(labPrefix('x'), /^sl[0-9a-f]{4}-$/);
  assert.equal(labPrefix('x'), labPrefix('x'));
  assert.notEqual(labPrefix('lab-a'), labPrefix('lab-b'));
});

test('an IPv4-only plan has no IPv6 addresses', () => {
  const s = planLab('v4', '/tmp/x', { ...shape, ipv6: false });
  assert.deepEqual(s.nodes[0]!.ips, ['198.18.0.11']);
  assert.deepEqual(s.nodes[0]!.podCIDRs, ['10.244.1.0/24']);
});

test('bad shapes are refused with the flag name', () => {
  assert.throws(() => planLab('x', '/tmp/x', { ...shape, workers: 0, gateways: 0 }), /1\.\.80 nodes/);
  assert.throws(() => planLab('x', '/tmp/x', { ...shape, workers: -1 }), /--workers/);
  assert.throws(() => planLab('x', '/tmp/x', { ...shape, nodeGraceSeconds: 0 }), /--node-grace/);
  assert.throws(() => planLab('Bad Name', '/tmp/x', shape), /invalid lab name/);
});
